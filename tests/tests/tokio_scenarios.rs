//! The shared end-to-end scenarios (`mq_e2e::scenarios`) and crash tests
//! (`mq_e2e::crash`) run through mq-tokio: one `#[test]` per scenario and
//! protocol version, each with its own Mosquitto broker.
//!
//! The client is [`TokioClient`] of `tokio_client/mod.rs`, shared with
//! `tokio_interop.rs`.

mod tokio_client;

use std::time::Duration;

use mq_e2e::crash::{CrashClient, Outcomes, Pending, Started};
use mq_e2e::scenarios::{ClientError, Message};
use mq_proto::{Publish, QoS, ReasonCode};
use mq_tokio::{ConnectOptions, Error};
use tokio_client::{block_on, map_error, TokioClient, TokioMessages};

mq_e2e::scenario_tests!(TokioClient);
mq_e2e::cluster_tests!(TokioClient);
mq_e2e::closing_tests!(TokioClient);

/// A publish handed over, for the crash tests.
pub struct TokioPending(mq_tokio::PublishToken);

/// Restored publishes' outcomes.
pub struct TokioOutcomes(mq_tokio::RestoredOutcomes);

impl Pending for TokioPending {
    fn wait(self, timeout: Duration) -> Result<ReasonCode, ClientError> {
        block_on(async { tokio::time::timeout(timeout, self.0).await })
            .unwrap_or(Err(Error::Timeout))
            .map_err(map_error)
    }
}

impl Outcomes for TokioOutcomes {
    fn recv_timeout(
        &mut self,
        timeout: Duration,
    ) -> Option<(Publish, Result<ReasonCode, ClientError>)> {
        let outcome =
            block_on(async { tokio::time::timeout(timeout, self.0.recv()).await }).ok()??;
        Some((outcome.publish, outcome.result.map_err(map_error)))
    }
}

impl CrashClient for TokioClient {
    type Pending = TokioPending;
    type Outcomes = TokioOutcomes;

    fn start(
        url: &str,
        options: ConnectOptions,
        subscribe: Option<(&str, QoS)>,
    ) -> Result<Started<Self>, ClientError> {
        block_on(async {
            let mut prepared = mq_tokio::prepare(url, options).await?;
            let restored = TokioOutcomes(prepared.client().restored_outcomes());
            let messages = match subscribe {
                Some((filter, qos)) => Some(TokioMessages(
                    prepared.subscribe(filter.to_string()).qos(qos).await?,
                )),
                None => None,
            };
            let unrouted = TokioMessages(prepared.unrouted_messages().await?);
            Ok(Started {
                client: TokioClient(prepared.connect().await?),
                messages,
                unrouted,
                restored,
            })
        })
        .map_err(map_error)
    }

    fn send(&self, p: Publish) -> Result<TokioPending, ClientError> {
        block_on(self.0.publish(p.topic, p.payload).qos(p.qos).send())
            .map(TokioPending)
            .map_err(map_error)
    }

    fn ack(&self, msg: &Message) -> Result<(), ClientError> {
        block_on(self.0.ack(msg)).map_err(map_error)
    }
}

mq_e2e::crash_tests!(TokioClient);
