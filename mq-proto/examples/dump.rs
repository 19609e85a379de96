//! `dump`: prints, one line per packet, the MQTT packets in the raw bytes that
//! one side of a connection sent.
//!
//! ```text
//! cargo run -p mq-proto --example dump -- [--version 4|5] [--max-packet-size N] [FILE | -]
//! ```
//!
//! FILE (or `-`, or nothing: standard input) holds the bytes of one direction
//! of a connection, for example a TCP stream saved as raw data by Wireshark.
//! `--version` says how to read packets before a CONNECT (default 5); a CONNECT
//! switches to the version it announces. `--max-packet-size` refuses larger
//! packets, as a client that announced that limit would. Each line holds the
//! byte offset, the type, the fixed-header flags, then what the packet carries
//! (packet id, topic, payload length, reason codes, properties; a subscription
//! reads `filter:qosN[:nl][:rap]:rhN`):
//!
//! ```text
//!        0  CONNECT     flags=0000 v5 client_id="c1" keep_alive=30 clean_start session_expiry_interval=60
//!       22  PUBLISH     flags=0010 id=7 topic="a/b" payload=5 topic_alias=3 user=[k=v]
//!       47  PUBACK      flags=0000 id=9 rc=0x10(No matching subscribers)
//!       52  SUBSCRIBE   flags=0010 id=8 filters=[x/+:qos2:rh0]
//! ```
//!
//! Exit status: 0 when every byte was decoded; 1 on a usage or I/O error, or at
//! the first malformed packet (its offset and the decode error go to stderr);
//! 2 when the input ends inside a packet (a truncated capture).

use std::io::{self, Read, Write};
use std::process::ExitCode;

use bytes::Bytes;
use mq_proto::{check_frame, Frame, Packet, Properties, ProtocolVersion, ReasonCode};

const USAGE: &str = "usage: dump [--version 4|5] [--max-packet-size N] [FILE | -]";

/// Why the dump stopped early: the exit status and the message for stderr.
type Failure = (u8, String);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (stdin, stdout) = (&mut io::stdin(), &mut io::stdout().lock());
    ExitCode::from(run(&args, stdin, stdout, &mut io::stderr()))
}

/// Parses `args`, reads the capture, writes the dump to `out` and the reason
/// it stopped early, if it did, to `err`; returns the exit status.
pub fn run(
    args: &[String],
    stdin: &mut impl Read,
    out: &mut impl Write,
    err: &mut impl Write,
) -> u8 {
    let result = parse_args(args).and_then(|(version, max, file)| {
        let (mut input, name) = (Vec::new(), file.as_deref().unwrap_or("-"));
        let read = match name {
            "-" => stdin.read_to_end(&mut input),
            path => std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut input)),
        };
        read.map_err(|e| (1, format!("cannot read {name}: {e}")))?;
        dump(input.into(), version, max, out)
    });
    match result {
        Ok(()) => 0,
        Err((status, msg)) => {
            let _ = writeln!(err, "dump: {msg}");
            status
        }
    }
}

fn parse_args(args: &[String]) -> Result<(ProtocolVersion, u32, Option<String>), Failure> {
    let usage = |msg: String| (1, format!("{msg}\n{USAGE}"));
    let (mut version, mut max, mut file) = (ProtocolVersion::V5, mq_proto::MAX_PACKET_SIZE, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().map(String::as_str).unwrap_or_default();
        match arg.as_str() {
            "--version" => match value() {
                "4" => version = ProtocolVersion::V311,
                "5" => version = ProtocolVersion::V5,
                v => return Err(usage(format!("--version takes 4 or 5, not {v:?}"))),
            },
            "--max-packet-size" => match value().parse() {
                Ok(n) => max = n,
                Err(_) => return Err(usage("--max-packet-size takes a byte count".into())),
            },
            f if file.is_none() && (f == "-" || !f.starts_with('-')) => file = Some(f.into()),
            other => return Err(usage(format!("unexpected argument {other:?}"))),
        }
    }
    Ok((version, max, file))
}

/// Writes one line per packet of `input`, up to the first malformed or incomplete one.
fn dump(
    input: Bytes,
    mut version: ProtocolVersion,
    max: u32,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let mut offset = 0;
    while offset < input.len() {
        let rest = &input[offset..];
        let header = match check_frame(rest, version, max) {
            Ok(Frame::Complete(header)) => header,
            Ok(Frame::Incomplete { needed }) => {
                let have = rest.len();
                let msg = format!("incomplete packet at byte {offset}: the input ends {have} bytes into it, at least {needed} more were needed");
                return Err((2, msg));
            }
            Err(e) => return Err((1, format!("malformed packet at byte {offset}: {e}"))),
        };
        let (len, name) = (header.packet_len(), header.packet_type.name());
        let packet = Packet::decode(&input.slice(offset..offset + len), version)
            .map_err(|e| (1, format!("malformed {name} at byte {offset}: {e}")))?;
        if let Packet::Connect(c) = &packet {
            version = c.protocol_version;
        }
        let (flags, fields) = (header.flags, describe(&packet));
        writeln!(out, "{offset:>8}  {name:<11} flags={flags:04b}{fields}")
            .map_err(|e| (1, format!("cannot write: {e}")))?;
        offset += len;
    }
    Ok(())
}

/// The fields of a packet, each as ` name=value`.
fn describe(packet: &Packet) -> String {
    let mut s = String::new();
    let props = match packet {
        Packet::Connect(c) => {
            let (v, id, keep_alive) = (c.protocol_version.level(), &c.client_id, c.keep_alive);
            s += &format!(" v{v} client_id={id:?} keep_alive={keep_alive}");
            if c.clean_start {
                s += " clean_start";
            }
            if let Some(w) = &c.will {
                let (topic, len, qos, retain) = (&w.topic, w.payload.len(), w.qos as u8, w.retain);
                s += &format!(" will=(topic={topic:?} payload={len} qos={qos} retain={retain}");
                properties(&mut s, &w.properties);
                s += ")";
            }
            if let Some(user) = &c.username {
                s += &format!(" username={user:?}");
            }
            if let Some(password) = &c.password {
                s += &format!(" password=<{} bytes>", password.as_bytes().len());
            }
            Some(&c.properties)
        }
        Packet::ConnAck(a) => {
            s += &format!(" session_present={}", a.session_present);
            ack(&mut s, None, &a.reason_code, &a.properties)
        }
        Packet::Publish(p) => {
            if p.qos as u8 > 0 {
                s += &format!(" id={}", p.packet_id);
            }
            s += &format!(" topic={:?} payload={}", p.topic, p.payload.len());
            Some(&p.properties)
        }
        Packet::PubAck(a) => ack(&mut s, a.packet_id, &a.reason_code, &a.properties),
        Packet::PubRec(a) => ack(&mut s, a.packet_id, &a.reason_code, &a.properties),
        Packet::PubRel(a) => ack(&mut s, a.packet_id, &a.reason_code, &a.properties),
        Packet::PubComp(a) => ack(&mut s, a.packet_id, &a.reason_code, &a.properties),
        Packet::Subscribe(sub) => {
            let filters = list(&sub.subscriptions, |s| {
                let o = s.options;
                let nl = if o.no_local { ":nl" } else { "" };
                let rap = if o.retain_as_published { ":rap" } else { "" };
                let (f, q) = (s.filter.escape_debug(), o.qos as u8);
                let rh = o.retain_handling as u8;
                format!("{f}:qos{q}{nl}{rap}:rh{rh}")
            });
            s += &format!(" id={} filters=[{filters}]", sub.packet_id);
            Some(&sub.properties)
        }
        Packet::SubAck(a) => {
            s += &format!(" id={} rc=[{}]", a.packet_id, list(&a.reason_codes, rc));
            Some(&a.properties)
        }
        Packet::Unsubscribe(u) => {
            let filters = list(&u.filters, |f| f.escape_debug().to_string());
            s += &format!(" id={} filters=[{filters}]", u.packet_id);
            Some(&u.properties)
        }
        Packet::UnsubAck(a) => {
            s += &format!(" id={} rc=[{}]", a.packet_id, list(&a.reason_codes, rc));
            Some(&a.properties)
        }
        Packet::PingReq | Packet::PingResp => None,
        Packet::Disconnect(d) => ack(&mut s, None, &d.reason_code, &d.properties),
        Packet::Auth(a) => ack(&mut s, None, &a.reason_code, &a.properties),
    };
    if let Some(p) = props {
        properties(&mut s, p);
    }
    s
}

/// Writes ` id=N` (when there is an id) and ` rc=CODE`; hands the properties back.
fn ack<'a>(
    s: &mut String,
    id: impl Into<Option<u16>>,
    code: &ReasonCode,
    props: &'a Properties,
) -> Option<&'a Properties> {
    if let Some(id) = id.into() {
        *s += &format!(" id={id}");
    }
    *s += &format!(" rc={}", rc(code));
    Some(props)
}

fn rc(code: &ReasonCode) -> String {
    format!("{:#04x}({})", code.value(), code.name())
}

fn list<T>(items: &[T], show: impl Fn(&T) -> String) -> String {
    items.iter().map(show).collect::<Vec<_>>().join(",")
}

/// Writes the properties that are present as ` name=value`.
fn properties(s: &mut String, p: &Properties) {
    macro_rules! present {
        ($($field:ident)*) => {$(
            if let Some(v) = &p.$field {
                *s += &format!(" {}={v:?}", stringify!($field));
            }
        )*};
    }
    present! {
        payload_format_indicator message_expiry_interval content_type response_topic
        session_expiry_interval assigned_client_identifier server_keep_alive
        authentication_method request_problem_information will_delay_interval
        request_response_information response_information server_reference reason_string
        receive_maximum topic_alias_maximum topic_alias maximum_qos retain_available
        maximum_packet_size wildcard_subscription_available
        subscription_identifier_available shared_subscription_available
    }
    let binary = [
        ("correlation_data", &p.correlation_data),
        ("authentication_data", &p.authentication_data),
    ];
    for (name, data) in binary {
        if let Some(data) = data {
            *s += &format!(" {name}=<{} bytes>", data.len());
        }
    }
    if !p.subscription_identifiers.is_empty() {
        let ids = list(&p.subscription_identifiers, u32::to_string);
        *s += &format!(" subscription_identifiers=[{ids}]");
    }
    if !p.user_properties.is_empty() {
        let pairs = list(&p.user_properties, |(k, v)| {
            format!("{}={}", k.escape_debug(), v.escape_debug())
        });
        *s += &format!(" user=[{pairs}]");
    }
}
