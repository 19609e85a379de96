//! # mq-proto
//!
//! The sans-IO core of the `mq` MQTT client: every protocol decision of MQTT
//! 3.1.1 and 5.0, with no sockets, clocks, threads or randomness inside.
//!
//! This release holds the codec: all fifteen control packets of both
//! versions, the 27 MQTT 5.0 properties with their per-packet rules, every
//! reason code, topic validation and matching, and a streaming [`Decoder`].
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
