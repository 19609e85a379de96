//! A durable session on smol (or async-std, with `Executor::AsyncStd`): what
//! this program publishes at QoS 1 survives a crash, and what it receives is
//! acknowledged only once handled. See mq-tokio's `durable` example.
//!
//! `cargo run -p mq-smol --example smol_durable -- [mqtt://127.0.0.1:1883] [store dir]`

use std::sync::Arc;
use std::time::Duration;

use futures_lite::FutureExt;
use mq_smol::store::FileStore;
use mq_smol::{ConnectOptions, QoS};

const CLIENT_ID: &str = "mq-smol-durable-example";

/// `fut`'s output, or `None` after `limit`.
async fn within<T>(limit: Duration, fut: impl std::future::Future<Output = T>) -> Option<T> {
    async { Some(fut.await) }
        .or(async {
            async_io::Timer::after(limit).await;
            None
        })
        .await
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    smol::block_on(async {
        let mut args = std::env::args().skip(1);
        let url = args
            .next()
            .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
        let dir = args
            .next()
            .map_or_else(|| std::env::temp_dir().join("mq-smol-durable"), Into::into);

        let mut opts = ConnectOptions::new(CLIENT_ID);
        opts.mqtt.clean_start = false;
        opts.mqtt.session_expiry_interval = 3600;
        opts.session_store = Some(Arc::new(FileStore::open(&dir, CLIENT_ID)?));
        opts.manual_acks = true;

        let mut prepared = mq_smol::prepare(&url, opts).await?;
        let mut inbox = prepared
            .subscribe("mq-example/durable/#", QoS::AtLeastOnce)
            .await?;
        let mut restored = prepared.client().restored_outcomes();
        let client = prepared.connect().await?;

        while let Some(Some(outcome)) = within(Duration::from_millis(500), restored.recv()).await {
            let text = String::from_utf8_lossy(&outcome.publish.payload);
            println!("from an earlier run: {text:?}: {:?}", outcome.result);
        }
        for i in 1..=3 {
            let text = format!("message {i} of pid {}", std::process::id());
            client
                .publish("mq-example/durable/news", text)
                .qos(QoS::AtLeastOnce)
                .await?;
        }
        while let Some(Some(msg)) = within(Duration::from_secs(1), inbox.recv()).await {
            println!("received {:?}", String::from_utf8_lossy(&msg.payload));
            client.ack(&msg).await?;
        }
        client.disconnect().await?;
        Ok(())
    })
}
