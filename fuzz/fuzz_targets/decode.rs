//! Feeds arbitrary bytes to the streaming [`Decoder`].
//!
//! Input layout:
//! - byte 0: bit 0 picks the version (0: 3.1.1, 1: 5.0); bit 1 sets a small
//!   Maximum Packet Size of `2 + (byte 0 >> 2)`; bits 2..4 give `n`, the
//!   number of chunk-size bytes that follow;
//! - `n` bytes: the sizes of the chunks the stream is cut into (cycled; 0 counts as 1);
//! - the rest: the byte stream.
//!
//! Nothing may panic, and every packet that decodes must encode again
//! (with `encoded_len` equal to the bytes written) and decode to an equal
//! packet; a decoded PUBLISH's property accessors (read from the wire bytes)
//! must agree with its parsed property fields.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mq_proto::{Decoder, Packet, Properties, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let version = if head & 1 == 0 {
        ProtocolVersion::V311
    } else {
        ProtocolVersion::V5
    };
    let mut decoder = Decoder::new(version);
    if head & 2 != 0 {
        decoder.set_max_packet_size(2 + u32::from(head >> 2));
    }
    let n = usize::from((head >> 2) & 0x07).min(rest.len());
    let (sizes, mut stream) = rest.split_at(n);

    // The whole stream as one frame: must return, Ok or Err.
    let _ = Packet::decode(&bytes::Bytes::copy_from_slice(stream), version);

    let mut buf = BytesMut::new();
    let mut sizes = sizes.iter().map(|&s| usize::from(s).max(1)).cycle();
    while !stream.is_empty() {
        let take = sizes.next().unwrap_or(stream.len()).min(stream.len());
        let (chunk, tail) = stream.split_at(take);
        stream = tail;
        buf.extend_from_slice(chunk);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(packet)) => {
                    if let Packet::Publish(p) = &packet {
                        check_accessors(&p.properties);
                    }
                    check_reencodes(&packet, version)
                }
                Ok(None) => break,
                // The connection would be closed here; nothing more to read.
                Err(_) => return,
            }
        }
    }
});

/// A decoded packet is valid, so it must encode and decode back to itself.
fn check_reencodes(packet: &Packet, version: ProtocolVersion) {
    let mut out = BytesMut::new();
    let written = match packet.encode(version, &mut out) {
        Ok(n) => n,
        Err(e) => panic!("decoded packet does not encode: {e}\n{packet:?}"),
    };
    assert_eq!(written, out.len());
    assert_eq!(packet.encoded_len(version), Ok(written));
    match Packet::decode(&out.freeze(), version) {
        Ok(again) => assert_eq!(&again, packet),
        Err(e) => panic!("re-encoded packet does not decode: {e}\n{packet:?}"),
    }
}

/// The accessors (no allocation, read from the wire bytes) read what the
/// fields (parsed into owned values) hold.
fn check_accessors(p: &Properties) {
    let v = p.values();
    assert_eq!(p.payload_format_indicator(), v.payload_format_indicator);
    assert_eq!(p.message_expiry_interval(), v.message_expiry_interval);
    assert_eq!(p.content_type(), v.content_type);
    assert_eq!(p.response_topic(), v.response_topic);
    assert_eq!(p.correlation_data(), v.correlation_data);
    assert_eq!(p.topic_alias(), v.topic_alias);
    assert!(p
        .subscription_identifiers()
        .eq(v.subscription_identifiers.iter().copied()));
    assert!(p.user_properties().eq(v.user_properties.iter().cloned()));
    assert_eq!(p.is_empty(), v.is_empty());
}
