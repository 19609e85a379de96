//! Request/response (5.0, 4.10): a request carries a Response Topic and
//! Correlation Data; one subscription per client collects the replies.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use mq_proto::{MqttString, ProtocolVersion, QoS};
use tokio::sync::oneshot;

use crate::client::Client;
use crate::{Error, Message};

type Waiters = Arc<Mutex<HashMap<Bytes, oneshot::Sender<Message>>>>;

/// The reply subscription of one client and the requests waiting on it.
pub(crate) struct Responder {
    topic: MqttString,
    waiters: Waiters,
    next: AtomicU64,
}

impl Responder {
    async fn start(client: &Client) -> Result<Responder, Error> {
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let topic = MqttString::from(format!("mq/replies/{}/{nonce:x}", client.client_id()));
        let mut replies = client.subscribe(topic.clone(), QoS::AtLeastOnce).await?;
        let waiters: Waiters = Arc::default();
        let dispatch = waiters.clone();
        tokio::spawn(async move {
            while let Some(msg) = replies.recv().await {
                let Some(key) = msg.properties.correlation_data.clone() else {
                    continue;
                };
                let waiter = dispatch.lock().ok().and_then(|mut w| w.remove(&key));
                if let Some(waiter) = waiter {
                    let _ = waiter.send(msg);
                }
            }
        });
        Ok(Responder {
            topic,
            waiters,
            next: AtomicU64::new(1),
        })
    }
}

pub(crate) async fn request(
    client: &Client,
    topic: MqttString,
    payload: Bytes,
    timeout: Duration,
) -> Result<Message, Error> {
    if client.protocol_version() != ProtocolVersion::V5 {
        return Err(Error::Command(mq_proto::client::CommandError::NeedsV5(
            "request/response",
        )));
    }
    let responder = client
        .responder
        .get_or_try_init(|| Responder::start(client))
        .await?;
    let key = Bytes::from(
        responder
            .next
            .fetch_add(1, Ordering::Relaxed)
            .to_be_bytes()
            .to_vec(),
    );
    let (tx, rx) = oneshot::channel();
    if let Ok(mut waiters) = responder.waiters.lock() {
        waiters.insert(key.clone(), tx);
    }
    let forget = || {
        if let Ok(mut waiters) = responder.waiters.lock() {
            waiters.remove(&key);
        }
    };
    let sent = client
        .publish(topic, payload)
        .qos(QoS::AtLeastOnce)
        .response_topic(responder.topic.clone())
        .correlation_data(key.clone())
        .await;
    if let Err(e) = sent {
        forget();
        return Err(e);
    }
    match tokio::time::timeout(timeout, rx).await {
        Ok(Ok(msg)) => Ok(msg),
        Ok(Err(_)) => Err(Error::Closed),
        Err(_) => {
            forget();
            Err(Error::Timeout)
        }
    }
}
