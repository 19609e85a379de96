//! Tests of the `dump` example.
//!
//! An example cannot be imported and Cargo gives tests no path to example
//! binaries, so the example's source is compiled into this test with `#[path]`
//! and its `run` function, the whole program but the three lines of `main`,
//! is called with in-memory stdin, stdout and stderr. That is fast and needs no
//! nested `cargo run` (which would contend for the build lock and could rebuild).

#[allow(dead_code)]
#[path = "../examples/dump.rs"]
mod dump;

use bytes::Bytes;
use mq_proto::{
    Connect, DecodeError, Disconnect, Packet, ProtocolVersion, PubAck, Publish, QoS, ReasonCode,
    Subscribe,
};

/// Runs the dump on `input`; returns the exit status, stdout lines and stderr.
fn run(args: &[&str], input: &[u8]) -> (u8, Vec<String>, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = dump::run(&args, &mut &input[..], &mut out, &mut err);
    let lines = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    (status, lines, String::from_utf8(err).unwrap())
}

/// Encodes `packets` back to back; returns the bytes and each packet's offset.
fn capture(packets: &[Packet], version: ProtocolVersion) -> (Vec<u8>, Vec<usize>) {
    let (mut buf, mut offsets) = (Vec::new(), Vec::new());
    for p in packets {
        offsets.push(buf.len());
        p.encode(version, &mut buf).unwrap();
    }
    (buf, offsets)
}

/// What a 5.0 client sends: CONNECT, PUBLISH, PUBACK, SUBSCRIBE, PINGREQ, DISCONNECT.
fn client_session() -> Vec<Packet> {
    let mut connect = Connect::new(ProtocolVersion::V5, "c1");
    connect.keep_alive = 30;
    connect.properties.session_expiry_interval = Some(60);
    let mut publish = Publish::new("a/b", Bytes::from_static(b"hello"));
    publish.qos = QoS::AtLeastOnce;
    publish.packet_id = 7;
    publish.properties.topic_alias = Some(3);
    publish
        .properties
        .user_properties
        .push(("k".into(), "v".into()));
    let mut puback = PubAck::new(9);
    puback.reason_code = ReasonCode::NoMatchingSubscribers;
    vec![
        connect.into(),
        publish.into(),
        puback.into(),
        Subscribe::new(8, "x/+", QoS::ExactlyOnce).into(),
        Packet::PingReq,
        Disconnect::new(ReasonCode::Success).into(),
    ]
}

#[test]
fn prints_one_line_per_packet() {
    let (bytes, at) = capture(&client_session(), ProtocolVersion::V5);
    let (status, lines, err) = run(&["--version", "5", "-"], &bytes);
    assert_eq!((status, err.as_str()), (0, ""));
    let expected = [
        format!("{:>8}  CONNECT     flags=0000 v5 client_id=\"c1\" keep_alive=30 clean_start session_expiry_interval=60", at[0]),
        format!("{:>8}  PUBLISH     flags=0010 id=7 topic=\"a/b\" payload=5 topic_alias=3 user=[k=v]", at[1]),
        format!("{:>8}  PUBACK      flags=0000 id=9 rc=0x10(No matching subscribers)", at[2]),
        format!("{:>8}  SUBSCRIBE   flags=0010 id=8 filters=[x/+:qos2:rh0]", at[3]),
        format!("{:>8}  PINGREQ     flags=0000", at[4]),
        format!("{:>8}  DISCONNECT  flags=0000 rc=0x00(Success)", at[5]),
    ];
    assert_eq!(lines, expected);
}

#[test]
fn reads_a_file_as_3_1_1() {
    let mut publish = Publish::new("t", Bytes::from_static(b"xyz"));
    publish.retain = true;
    let (bytes, _) = capture(&[publish.into()], ProtocolVersion::V311);
    let path = std::env::temp_dir().join(format!("mq-dump-test-{}.bin", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let (status, lines, _) = run(&["--version", "4", path.to_str().unwrap()], &[]);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(status, 0);
    assert_eq!(
        lines,
        ["       0  PUBLISH     flags=0001 topic=\"t\" payload=3"]
    );
}

#[test]
fn stops_with_status_1_at_the_first_malformed_packet() {
    let (mut bytes, _) = capture(&client_session()[..2], ProtocolVersion::V5);
    let bad_at = bytes.len();
    // A PUBLISH whose flags say QoS 3, then a valid PINGREQ that must not be printed.
    bytes.extend_from_slice(&[0x36, 0x03, 0x00, 0x01, b'a', 0xC0, 0x00]);
    let (status, lines, err) = run(&[], &bytes);
    assert_eq!(status, 1);
    assert_eq!(lines.len(), 2);
    let reason = DecodeError::InvalidQoS("PUBLISH").to_string();
    assert_eq!(
        err,
        format!("dump: malformed PUBLISH at byte {bad_at}: {reason}\n")
    );
}

#[test]
fn refuses_packets_over_the_size_limit() {
    let (bytes, _) = capture(&client_session()[1..2], ProtocolVersion::V5);
    let (status, lines, err) = run(&["--max-packet-size", "10"], &bytes);
    assert_eq!((status, lines.len()), (1, 0));
    let reason = DecodeError::PacketTooLarge {
        size: bytes.len(),
        max: 10,
    };
    assert_eq!(err, format!("dump: malformed packet at byte 0: {reason}\n"));
}

#[test]
fn reports_a_trailing_incomplete_packet_with_status_2() {
    let (bytes, _) = capture(&client_session(), ProtocolVersion::V5);
    let cut = bytes.len() - 1;
    let (status, lines, err) = run(&[], &bytes[..cut]);
    assert_eq!((status, lines.len()), (2, 5));
    assert!(
        err.starts_with(&format!("dump: incomplete packet at byte {}:", cut - 1)),
        "{err}"
    );
}

#[test]
fn rejects_bad_arguments_with_usage() {
    let (status, lines, err) = run(&["--version", "3"], &[]);
    assert_eq!((status, lines.len()), (1, 0));
    assert!(
        err.contains("--version takes 4 or 5") && err.contains("usage: dump"),
        "{err}"
    );
}
