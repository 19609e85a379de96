//! # mq-proto
//!
//! The sans-IO core of the `mq` MQTT client: every protocol decision of MQTT
//! 3.1.1 and 5.0, with no sockets, clocks, threads or randomness inside.
//!
//! * [`codec`] (its items re-exported here): all fifteen control packets of
//!   both versions, the 27 MQTT 5.0 properties with their per-packet rules,
//!   every reason code, and a streaming [`Decoder`];
//! * [`topic`]: topic name and filter validation and matching, shared
//!   subscriptions; [`url`]: broker URLs as users write them;
//! * [`client`]: the client state machine, driven by the caller's I/O and
//!   clock: connect and the 3.1.1 fallback, keep alive, the QoS 1 and 2
//!   flows, flow control, topic aliases, enhanced authentication (SCRAM-SHA-256
//!   with the `scram` feature), the reconnect delay and the updates a durable
//!   session store records.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use mq_proto::{Decoder, Packet, ProtocolVersion, Publish, QoS};
//!
//! // Encode a QoS 1 PUBLISH into a reusable buffer...
//! let mut publish = Publish::new("sensors/1/temp", Bytes::from_static(b"21.5"));
//! publish.qos = QoS::AtLeastOnce;
//! publish.packet_id = 1;
//! let mut buf = BytesMut::new();
//! Packet::Publish(publish.clone()).encode(ProtocolVersion::V5, &mut buf)?;
//!
//! // ...and decode it back, one byte at a time as a socket might deliver it.
//! let decoder = Decoder::new(ProtocolVersion::V5);
//! let mut read_buf = BytesMut::new();
//! let mut packets = Vec::new();
//! for byte in buf.iter() {
//!     read_buf.extend_from_slice(&[*byte]);
//!     while let Some(packet) = decoder.decode(&mut read_buf)? {
//!         packets.push(packet);
//!     }
//! }
//! assert_eq!(packets, vec![Packet::Publish(publish)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Guides
//!
//! [How mq is built][how mq is built] shows where this crate sits; the
//! other guides in the repository's `docs/` directory are for users of the
//! clients: [getting started], [running in production][running in
//! production], [troubleshooting], [durable sessions][durable sessions] and
//! [migrating from rumqttc][migrating from rumqttc].
//!
//! [getting started]: https://github.com/mq-rs/mq/blob/main/docs/getting-started.md
//! [running in production]: https://github.com/mq-rs/mq/blob/main/docs/production.md
//! [troubleshooting]: https://github.com/mq-rs/mq/blob/main/docs/troubleshooting.md
//! [durable sessions]: https://github.com/mq-rs/mq/blob/main/docs/persistence.md
//! [migrating from rumqttc]: https://github.com/mq-rs/mq/blob/main/docs/migrating-from-rumqttc.md
//! [how mq is built]: https://github.com/mq-rs/mq/blob/main/docs/internals.md
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod client;
pub mod codec;
pub mod topic;
pub mod url;

pub use codec::*;
