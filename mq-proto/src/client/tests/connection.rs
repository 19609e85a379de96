//! Connection scenarios: CONNECT and CONNACK, protocol fallback, enhanced
//! authentication, keep alive, timeouts, DISCONNECT both ways, protocol
//! violations by the broker, reconnect backoff and statistics.
//!
//! Each test reads as "the broker sends these bytes at this time; the client
//! must write these bytes and raise this event". Statement ids in the doc
//! comments are MQTT 5.0 numbering unless marked 3.1.1.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;

use super::harness::Scenario;
use crate::client::{
    AuthError, AuthFailure, Authenticator, Backoff, CommandError, ConnectionState,
    DisconnectReason, Event, Instant, Options, ProtocolViolation, ReceiveMaximumPolicy,
    ServerCapabilities, Stats,
};
use crate::codec::{
    ConnAck, DecodeError, Disconnect, PacketType, Properties, PropertyValues, ProtocolVersion,
    Publish, QoS, ReasonCode, Will,
};

/// CONNACK 5.0: no session, Success, no properties.
const CONNACK_OK: &[u8] = &[0x20, 0x03, 0x00, 0x00, 0x00];
/// CONNACK 5.0: Session Present, Success, no properties.
const CONNACK_RESUMED: &[u8] = &[0x20, 0x03, 0x01, 0x00, 0x00];
/// CONNACK 3.1.1: no session, Connection Accepted.
const CONNACK_V311_OK: &[u8] = &[0x20, 0x02, 0x00, 0x00];
/// PINGREQ.
const PINGREQ: &[u8] = &[0xC0, 0x00];
/// PINGRESP.
const PINGRESP: &[u8] = &[0xD0, 0x00];

/// CONNECT 5.0 from `Options::new("c1")` with Session Expiry Interval 60,
/// Clean Start as given.
fn connect_c1_expiry_60(clean_start: bool) -> Vec<u8> {
    vec![
        0x10,
        0x14, // CONNECT, remaining length 20
        0x00,
        0x04,
        b'M',
        b'Q',
        b'T',
        b'T',                                  // protocol name
        0x05,                                  // protocol level 5
        if clean_start { 0x02 } else { 0x00 }, // connect flags
        0x00,
        0x3C, // keep alive 60
        0x05, // properties length
        0x11,
        0x00,
        0x00,
        0x00,
        0x3C, // Session Expiry Interval 60
        0x00,
        0x02,
        b'c',
        b'1', // client identifier
    ]
}

fn instant(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn with_session_expiry(seconds: u32) -> Options {
    let mut o = Options::new("c1");
    o.session_expiry_interval = seconds;
    o
}

fn v311(client_id: &str) -> Options {
    let mut o = Options::new(client_id);
    o.protocol_version = ProtocolVersion::V311;
    o
}

pub(super) fn refused(reason_code: ReasonCode) -> Event {
    Event::Disconnected(DisconnectReason::Refused(Box::new(ConnAck {
        session_present: false,
        reason_code,
        properties: Properties::default(),
    })))
}

pub(super) fn protocol_error(reason_code: ReasonCode, violation: ProtocolViolation) -> Event {
    Event::Disconnected(DisconnectReason::ProtocolError {
        reason_code,
        violation,
    })
}

fn qos(publish: Publish, qos: QoS, packet_id: u16) -> Publish {
    Publish {
        qos,
        packet_id,
        ..publish
    }
}

impl Scenario {
    /// Opens a new transport: `connect` at the current time; returns what was written.
    fn reconnect(&mut self) -> Vec<u8> {
        self.client.connect(self.now).expect("connect");
        self.written()
    }

    /// Closes the transport at the current time.
    fn close_transport(&mut self) {
        self.client.handle_transport_closed(self.now);
    }
}

// ---------------------------------------------------------------------------
// CONNECT from options
// ---------------------------------------------------------------------------

/// MQTT-3.1.0-1, MQTT-3.1.3-3: CONNECT comes first and the Client Identifier
/// is the first payload field; nothing the options leave at default is sent.
#[test]
fn connect_v5_with_default_options_is_minimal() {
    let mut s = Scenario::new(Options::new("c1"));
    s.client.connect(s.now).unwrap();
    s.expect_written(&[
        0x10, 0x0F, // CONNECT, remaining length 15
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
        0x05, // protocol level 5
        0x02, // Clean Start
        0x00, 0x3C, // keep alive 60
        0x00, // no properties: Receive Maximum 65535 is the default, so not sent
        0x00, 0x02, b'c', b'1', // client identifier
    ]);
    s.expect_events(&[]);
    assert_eq!(s.client.state(), ConnectionState::Connecting);
    // Only the connect timeout is running.
    assert_eq!(s.client.poll_timeout(), Some(instant(30_000)));
}

/// MQTT-3.1.3-1 (payload order), MQTT-3.1.2-7/-9 (will flag and fields),
/// MQTT-3.1.2-17/-19 (user name and password present with their flags):
/// every option lands in the CONNECT, properties included.
#[test]
fn connect_v5_carries_every_option() {
    let mut o = Options::new("c1");
    o.keep_alive = 30;
    o.username = Some("u".into());
    o.password = Some(Bytes::from_static(&[0x00, 0xFF]).into());
    let mut will = Will {
        topic: "w".into(),
        payload: Bytes::from_static(b"x"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Properties::default(),
    };
    will.properties.content_type = Some("t".into());
    will.properties.will_delay_interval = Some(5);
    o.will = Some(will);
    o.session_expiry_interval = 3600;
    o.receive_maximum = 10;
    o.maximum_packet_size = Some(1024);
    o.topic_alias_maximum = 5;
    o.request_problem_information = Some(false);
    o.request_response_information = true;
    o.user_properties = vec![("k".into(), "v".into())];

    let mut s = Scenario::new(o);
    s.client.connect(s.now).unwrap();
    s.expect_written(&[
        0x10, 0x41, // CONNECT, remaining length 65
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
        0x05, // protocol level 5
        0xEE, // user name, password, will retain, will QoS 1, will flag, clean start
        0x00, 0x1E, // keep alive 30
        0x1B, // properties length 27
        0x11, 0x00, 0x00, 0x0E, 0x10, // Session Expiry Interval 3600
        0x17, 0x00, // Request Problem Information 0
        0x19, 0x01, // Request Response Information 1
        0x21, 0x00, 0x0A, // Receive Maximum 10
        0x22, 0x00, 0x05, // Topic Alias Maximum 5
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
        0x27, 0x00, 0x00, 0x04, 0x00, // Maximum Packet Size 1024
        0x00, 0x02, b'c', b'1', // client identifier
        0x09, // will properties length 9
        0x03, 0x00, 0x01, b't', // Content Type "t"
        0x18, 0x00, 0x00, 0x00, 0x05, // Will Delay Interval 5
        0x00, 0x01, b'w', // will topic
        0x00, 0x01, b'x', // will payload
        0x00, 0x01, b'u', // user name
        0x00, 0x02, 0x00, 0xFF, // password (binary)
    ]);
}

/// 3.1.2.11.3 / 3.1.2.11.4: Receive Maximum 65535 is the default and is left
/// out; a Maximum Packet Size is advertised whenever one is set.
#[test]
fn connect_v5_omits_receive_maximum_65535_and_always_sends_maximum_packet_size() {
    let mut o = Options::new("c1");
    o.receive_maximum = u16::MAX;
    o.maximum_packet_size = Some(65_535);
    let mut s = Scenario::new(o);
    s.client.connect(s.now).unwrap();
    s.expect_written(&[
        0x10, 0x14, // CONNECT, remaining length 20
        0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, //
        0x05, // properties length 5
        0x27, 0x00, 0x00, 0xFF, 0xFF, // Maximum Packet Size 65535
        0x00, 0x02, b'c', b'1', //
    ]);
}

/// 3.1.1 MQTT-3.1.3-1: level 4, payload in the order Client Identifier, Will
/// Topic, Will Message, User Name, Password; no 5.0 field leaks into it.
#[test]
fn connect_v311_uses_level_4_without_any_v5_field() {
    let mut o = v311("c1");
    o.keep_alive = 30;
    o.username = Some("u".into());
    o.password = Some(Bytes::from_static(&[0x00, 0xFF]).into());
    let mut will = Will {
        topic: "w".into(),
        payload: Bytes::from_static(b"x"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Properties::default(),
    };
    will.properties.will_delay_interval = Some(5);
    o.will = Some(will);
    o.session_expiry_interval = 3600;
    o.receive_maximum = 10;
    o.maximum_packet_size = Some(1024);
    o.topic_alias_maximum = 5;
    o.request_response_information = true;
    o.user_properties = vec![("k".into(), "v".into())];

    let mut s = Scenario::new(o);
    s.client.connect(s.now).unwrap();
    s.expect_written(&[
        0x10, 0x1B, // CONNECT, remaining length 27
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
        0x04, // protocol level 4
        0xEE, // user name, password, will retain, will QoS 1, will flag, clean session
        0x00, 0x1E, // keep alive 30
        0x00, 0x02, b'c', b'1', // client identifier
        0x00, 0x01, b'w', // will topic
        0x00, 0x01, b'x', // will message
        0x00, 0x01, b'u', // user name
        0x00, 0x02, 0x00, 0xFF, // password
    ]);
}

/// 3.1.1 MQTT-3.1.3-7: a zero-byte ClientId requires CleanSession 1, even
/// when the options ask to keep the session.
#[test]
fn connect_v311_with_empty_client_id_sets_clean_session() {
    let mut o = v311("");
    o.clean_start = false;
    let mut s = Scenario::new(o);
    s.client.connect(s.now).unwrap();
    s.expect_written(&[
        0x10, 0x0C, // CONNECT, remaining length 12
        0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, //
        0x02, // clean session
        0x00, 0x3C, // keep alive 60
        0x00, 0x00, // empty client identifier
    ]);
    // The broker cannot assign an identifier on 3.1.1: the next connect is clean again.
    s.broker_sends(CONNACK_V311_OK);
    s.expect_events(&[Event::Connected {
        session_present: false,
    }]);
    s.close_transport();
    s.events();
    assert_eq!(
        s.reconnect(),
        [
            0x10, 0x0C, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, //
            0x02, // clean session again
            0x00, 0x3C, 0x00, 0x00,
        ]
    );
}

/// MQTT-3.1.3-6/-7, MQTT-3.2.2-16: with an empty Client Identifier the broker
/// assigns one; the client keeps it and resumes the session under it.
#[test]
fn assigned_client_identifier_is_used_on_reconnect() {
    let mut s = Scenario::new(Options {
        session_expiry_interval: 60,
        ..Options::default()
    });
    s.client.connect(s.now).unwrap();
    s.expect_written(&[
        0x10, 0x12, // CONNECT, remaining length 18
        0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, //
        0x05, 0x11, 0x00, 0x00, 0x00, 0x3C, // Session Expiry Interval 60
        0x00, 0x00, // empty client identifier
    ]);
    s.broker_sends(&[
        0x20, 0x0C, // CONNACK, remaining length 12
        0x00, 0x00, // no session, Success
        0x09, // properties length 9
        0x12, 0x00, 0x06, b'a', b'u', b't', b'o', b'-', b'1', // Assigned Client Identifier
    ]);
    s.expect_events(&[Event::Connected {
        session_present: false,
    }]);
    assert_eq!(s.client.client_id(), "auto-1");

    s.at_ms(1_000);
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::TransportClosed)]);
    assert_eq!(
        s.reconnect(),
        [
            0x10, 0x18, // CONNECT, remaining length 24
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, //
            0x00, // Clean Start 0: resume the session
            0x00, 0x3C, 0x05, 0x11, 0x00, 0x00, 0x00, 0x3C, //
            0x00, 0x06, b'a', b'u', b't', b'o', b'-', b'1', // the assigned identifier
        ]
    );
}

// ---------------------------------------------------------------------------
// Clean Start and session resumption
// ---------------------------------------------------------------------------

/// MQTT-3.1.2-4 (Clean Start 1 discards the session), MQTT-3.1.2-23 (the
/// session is kept while Session Expiry Interval > 0): clean on the first
/// connect, Clean Start 0 on every reconnect.
#[test]
fn clean_start_first_then_resume_while_session_expiry_is_positive() {
    let mut s = Scenario::new(with_session_expiry(60));
    assert_eq!(s.reconnect(), connect_c1_expiry_60(true));
    s.broker_sends(CONNACK_OK);
    s.events();
    s.close_transport();
    s.events();
    assert_eq!(s.reconnect(), connect_c1_expiry_60(false));
    s.broker_sends(CONNACK_RESUMED);
    s.expect_events(&[Event::Connected {
        session_present: true,
    }]);
    s.close_transport();
    s.events();
    assert_eq!(s.reconnect(), connect_c1_expiry_60(false));
}

/// 3.1.2.11.2: with Session Expiry Interval 0 the session ends with the
/// connection, so every connect starts clean.
#[test]
fn session_expiry_zero_starts_clean_every_time() {
    let mut s = Scenario::connected_v5(Options::new("c1"));
    s.close_transport();
    s.events();
    assert_eq!(
        s.reconnect(),
        [
            0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, //
            0x02, // Clean Start
            0x00, 0x3C, 0x00, 0x00, 0x02, b'c', b'1',
        ]
    );
}

/// 3.2.2.3.2: the broker's Session Expiry Interval in CONNACK replaces ours;
/// when it says 0 there is nothing to resume.
#[test]
fn connack_session_expiry_zero_makes_the_next_connect_clean() {
    let mut s = Scenario::new(with_session_expiry(60));
    s.reconnect();
    s.broker_sends(&[
        0x20, 0x08, 0x00, 0x00, // CONNACK, no session, Success
        0x05, 0x11, 0x00, 0x00, 0x00, 0x00, // Session Expiry Interval 0
    ]);
    s.expect_events(&[Event::Connected {
        session_present: false,
    }]);
    s.close_transport();
    s.events();
    assert_eq!(s.reconnect(), connect_c1_expiry_60(true));
}

/// 3.1.1 MQTT-3.1.2-6: CleanSession 1 on every connect when asked for.
#[test]
fn v311_clean_session_is_sent_on_every_connect() {
    let mut s = Scenario::new(v311("c1"));
    for _ in 0..2 {
        assert_eq!(
            s.reconnect(),
            [
                0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, //
                0x02, // clean session
                0x00, 0x3C, 0x00, 0x02, b'c', b'1',
            ]
        );
        s.broker_sends(CONNACK_V311_OK);
        s.close_transport();
        s.expect_events(&[
            Event::Connected {
                session_present: false,
            },
            Event::Disconnected(DisconnectReason::TransportClosed),
        ]);
    }
}

/// 3.1.1 MQTT-3.1.2-4: CleanSession 0 resumes the session on every connect.
#[test]
fn v311_persistent_session_connects_with_clean_session_0() {
    let mut o = v311("c1");
    o.clean_start = false;
    let mut s = Scenario::new(o);
    for present in [0x00, 0x01] {
        assert_eq!(
            s.reconnect(),
            [
                0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, //
                0x00, // clean session 0
                0x00, 0x3C, 0x00, 0x02, b'c', b'1',
            ]
        );
        s.broker_sends(&[0x20, 0x02, present, 0x00]);
        s.expect_events(&[Event::Connected {
            session_present: present == 1,
        }]);
        s.close_transport();
        s.events();
    }
}

/// MQTT-3.2.2-4: a client without session state that gets Session Present 1
/// closes the connection (the broker broke MQTT-3.2.2-2); 5.0 says why with
/// DISCONNECT 0x82.
#[test]
fn session_present_in_answer_to_clean_start_is_a_protocol_error() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.broker_sends(CONNACK_RESUMED);
    s.expect_written(&[0xE0, 0x01, 0x82]); // DISCONNECT Protocol Error
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::SessionPresentOnCleanStart,
    )]);
    assert_eq!(s.client.state(), ConnectionState::Disconnected);
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::from_secs(1)));
    // Still no session: the next connect is clean again.
    assert_eq!(s.reconnect()[9], 0x02);
}

/// MQTT-3.2.2-5: when the broker lost the session, the client drops its
/// session state; an unacknowledged publish goes out again as a new message
/// (DUP 0, new packet identifier, MQTT-4.3.2-1), not as a retransmission.
#[test]
fn session_lost_by_the_broker_sends_in_flight_publishes_as_new() {
    let mut s = Scenario::connected_v5(with_session_expiry(60));
    let id = s
        .client
        .publish(s.now, qos(Publish::new("t", "x"), QoS::AtLeastOnce, 0))
        .unwrap();
    s.expect_written(&[0x32, 0x07, 0x00, 0x01, b't', 0x00, 0x01, 0x00, b'x']);
    s.close_transport();
    s.events();
    assert_eq!(s.reconnect(), connect_c1_expiry_60(false));
    s.broker_sends(CONNACK_OK);
    // A new PUBLISH: DUP 0 and a fresh packet identifier.
    s.expect_written(&[0x32, 0x07, 0x00, 0x01, b't', 0x00, 0x02, 0x00, b'x']);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x02]); // PUBACK 2
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        Event::Published {
            id,
            result: Ok(ReasonCode::Success),
        },
    ]);
}

// ---------------------------------------------------------------------------
// CONNACK: capabilities and keep alive
// ---------------------------------------------------------------------------

/// 3.2.2.3: what CONNACK leaves out takes the specification's default.
#[test]
fn connack_without_properties_gives_spec_defaults() {
    let s = Scenario::connected_v5(Options::new("c1"));
    assert_eq!(
        *s.client.server_capabilities(),
        ServerCapabilities {
            receive_maximum: 65_535,
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
            maximum_packet_size: None,
            topic_alias_maximum: 0,
            wildcard_subscription_available: true,
            subscription_identifier_available: true,
            shared_subscription_available: true,
        }
    );

    let mut s = Scenario::new(v311("c1"));
    s.reconnect();
    s.broker_sends(CONNACK_V311_OK);
    assert_eq!(
        *s.client.server_capabilities(),
        ServerCapabilities {
            subscription_identifier_available: false,
            // 3.1.1 announces no Receive Maximum: the client's own cap.
            receive_maximum: 20,
            ..ServerCapabilities::defaults(ProtocolVersion::V5)
        }
    );
}

/// 3.2.2.3.3 - 3.2.2.3.13: every capability the broker states is recorded.
#[test]
fn connack_capabilities_are_parsed() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.broker_sends(&[
        0x20, 0x1B, // CONNACK, remaining length 27
        0x00, 0x00, // no session, Success
        0x18, // properties length 24
        0x13, 0x00, 0x0A, // Server Keep Alive 10
        0x21, 0x00, 0x05, // Receive Maximum 5
        0x22, 0x00, 0x03, // Topic Alias Maximum 3
        0x24, 0x01, // Maximum QoS 1
        0x25, 0x00, // Retain Available 0
        0x27, 0x00, 0x00, 0x08, 0x00, // Maximum Packet Size 2048
        0x28, 0x00, // Wildcard Subscription Available 0
        0x29, 0x00, // Subscription Identifiers Available 0
        0x2A, 0x00, // Shared Subscription Available 0
    ]);
    s.expect_events(&[Event::Connected {
        session_present: false,
    }]);
    assert_eq!(
        *s.client.server_capabilities(),
        ServerCapabilities {
            receive_maximum: 5,
            maximum_qos: QoS::AtLeastOnce,
            retain_available: false,
            maximum_packet_size: Some(2048),
            topic_alias_maximum: 3,
            wildcard_subscription_available: false,
            subscription_identifier_available: false,
            shared_subscription_available: false,
        }
    );
    assert_eq!(
        s.client
            .connack()
            .and_then(|c| c.properties.server_keep_alive),
        Some(10)
    );
}

/// MQTT-3.1.2-21 / MQTT-3.2.2-21: the Server Keep Alive replaces ours (60 s),
/// so the PINGREQ goes out after 10 s.
#[test]
fn server_keep_alive_replaces_ours_for_pingreq_timing() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.broker_sends(&[
        0x20, 0x06, 0x00, 0x00, // CONNACK, no session, Success
        0x03, 0x13, 0x00, 0x0A, // Server Keep Alive 10
    ]);
    s.events();
    assert_eq!(s.client.poll_timeout(), Some(instant(10_000)));
    s.at_ms(9_999);
    s.expect_written(&[]);
    s.at_ms(10_000);
    s.expect_written(PINGREQ);
}

// ---------------------------------------------------------------------------
// CONNACK refusals
// ---------------------------------------------------------------------------

/// MQTT-3.2.2-7, MQTT-4.13.2-1: a CONNACK reason code >= 0x80 ends the
/// connection; bad credentials and not authorized are not worth retrying.
#[test]
fn connack_refusal_for_credentials_is_final() {
    for code in [ReasonCode::BadUserNameOrPassword, ReasonCode::NotAuthorized] {
        let mut s = Scenario::new(Options::new("c1"));
        s.reconnect();
        s.broker_sends(&[0x20, 0x03, 0x00, code.value(), 0x00]);
        s.expect_written(&[]);
        s.expect_events(&[refused(code)]);
        assert_eq!(s.client.state(), ConnectionState::Disconnected);
        assert_eq!(s.client.reconnect_delay(0), None);
    }
}

/// MQTT-3.2.2-7: Server busy (0x89) ends this attempt; reconnecting may help.
#[test]
fn connack_refusal_server_busy_is_retried() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.broker_sends(&[
        0x20, 0x0A, 0x00, 0x89, // CONNACK, Server busy
        0x07, 0x1F, 0x00, 0x04, b'b', b'u', b's', b'y', // Reason String "busy"
    ]);
    let properties = Properties::from(PropertyValues {
        reason_string: Some("busy".into()),
        ..PropertyValues::default()
    });
    s.expect_events(&[Event::Disconnected(DisconnectReason::Refused(Box::new(
        ConnAck {
            session_present: false,
            reason_code: ReasonCode::ServerBusy,
            properties,
        },
    )))]);
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::from_secs(1)));
}

/// 3.1.1 MQTT-3.2.2-5 and table 3.1: return codes map to 5.0 reason codes;
/// only Server unavailable is worth retrying.
#[test]
fn connack_refusal_v311_return_codes_map_to_reason_codes() {
    let cases = [
        (0x01, ReasonCode::UnsupportedProtocolVersion, None),
        (0x02, ReasonCode::ClientIdentifierNotValid, None),
        (
            0x03,
            ReasonCode::ServerUnavailable,
            Some(Duration::from_secs(1)),
        ),
        (0x04, ReasonCode::BadUserNameOrPassword, None),
        (0x05, ReasonCode::NotAuthorized, None),
    ];
    for (byte, code, delay) in cases {
        let mut s = Scenario::new(v311("c1"));
        s.reconnect();
        s.broker_sends(&[0x20, 0x02, 0x00, byte]);
        s.expect_written(&[]);
        s.expect_events(&[refused(code)]);
        assert_eq!(
            s.client.reconnect_delay(0),
            delay,
            "return code {byte:#04x}"
        );
        assert_eq!(s.client.protocol_version(), ProtocolVersion::V311);
    }
}

// ---------------------------------------------------------------------------
// Protocol fallback to 3.1.1
// ---------------------------------------------------------------------------

/// CONNECT 3.1.1 from `Options::new("c1")`.
const CONNECT_V311_C1: &[u8] = &[
    0x10, 0x0E, // CONNECT, remaining length 14
    0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
    0x04, // protocol level 4
    0x02, // clean session
    0x00, 0x3C, // keep alive 60
    0x00, 0x02, b'c', b'1', // client identifier
];

/// MQTT-3.1.2-2: a 5.0 broker refuses level 5 with 0x84; the client retries at
/// once with level 4.
#[test]
fn fallback_to_v311_on_unsupported_protocol_version_connack() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.broker_sends(&[0x20, 0x03, 0x00, 0x84, 0x00]); // CONNACK Unsupported Protocol Version
    s.expect_written(&[]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::ZERO));
    assert_eq!(s.client.protocol_version(), ProtocolVersion::V311);
    s.close_transport(); // the broker closes; nothing more to report
    s.expect_events(&[]);

    assert_eq!(s.reconnect(), CONNECT_V311_C1);
    s.broker_sends(CONNACK_V311_OK);
    s.expect_events(&[Event::Connected {
        session_present: false,
    }]);
    assert_eq!(
        *s.client.server_capabilities(),
        ServerCapabilities {
            receive_maximum: 20,
            ..ServerCapabilities::defaults(ProtocolVersion::V311)
        }
    );
}

/// 3.1.1 MQTT-3.1.2-2: a 3.1.1-only broker answers level 5 with a 3.1.1
/// CONNACK, return code 0x01.
#[test]
fn fallback_to_v311_on_a_v311_connack() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.broker_sends(&[0x20, 0x02, 0x00, 0x01]); // 3.1.1 CONNACK unacceptable protocol version
    s.expect_written(&[]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::ZERO));
    assert_eq!(s.reconnect(), CONNECT_V311_C1);
}

/// A 3.1.1-only broker may also just close the connection (3.1.1 MQTT-3.1.4-1).
#[test]
fn fallback_to_v311_when_the_transport_closes_before_connack() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.at_ms(100);
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::ZERO));
    assert_eq!(s.reconnect(), CONNECT_V311_C1);
}

/// The fallback happens once: a 3.1.1 refusal after it is final.
#[test]
fn fallback_happens_once_only() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.reconnect(), CONNECT_V311_C1);
    s.broker_sends(&[0x20, 0x02, 0x00, 0x01]);
    s.expect_events(&[refused(ReasonCode::UnsupportedProtocolVersion)]);
    assert_eq!(s.client.reconnect_delay(0), None);
    assert_eq!(s.client.protocol_version(), ProtocolVersion::V311);
    // A closed transport at 3.1.1 is just that.
    assert_eq!(s.reconnect(), CONNECT_V311_C1);
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::TransportClosed)]);
}

/// A 5.0 CONNECT closed without CONNACK may be a 3.1.1 broker's answer or a
/// network failure: if the 3.1.1 CONNECT meets the same, the client goes
/// back to 5.0 (and may fall back again) instead of staying at 3.1.1 for good.
#[test]
fn a_fallback_after_a_close_is_undone_when_3_1_1_gets_no_connack_either() {
    let mut s = Scenario::new(Options::new("c1"));
    let first = s.reconnect();
    assert_eq!(first[8], 5, "protocol level 5");
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.reconnect(), CONNECT_V311_C1);
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::TransportClosed)]);
    assert_eq!(s.client.protocol_version(), ProtocolVersion::V5);
    assert_eq!(s.reconnect(), first, "5.0 again");
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.reconnect(), CONNECT_V311_C1, "and the fallback again");
}

/// A request accepted while fallen back to 3.1.1, where properties are not
/// sent, may go out at 5.0 once the fallback is undone: it is checked at 5.0
/// too, so a Subscription Identifier 0 or a U+0000 in a property is refused
/// when it is made, not found unsendable later (found by the `client` fuzz
/// target).
#[test]
fn requests_made_during_a_fallback_are_checked_at_5_0_too() {
    use crate::codec::{EncodeError, PropertyId, Subscribe, Unsubscribe};
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.client.protocol_version(), ProtocolVersion::V311);
    let mut sub = Subscribe::new(0, "a/+", QoS::AtLeastOnce);
    sub.properties.subscription_identifiers.push(0);
    assert_eq!(
        s.client.subscribe(s.now, sub),
        Err(CommandError::Encode(EncodeError::InvalidPropertyValue {
            property: PropertyId::SubscriptionIdentifier,
            value: 0,
        }))
    );
    let mut unsub = Unsubscribe {
        filters: vec!["a/+".into()],
        ..Unsubscribe::default()
    };
    unsub
        .properties
        .user_properties
        .push(("k".into(), "\0".into()));
    assert_eq!(
        s.client.unsubscribe(s.now, unsub),
        Err(CommandError::Encode(EncodeError::NullCharacter(
            "User Property"
        )))
    );
    let mut publish = Publish::new("t", "x");
    publish.properties.response_topic = Some("r/#".into());
    assert!(matches!(
        s.client.publish(s.now, publish),
        Err(CommandError::Encode(EncodeError::InvalidTopicName(_)))
    ));
    // What is valid at 5.0 is still taken, and goes out at 3.1.1.
    let mut sub = Subscribe::new(0, "a/+", QoS::AtLeastOnce);
    sub.properties.subscription_identifiers.push(7);
    assert!(s.client.subscribe(s.now, sub).is_ok());
}

/// The same when the 3.1.1 attempt times out waiting for CONNACK.
#[test]
fn a_fallback_after_a_close_is_undone_when_3_1_1_times_out() {
    let mut s = Scenario::new(Options::new("c1"));
    let first = s.reconnect();
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.reconnect(), CONNECT_V311_C1);
    s.advance(Duration::from_secs(31));
    s.expect_events(&[Event::Disconnected(DisconnectReason::ConnectTimeout)]);
    assert_eq!(s.reconnect(), first, "5.0 again");
}

/// DISCONNECT as 3.1.1 writes it.
const DISCONNECT_V311: &[u8] = &[0xE0, 0x00];

/// A 3.1.1 CONNACK after a 5.0 close proves only that the broker is up: the
/// client leaves with DISCONNECT and asks in 5.0 again. When the broker that
/// just answered closes 5.0 again, 3.1.1 is confirmed and stays, also
/// across later closes.
#[test]
fn a_fallback_after_a_close_is_confirmed_when_5_0_is_closed_again() {
    let mut s = Scenario::new(Options::new("c1"));
    let first = s.reconnect();
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.reconnect(), CONNECT_V311_C1);
    s.broker_sends(CONNACK_V311_OK);
    s.expect_written(DISCONNECT_V311);
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::ZERO));
    assert_eq!(s.reconnect(), first, "5.0 again, to verify");
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.reconnect(), CONNECT_V311_C1, "confirmed");
    s.broker_sends(CONNACK_V311_OK);
    s.expect_events(&[Event::Connected {
        session_present: false,
    }]);
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::TransportClosed)]);
    assert_eq!(s.client.protocol_version(), ProtocolVersion::V311);
    assert_eq!(s.reconnect(), CONNECT_V311_C1, "3.1.1 for good");
}

/// The same confirmation by a 5.0 refusal as unsupported.
#[test]
fn a_fallback_after_a_close_is_confirmed_by_a_0x84_refusal() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    s.reconnect();
    s.broker_sends(CONNACK_V311_OK);
    s.expect_written(DISCONNECT_V311);
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    s.reconnect();
    s.broker_sends(&[0x20, 0x03, 0x00, 0x84, 0x00]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.reconnect(), CONNECT_V311_C1);
}

/// The reverse hazard: the first 5.0 CONNECT was closed by the network, the
/// tentative 3.1.1 one reached a 5.0 broker. The client must not stay on
/// 3.1.1: it verifies, the broker accepts 5.0, and 5.0 stays.
#[test]
fn a_close_by_the_network_does_not_downgrade_a_5_0_broker() {
    let mut s = Scenario::new(Options::new("c1"));
    let first = s.reconnect();
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.reconnect(), CONNECT_V311_C1);
    s.broker_sends(CONNACK_V311_OK);
    s.expect_written(DISCONNECT_V311);
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolFallback)]);
    assert_eq!(s.client.protocol_version(), ProtocolVersion::V5);
    assert_eq!(s.reconnect(), first);
    s.broker_sends(CONNACK_OK);
    s.expect_events(&[Event::Connected {
        session_present: false,
    }]);
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::TransportClosed)]);
    assert_eq!(s.client.protocol_version(), ProtocolVersion::V5);
}

/// Never fall back once 5.0 worked: the broker speaks 5.0.
#[test]
fn no_fallback_after_a_successful_connection() {
    let mut s = Scenario::connected_v5(Options::new("c1"));
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::TransportClosed)]);
    s.reconnect();
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::TransportClosed)]);
    s.reconnect();
    s.broker_sends(&[0x20, 0x03, 0x00, 0x84, 0x00]);
    s.expect_events(&[refused(ReasonCode::UnsupportedProtocolVersion)]);
    assert_eq!(s.client.protocol_version(), ProtocolVersion::V5);
    assert_eq!(s.client.reconnect_delay(0), None);
}

/// `protocol_fallback = false` keeps 5.0 whatever happens.
#[test]
fn no_fallback_when_disabled() {
    let mut o = Options::new("c1");
    o.protocol_fallback = false;
    let mut s = Scenario::new(o);
    s.reconnect();
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::TransportClosed)]);
    s.reconnect();
    s.broker_sends(&[0x20, 0x02, 0x00, 0x01]);
    s.expect_events(&[refused(ReasonCode::UnsupportedProtocolVersion)]);
    assert_eq!(s.client.protocol_version(), ProtocolVersion::V5);
}

/// 3.2.2.3.1: a 5.0 CONNACK always has a property length. A 3.1.1-format
/// CONNACK that *accepts* a 5.0 CONNECT is malformed, not a 5.0 connection.
#[test]
fn v311_format_connack_accepting_a_v5_connect_is_malformed() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.broker_sends(&[0x20, 0x02, 0x00, 0x00]);
    s.expect_written(&[0xE0, 0x01, 0x81]); // DISCONNECT Malformed Packet
    let events = s.events();
    assert!(
        matches!(
            events.as_slice(),
            [Event::Disconnected(DisconnectReason::ProtocolError {
                reason_code: ReasonCode::MalformedPacket,
                violation: ProtocolViolation::Decode(DecodeError::Truncated(_)),
            })]
        ),
        "{events:?}"
    );
    assert_eq!(s.client.protocol_version(), ProtocolVersion::V5);
}

// ---------------------------------------------------------------------------
// Keep alive
// ---------------------------------------------------------------------------

fn keep_alive_10() -> Options {
    let mut o = Options::new("c1");
    o.keep_alive = 10;
    o
}

/// MQTT-3.1.2-20: nothing sent for the keep alive interval -> PINGREQ.
#[test]
fn pingreq_after_keep_alive_without_traffic() {
    let mut s = Scenario::connected_v5(keep_alive_10());
    assert_eq!(s.client.poll_timeout(), Some(instant(10_000)));
    s.at_ms(9_999);
    s.expect_written(&[]);
    s.at_ms(10_000);
    s.expect_written(PINGREQ);
    s.expect_events(&[]);
    // Half the keep alive (5 s) to answer.
    assert_eq!(s.client.poll_timeout(), Some(instant(15_000)));
}

/// MQTT-3.1.2-20: the broker keeps talking but we sent nothing -> PINGREQ.
#[test]
fn pingreq_when_nothing_was_sent_even_while_receiving() {
    let mut s = Scenario::connected_v5(keep_alive_10());
    for t in [4_000, 8_000] {
        s.at_ms(t);
        s.broker_sends(&[0x30, 0x05, 0x00, 0x01, b't', 0x00, b'x']); // PUBLISH QoS 0
    }
    s.at_ms(10_000);
    s.expect_written(PINGREQ);
}

/// The link may be dead one way: nothing received for the keep alive
/// interval -> PINGREQ, even though we keep sending.
#[test]
fn pingreq_when_nothing_was_received_even_while_sending() {
    let mut s = Scenario::connected_v5(keep_alive_10());
    for t in [4_000, 8_000] {
        s.at_ms(t);
        s.client.publish(s.now, Publish::new("t", "x")).unwrap();
        s.expect_written(&[0x30, 0x05, 0x00, 0x01, b't', 0x00, b'x']);
    }
    s.at_ms(10_000);
    s.expect_written(PINGREQ);
}

/// 3.13.4: PINGRESP clears the outstanding ping; the next one is due a keep
/// alive interval after the last traffic.
#[test]
fn pingresp_clears_the_outstanding_ping() {
    let mut s = Scenario::connected_v5(keep_alive_10());
    s.at_ms(10_000);
    s.expect_written(PINGREQ);
    s.at_ms(11_000);
    s.broker_sends(PINGRESP);
    s.expect_written(&[]);
    s.expect_events(&[]);
    assert_eq!(s.client.poll_timeout(), Some(instant(20_000)));
    s.at_ms(15_000); // the old ping deadline passes harmlessly
    s.expect_events(&[]);
    s.at_ms(20_000);
    s.expect_written(PINGREQ);
}

/// 3.1.2.10: no PINGRESP in reasonable time -> close; nothing else is written
/// (the link is presumed dead).
#[test]
fn no_pingresp_within_ping_timeout_ends_the_connection() {
    let mut s = Scenario::connected_v5(keep_alive_10());
    s.at_ms(10_000);
    s.expect_written(PINGREQ);
    s.at_ms(14_999);
    s.expect_events(&[]);
    s.at_ms(15_000);
    s.expect_written(&[]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::KeepAliveTimeout)]);
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::from_secs(1)));
    assert_eq!(s.client.poll_timeout(), None);
}

/// Clock jumps run each deadline on the way: the PINGREQ at 10 s, the ping
/// timeout at 15 s.
#[test]
fn keep_alive_deadlines_fire_across_clock_jumps() {
    let mut s = Scenario::connected_v5(keep_alive_10());
    s.advance(Duration::from_secs(12));
    s.expect_written(PINGREQ);
    s.advance(Duration::from_secs(2)); // 14 s
    s.expect_events(&[]);
    s.advance(Duration::from_secs(46)); // 60 s
    s.expect_written(&[]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::KeepAliveTimeout)]);
}

/// The ping timeout can be set explicitly.
#[test]
fn explicit_ping_timeout_is_used() {
    let mut o = keep_alive_10();
    o.ping_timeout = Some(Duration::from_secs(2));
    let mut s = Scenario::connected_v5(o);
    s.at_ms(10_000);
    s.expect_written(PINGREQ);
    s.at_ms(12_000);
    s.expect_written(&[]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::KeepAliveTimeout)]);
}

/// 3.1.2.10: Keep Alive 0 turns the mechanism off, ours or the broker's.
#[test]
fn keep_alive_zero_disables_pings() {
    let mut o = Options::new("c1");
    o.keep_alive = 0;
    let mut s = Scenario::connected_v5(o);
    assert_eq!(s.client.poll_timeout(), None);
    s.at_ms(1_000_000);
    s.expect_written(&[]);

    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.broker_sends(&[
        0x20, 0x06, 0x00, 0x00, // CONNACK
        0x03, 0x13, 0x00, 0x00, // Server Keep Alive 0
    ]);
    assert_eq!(s.client.poll_timeout(), None);
}

/// Keep alive timers start afresh on each connection.
#[test]
fn keep_alive_timers_restart_on_reconnect() {
    let mut s = Scenario::connected_v5(keep_alive_10());
    s.at_ms(10_000);
    s.expect_written(PINGREQ);
    s.at_ms(12_000);
    s.close_transport();
    s.expect_events(&[Event::Disconnected(DisconnectReason::TransportClosed)]);
    s.at_ms(20_000);
    s.reconnect();
    // Connecting: only the connect timeout runs.
    assert_eq!(s.client.poll_timeout(), Some(instant(50_000)));
    s.at_ms(21_000);
    s.broker_sends(CONNACK_OK);
    // The last packet sent was the CONNECT at 20 s.
    assert_eq!(s.client.poll_timeout(), Some(instant(30_000)));
    s.at_ms(29_999);
    s.expect_written(&[]);
    s.at_ms(30_000);
    s.expect_written(PINGREQ);
    s.at_ms(34_999);
    s.expect_events(&[Event::Connected {
        session_present: false,
    }]);
}

/// 3.1.1 MQTT-3.1.2-23: same keep alive on 3.1.1.
#[test]
fn v311_pingreq_after_keep_alive() {
    let mut o = v311("c1");
    o.keep_alive = 10;
    let mut s = Scenario::new(o);
    s.reconnect();
    s.broker_sends(CONNACK_V311_OK);
    s.at_ms(10_000);
    s.expect_written(PINGREQ);
    s.broker_sends(PINGRESP);
    s.at_ms(15_000);
    s.expect_events(&[Event::Connected {
        session_present: false,
    }]);
}

// ---------------------------------------------------------------------------
// Connect timeout
// ---------------------------------------------------------------------------

/// 3.2: no CONNACK in reasonable time -> close.
#[test]
fn connect_timeout_without_connack() {
    let mut o = Options::new("c1");
    o.connect_timeout = Duration::from_secs(5);
    let mut s = Scenario::new(o);
    s.reconnect();
    assert_eq!(s.client.poll_timeout(), Some(instant(5_000)));
    s.at_ms(4_999);
    s.expect_events(&[]);
    s.at_ms(5_000);
    s.expect_written(&[]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::ConnectTimeout)]);
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::from_secs(1)));
    // A timeout is no reason to fall back.
    assert_eq!(s.client.protocol_version(), ProtocolVersion::V5);
}

// ---------------------------------------------------------------------------
// DISCONNECT from the broker
// ---------------------------------------------------------------------------

/// 4.11, 3.14.2.2.5: DISCONNECT 0x9C with a Reason String and a Server
/// Reference reaches the user intact.
#[test]
fn server_disconnect_with_reason_string_and_server_reference() {
    let mut s = Scenario::connected_v5(Options::new("c1"));
    s.broker_sends(&[
        0xE0, 0x14, // DISCONNECT, remaining length 20
        0x9C, // Use another server
        0x12, // properties length 18
        0x1F, 0x00, 0x06, b'm', b'o', b'v', b'i', b'n', b'g', // Reason String
        0x1C, 0x00, 0x06, b'b', b':', b'1', b'8', b'8', b'3', // Server Reference
    ]);
    s.expect_written(&[]);
    let properties = Properties::from(PropertyValues {
        reason_string: Some("moving".into()),
        server_reference: Some("b:1883".into()),
        ..PropertyValues::default()
    });
    s.expect_events(&[Event::Disconnected(DisconnectReason::Server(Box::new(
        Disconnect {
            reason_code: ReasonCode::UseAnotherServer,
            properties,
        },
    )))]);
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::from_secs(1)));
}

/// MQTT-3.1.4-3: another client took the session over (0x8E); reconnecting
/// would only fight it.
#[test]
fn server_disconnect_session_taken_over_is_not_retried() {
    let mut s = Scenario::connected_v5(Options::new("c1"));
    s.broker_sends(&[0xE0, 0x01, 0x8E]);
    s.expect_written(&[]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::Server(Box::new(
        Disconnect::new(ReasonCode::SessionTakenOver),
    )))]);
    assert_eq!(s.client.reconnect_delay(0), None);
}

// ---------------------------------------------------------------------------
// DISCONNECT by the user
// ---------------------------------------------------------------------------

/// MQTT-3.14.2-1 (a DISCONNECT reason code), 3.14.2.2.2 (Session Expiry
/// Interval in DISCONNECT), MQTT-3.14.4-1 (nothing after DISCONNECT).
#[test]
fn user_disconnect_v5_sends_reason_code_and_session_expiry() {
    let mut s = Scenario::connected_v5(with_session_expiry(60));
    let mut d = Disconnect::new(ReasonCode::DisconnectWithWillMessage);
    d.properties.session_expiry_interval = Some(0);
    s.client.disconnect(s.now, d).unwrap();
    s.expect_written(&[
        0xE0, 0x07, // DISCONNECT, remaining length 7
        0x04, // Disconnect with Will Message
        0x05, 0x11, 0x00, 0x00, 0x00, 0x00, // Session Expiry Interval 0
    ]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::Local)]);
    assert_eq!(s.client.reconnect_delay(0), None);
    // Nothing more goes out on this connection.
    s.client.publish(s.now, Publish::new("t", "x")).unwrap();
    s.at_ms(3_600_000);
    s.expect_written(&[]);
}

/// 3.14.2.1: Normal disconnection without properties is the two-byte form.
#[test]
fn user_disconnect_v5_normal_is_two_bytes() {
    let mut s = Scenario::connected_v5(Options::new("c1"));
    s.client.disconnect(s.now, Disconnect::default()).unwrap();
    s.expect_written(&[0xE0, 0x00]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::Local)]);
}

/// 3.1.1 3.14: DISCONNECT has no body; reason code and properties are dropped.
#[test]
fn user_disconnect_v311_is_e0_00() {
    let mut s = Scenario::connected_v311(Options::new("c1"));
    let mut d = Disconnect::new(ReasonCode::DisconnectWithWillMessage);
    d.properties.session_expiry_interval = Some(0);
    s.client.disconnect(s.now, d).unwrap();
    s.expect_written(&[0xE0, 0x00]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::Local)]);
    assert_eq!(s.client.reconnect_delay(0), None);
}

/// A second disconnect, or a transport close after it, reports nothing again.
#[test]
fn disconnect_while_disconnected_emits_nothing() {
    let mut s = Scenario::connected_v5(Options::new("c1"));
    s.client.disconnect(s.now, Disconnect::default()).unwrap();
    s.expect_written(&[0xE0, 0x00]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::Local)]);
    s.client.disconnect(s.now, Disconnect::default()).unwrap();
    s.close_transport();
    s.expect_written(&[]);
    s.expect_events(&[]);
    assert_eq!(s.client.reconnect_delay(0), None);
    // connect() is the way back.
    s.reconnect();
    s.broker_sends(CONNACK_OK);
    s.expect_events(&[Event::Connected {
        session_present: false,
    }]);
}

// ---------------------------------------------------------------------------
// Protocol violations by the broker
// ---------------------------------------------------------------------------

/// MQTT-3.3.1-4, 4.13.1: QoS 3 is a Malformed Packet -> DISCONNECT 0x81.
#[test]
fn malformed_packet_is_answered_with_0x81() {
    let mut s = Scenario::connected_v5(Options::new("c1"));
    s.broker_sends(&[0x36, 0x07, 0x00, 0x01, b't', 0x00, 0x01, 0x00, b'x']); // PUBLISH QoS 3
    s.expect_written(&[0xE0, 0x01, 0x81]);
    s.expect_events(&[protocol_error(
        ReasonCode::MalformedPacket,
        ProtocolViolation::Decode(DecodeError::InvalidQoS("PUBLISH")),
    )]);
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::from_secs(1)));
}

/// MQTT-3.2.0-1: nothing but CONNACK or AUTH before CONNACK.
#[test]
fn publish_before_connack_is_a_protocol_error() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.broker_sends(&[0x30, 0x05, 0x00, 0x01, b't', 0x00, b'x']);
    s.expect_written(&[0xE0, 0x01, 0x82]);
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::UnexpectedPacket(PacketType::Publish),
    )]);
}

/// 2.1.2: SUBSCRIBE flows client to server only.
#[test]
fn subscribe_from_the_server_is_a_protocol_error() {
    let mut s = Scenario::connected_v5(Options::new("c1"));
    s.broker_sends(&[
        0x82, 0x07, // SUBSCRIBE, remaining length 7
        0x00, 0x01, 0x00, // packet identifier 1, no properties
        0x00, 0x01, b'a', 0x00, // "a", QoS 0
    ]);
    s.expect_written(&[0xE0, 0x01, 0x82]);
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::UnexpectedPacket(PacketType::Subscribe),
    )]);
}

/// MQTT-3.2.0-2: one CONNACK per connection.
#[test]
fn second_connack_is_a_protocol_error() {
    let mut s = Scenario::connected_v5(Options::new("c1"));
    s.broker_sends(CONNACK_OK);
    s.expect_written(&[0xE0, 0x01, 0x82]);
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::UnexpectedPacket(PacketType::ConnAck),
    )]);
}

/// MQTT-3.1.2-24: the broker must respect our Maximum Packet Size; a packet
/// of exactly the limit is fine, one byte more is answered with 0x95.
#[test]
fn packet_above_our_maximum_packet_size_is_answered_with_0x95() {
    let mut o = Options::new("c1");
    o.maximum_packet_size = Some(16);
    let mut s = Scenario::connected_v5(o);
    s.broker_sends(b"\x30\x0E\x00\x01t\x00hello worl"); // 16 bytes
    s.expect_written(&[]);
    s.expect_events(&[Event::Message(Publish::new("t", "hello worl"))]);
    s.broker_sends(b"\x30\x0F\x00\x01t\x00hello world"); // 17 bytes
    s.expect_written(&[0xE0, 0x01, 0x95]);
    s.expect_events(&[protocol_error(
        ReasonCode::PacketTooLarge,
        ProtocolViolation::Decode(DecodeError::PacketTooLarge { size: 17, max: 16 }),
    )]);
}

/// The size is checked from the fixed header alone: the oversized body never
/// has to arrive.
#[test]
fn oversized_packet_is_refused_from_its_fixed_header() {
    let mut o = Options::new("c1");
    o.maximum_packet_size = Some(1024);
    let mut s = Scenario::connected_v5(o);
    s.broker_sends(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F]); // PUBLISH of 256 MB, header only
    s.expect_written(&[0xE0, 0x01, 0x95]);
    assert!(matches!(
        s.events().as_slice(),
        [Event::Disconnected(DisconnectReason::ProtocolError {
            reason_code: ReasonCode::PacketTooLarge,
            ..
        })]
    ));
}

fn topic_alias_max_2() -> Options {
    let mut o = Options::new("c1");
    o.topic_alias_maximum = 2;
    o
}

/// MQTT-3.3.2-8, 3.3.4: Topic Alias 0 -> DISCONNECT 0x94.
#[test]
fn topic_alias_zero_is_answered_with_0x94() {
    let mut s = Scenario::connected_v5(topic_alias_max_2());
    s.broker_sends(&[
        0x30, 0x08, 0x00, 0x01, b't', // PUBLISH "t"
        0x03, 0x23, 0x00, 0x00, // Topic Alias 0
        b'x',
    ]);
    s.expect_written(&[0xE0, 0x01, 0x94]);
    s.expect_events(&[protocol_error(
        ReasonCode::TopicAliasInvalid,
        ProtocolViolation::Decode(DecodeError::TopicAliasZero),
    )]);
}

/// MQTT-3.1.2-26, MQTT-3.3.2-11: an alias above our Topic Alias Maximum -> 0x94.
#[test]
fn topic_alias_above_our_maximum_is_answered_with_0x94() {
    let mut s = Scenario::connected_v5(topic_alias_max_2());
    s.broker_sends(&[0x30, 0x08, 0x00, 0x01, b't', 0x03, 0x23, 0x00, 0x03, b'x']); // alias 3
    s.expect_written(&[0xE0, 0x01, 0x94]);
    s.expect_events(&[protocol_error(
        ReasonCode::TopicAliasInvalid,
        ProtocolViolation::TopicAliasInvalid {
            alias: 3,
            maximum: 2,
        },
    )]);
}

/// MQTT-3.1.2-27: we accept no aliases unless we said so.
#[test]
fn topic_alias_when_we_accept_none_is_answered_with_0x94() {
    let mut s = Scenario::connected_v5(Options::new("c1"));
    s.broker_sends(&[0x30, 0x08, 0x00, 0x01, b't', 0x03, 0x23, 0x00, 0x01, b'x']); // alias 1
    s.expect_written(&[0xE0, 0x01, 0x94]);
    s.expect_events(&[protocol_error(
        ReasonCode::TopicAliasInvalid,
        ProtocolViolation::TopicAliasInvalid {
            alias: 1,
            maximum: 0,
        },
    )]);
}

/// 3.3.4 (3a): an empty topic with an alias never set -> 0x82.
#[test]
fn unknown_topic_alias_with_empty_topic_is_a_protocol_error() {
    let mut s = Scenario::connected_v5(topic_alias_max_2());
    s.broker_sends(&[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, b'x']); // "", alias 1
    s.expect_written(&[0xE0, 0x01, 0x82]);
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::UnknownTopicAlias(1),
    )]);
}

/// MQTT-3.3.2-10 (aliases up to our maximum are accepted) and MQTT-3.3.2-7
/// (mappings do not carry over to the next connection).
#[test]
fn topic_aliases_work_within_a_connection_and_not_across_connections() {
    let mut s = Scenario::connected_v5(topic_alias_max_2());
    s.broker_sends(&[0x30, 0x08, 0x00, 0x01, b't', 0x03, 0x23, 0x00, 0x02, b'x']); // "t" = alias 2
    s.broker_sends(&[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x02, b'y']); // alias 2
    let mut x = Publish::new("t", "x");
    x.properties.topic_alias = Some(2);
    let mut y = Publish::new("t", "y");
    y.properties.topic_alias = Some(2);
    s.expect_events(&[Event::Message(x), Event::Message(y)]);
    s.expect_written(&[]);

    s.close_transport();
    s.events();
    s.reconnect();
    s.broker_sends(CONNACK_OK);
    s.broker_sends(&[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x02, b'z']);
    s.expect_written(&[0xE0, 0x01, 0x82]);
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        protocol_error(
            ReasonCode::ProtocolError,
            ProtocolViolation::UnknownTopicAlias(2),
        ),
    ]);
}

fn receive_maximum_1(policy: ReceiveMaximumPolicy) -> Options {
    let mut o = Options::new("c1");
    o.receive_maximum = 1;
    o.receive_maximum_policy = policy;
    o
}

/// MQTT-3.3.4-9: more unacknowledged QoS 2 PUBLISHes than our Receive
/// Maximum -> DISCONNECT 0x93. A duplicate of one we hold does not count.
#[test]
fn receive_maximum_exceeded_is_answered_with_0x93() {
    let mut s = Scenario::connected_v5(receive_maximum_1(ReceiveMaximumPolicy::Disconnect));
    s.broker_sends(&[0x34, 0x07, 0x00, 0x01, b't', 0x00, 0x01, 0x00, b'x']); // QoS 2, id 1
    s.expect_written(&[0x50, 0x02, 0x00, 0x01]); // PUBREC 1
    s.broker_sends(&[0x3C, 0x07, 0x00, 0x01, b't', 0x00, 0x01, 0x00, b'x']); // DUP of id 1
    s.expect_written(&[0x50, 0x02, 0x00, 0x01]);
    s.expect_events(&[Event::Message(qos(
        Publish::new("t", "x"),
        QoS::ExactlyOnce,
        1,
    ))]);
    s.broker_sends(&[0x34, 0x07, 0x00, 0x01, b't', 0x00, 0x02, 0x00, b'y']); // QoS 2, id 2
    s.expect_written(&[0xE0, 0x01, 0x93]);
    s.expect_events(&[protocol_error(
        ReasonCode::ReceiveMaximumExceeded,
        ProtocolViolation::ReceiveMaximumExceeded(1),
    )]);
}

/// The Tolerate policy accepts the message and counts the violation.
#[test]
fn receive_maximum_tolerate_policy_counts_instead() {
    let mut s = Scenario::connected_v5(receive_maximum_1(ReceiveMaximumPolicy::Tolerate));
    s.broker_sends(&[0x34, 0x07, 0x00, 0x01, b't', 0x00, 0x01, 0x00, b'x']);
    s.broker_sends(&[0x34, 0x07, 0x00, 0x01, b't', 0x00, 0x02, 0x00, b'y']);
    s.expect_written(&[0x50, 0x02, 0x00, 0x01, 0x50, 0x02, 0x00, 0x02]);
    s.expect_events(&[
        Event::Message(qos(Publish::new("t", "x"), QoS::ExactlyOnce, 1)),
        Event::Message(qos(Publish::new("t", "y"), QoS::ExactlyOnce, 2)),
    ]);
    assert_eq!(s.client.stats().receive_maximum_violations, 1);
    assert_eq!(s.client.state(), ConnectionState::Connected);
}

/// MQTT-4.4.0-1, MQTT-3.3.1-1: after any protocol error the session lives on;
/// the next connect resumes it and resends the in-flight PUBLISH with DUP set.
#[test]
fn every_protocol_error_leaves_the_session_resumable() {
    // What the broker sends, and the reason code the client must answer with.
    const QOS_3: &[u8] = &[0x36, 0x07, 0x00, 0x01, b't', 0x00, 0x01, 0x00, b'x'];
    const SUBSCRIBE: &[u8] = &[0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x00];
    const TOO_LARGE: &[u8] = b"\x30\x0F\x00\x01t\x00hello world"; // 17 bytes > 16
    const ALIAS_0: &[u8] = &[0x30, 0x08, 0x00, 0x01, b't', 0x03, 0x23, 0x00, 0x00, b'x'];
    const ALIAS_3: &[u8] = &[0x30, 0x08, 0x00, 0x01, b't', 0x03, 0x23, 0x00, 0x03, b'x'];
    const UNKNOWN_ALIAS: &[u8] = &[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, b'x'];
    const TWO_QOS_2: &[u8] = &[
        0x34, 0x07, 0x00, 0x01, b't', 0x00, 0x01, 0x00, b'x', // QoS 2, id 1
        0x34, 0x07, 0x00, 0x01, b't', 0x00, 0x02, 0x00, b'y', // QoS 2, id 2
    ];
    let violations = [
        (QOS_3, 0x81),
        (SUBSCRIBE, 0x82),
        (TOO_LARGE, 0x95),
        (ALIAS_0, 0x94),
        (ALIAS_3, 0x94),
        (UNKNOWN_ALIAS, 0x82),
        (TWO_QOS_2, 0x93),
    ];
    for (bytes, code) in violations {
        let mut o = with_session_expiry(60);
        o.maximum_packet_size = Some(16);
        o.topic_alias_maximum = 2;
        o.receive_maximum = 1;
        let mut s = Scenario::connected_v5(o);
        let id = s
            .client
            .publish(s.now, qos(Publish::new("t", "x"), QoS::AtLeastOnce, 0))
            .unwrap();
        s.expect_written(&[0x32, 0x07, 0x00, 0x01, b't', 0x00, 0x01, 0x00, b'x']);

        s.broker_sends(bytes);
        let written = s.written();
        assert!(
            written.ends_with(&[0xE0, 0x01, code]),
            "{bytes:02X?} -> {written:02X?}"
        );
        s.close_transport();
        s.events();

        let connect = s.reconnect();
        assert_eq!(connect[9], 0x00, "Clean Start 0 after {bytes:02X?}");
        s.broker_sends(CONNACK_RESUMED);
        s.expect_written(&[0x3A, 0x07, 0x00, 0x01, b't', 0x00, 0x01, 0x00, b'x']); // DUP
        s.broker_sends(&[0x40, 0x02, 0x00, 0x01]); // PUBACK 1
        s.expect_events(&[
            Event::Connected {
                session_present: true,
            },
            Event::Published {
                id,
                result: Ok(ReasonCode::Success),
            },
        ]);
    }
}

/// 3.1.1 MQTT-4.8.0-1: a violation closes the connection; 3.1.1 has no
/// DISCONNECT to say why (it would also discard the Will).
#[test]
fn v311_protocol_violation_closes_without_disconnect() {
    let mut s = Scenario::connected_v311(Options::new("c1"));
    s.broker_sends(&[0xF0, 0x00]); // AUTH does not exist in 3.1.1
    s.expect_written(&[]);
    s.expect_events(&[protocol_error(
        ReasonCode::MalformedPacket,
        ProtocolViolation::Decode(DecodeError::ReservedPacketType(15)),
    )]);
}

// ---------------------------------------------------------------------------
// Enhanced authentication (4.12)
// ---------------------------------------------------------------------------

/// An authentication method that follows a script: it checks what the server
/// sends and fails on anything else.
struct Scripted {
    method: &'static str,
    initial: Option<&'static [u8]>,
    /// (server data expected, our answer) for each AUTH 0x18.
    challenges: VecDeque<(&'static [u8], &'static [u8])>,
    /// The final server data each `finish` must see.
    finals: VecDeque<Option<&'static [u8]>>,
}

impl Scripted {
    fn new(
        challenges: &[(&'static [u8], &'static [u8])],
        finals: &[Option<&'static [u8]>],
    ) -> Self {
        Scripted {
            method: "TEST",
            initial: Some(b"ab"),
            challenges: challenges.iter().copied().collect(),
            finals: finals.iter().copied().collect(),
        }
    }
}

impl Authenticator for Scripted {
    fn method(&self) -> &str {
        self.method
    }

    fn initial_data(&mut self) -> Result<Option<Bytes>, AuthError> {
        Ok(self.initial.map(Bytes::from_static))
    }

    fn challenge(&mut self, data: Option<&Bytes>) -> Result<Option<Bytes>, AuthError> {
        match self.challenges.pop_front() {
            Some((expected, answer)) if data.map(|d| &d[..]) == Some(expected) => {
                Ok(Some(Bytes::from_static(answer)))
            }
            _ => Err(AuthError(String::from("unexpected challenge"))),
        }
    }

    fn finish(&mut self, data: Option<&Bytes>) -> Result<(), AuthError> {
        match self.finals.pop_front() {
            Some(expected) if data.map(|d| &d[..]) == expected => Ok(()),
            _ => Err(AuthError(String::from("server not verified"))),
        }
    }
}

/// CONNECT 5.0 from `Options::new("c1")` with Authentication Method "TEST"
/// and Authentication Data "ab".
const CONNECT_AUTH: &[u8] = &[
    0x10, 0x1B, // CONNECT, remaining length 27
    0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, //
    0x0C, // properties length 12
    0x15, 0x00, 0x04, b'T', b'E', b'S', b'T', // Authentication Method "TEST"
    0x16, 0x00, 0x02, b'a', b'b', // Authentication Data "ab"
    0x00, 0x02, b'c', b'1', //
];

/// AUTH with `code`, method "TEST" and two bytes of data.
fn auth(code: u8, data: &[u8; 2]) -> Vec<u8> {
    vec![
        0xF0, 0x0E, // AUTH, remaining length 14
        code, 0x0C, // reason code, properties length 12
        0x15, 0x00, 0x04, b'T', b'E', b'S', b'T', // Authentication Method "TEST"
        0x16, 0x00, 0x02, data[0], data[1], // Authentication Data
    ]
}

/// CONNACK Success with method "TEST" and data "ok".
const CONNACK_AUTH_OK: &[u8] = &[
    0x20, 0x0F, 0x00, 0x00, 0x0C, //
    0x15, 0x00, 0x04, b'T', b'E', b'S', b'T', //
    0x16, 0x00, 0x02, b'o', b'k', //
];

fn with_auth(options: Options, auth: Scripted) -> Scenario {
    let mut s = Scenario::new(options);
    s.client.set_authenticator(alloc::boxed::Box::new(auth));
    s
}

/// MQTT-4.12.0-2/-3 (AUTH 0x18 both ways), MQTT-3.1.2-30 (nothing but AUTH
/// before CONNACK): the SCRAM-shaped exchange of 4.12, final data checked.
#[test]
fn enhanced_auth_challenge_response_then_connack_with_final_data() {
    let auth_ = Scripted::new(&[(b"s1", b"c2")], &[Some(b"ok")]);
    let mut s = with_auth(Options::new("c1"), auth_);
    assert_eq!(s.reconnect(), CONNECT_AUTH);
    // A publish waits for CONNACK.
    let id = s.client.publish(s.now, Publish::new("t", "x")).unwrap();
    s.expect_written(&[]);
    s.broker_sends(&auth(0x18, b"s1"));
    s.expect_written(&auth(0x18, b"c2"));
    s.expect_events(&[]);
    s.broker_sends(CONNACK_AUTH_OK);
    s.expect_written(&[0x30, 0x05, 0x00, 0x01, b't', 0x00, b'x']);
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        Event::Published {
            id,
            result: Ok(ReasonCode::Success),
        },
    ]);
}

/// 4.12: the method verifies the server's final data; a failure closes with
/// DISCONNECT 0x87 and is not retried.
#[test]
fn enhanced_auth_finish_failure_disconnects_with_0x87() {
    let auth_ = Scripted::new(&[], &[Some(b"no")]);
    let mut s = with_auth(Options::new("c1"), auth_);
    s.reconnect();
    s.broker_sends(CONNACK_AUTH_OK); // data "ok", the method wanted "no"
    s.expect_written(&[0xE0, 0x01, 0x87]);
    s.expect_events(&[protocol_error(
        ReasonCode::NotAuthorized,
        ProtocolViolation::Auth(AuthFailure::Authenticator(AuthError(String::from(
            "server not verified",
        )))),
    )]);
    assert_eq!(s.client.reconnect_delay(0), None);
}

/// A method that refuses a challenge closes with DISCONNECT 0x87.
#[test]
fn enhanced_auth_challenge_refused_disconnects_with_0x87() {
    let auth_ = Scripted::new(&[(b"s1", b"c2")], &[]);
    let mut s = with_auth(Options::new("c1"), auth_);
    s.reconnect();
    s.broker_sends(&auth(0x18, b"zz"));
    s.expect_written(&[0xE0, 0x01, 0x87]);
    s.expect_events(&[protocol_error(
        ReasonCode::NotAuthorized,
        ProtocolViolation::Auth(AuthFailure::Authenticator(AuthError(String::from(
            "unexpected challenge",
        )))),
    )]);
}

/// MQTT-4.12.0-5: every AUTH carries the CONNECT's method; another -> 0x82.
#[test]
fn enhanced_auth_wrong_method_is_a_protocol_error() {
    let mut s = with_auth(Options::new("c1"), Scripted::new(&[(b"s1", b"c2")], &[]));
    s.reconnect();
    s.broker_sends(&[
        0xF0, 0x0E, 0x18, 0x0C, //
        0x15, 0x00, 0x04, b'N', b'O', b'P', b'E', // Authentication Method "NOPE"
        0x16, 0x00, 0x02, b's', b'1',
    ]);
    s.expect_written(&[0xE0, 0x01, 0x82]);
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::Auth(AuthFailure::WrongMethod(Some("NOPE".into()))),
    )]);
}

/// MQTT-3.1.2-29: with Request Problem Information 0, a Reason String on a
/// PUBACK is a protocol error (0x82); on a PUBLISH it is allowed.
#[test]
fn problem_information_we_did_not_ask_for_is_a_protocol_error() {
    let mut o = Options::new("c1");
    o.request_problem_information = Some(false);
    let mut s = Scenario::connected_v5(o.clone());
    // PUBLISH QoS 0 "t" with a User Property: allowed.
    s.broker_sends(&[
        0x30, 0x0B, 0x00, 0x01, b't', 0x07, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v',
    ]);
    s.expect_written(&[]);
    // PUBACK 1, Success, Reason String "no".
    let puback = [
        0x40, 0x09, 0x00, 0x01, 0x00, 0x05, 0x1F, 0x00, 0x02, b'n', b'o',
    ];
    s.broker_sends(&puback);
    s.expect_written(&[0xE0, 0x01, 0x82]);
    let events = s.events();
    assert!(
        events.contains(&protocol_error(
            ReasonCode::ProtocolError,
            ProtocolViolation::ProblemInformationNotRequested(PacketType::PubAck),
        )),
        "{events:?}"
    );
    // When asked for (the default), the same PUBACK is fine.
    o.request_problem_information = None;
    let mut s = Scenario::connected_v5(o);
    s.broker_sends(&puback);
    s.expect_written(&[]);
}

/// MQTT-4.12.0-5: a CONNACK naming another Authentication Method than the
/// CONNECT's (here: none) is refused with 0x82.
#[test]
fn connack_with_an_authentication_method_we_did_not_use_is_a_protocol_error() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.broker_sends(&[
        0x20, 0x0A, 0x00, 0x00, 0x07, //
        0x15, 0x00, 0x04, b'N', b'O', b'P', b'E', // Authentication Method "NOPE"
    ]);
    s.expect_written(&[0xE0, 0x01, 0x82]);
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::Auth(AuthFailure::WrongMethod(Some("NOPE".into()))),
    )]);
}

/// MQTT-4.12.0-6: no Authentication Method in CONNECT, no AUTH from the server.
#[test]
fn auth_without_an_authentication_method_is_a_protocol_error() {
    let mut s = Scenario::new(Options::new("c1"));
    s.reconnect();
    s.broker_sends(&auth(0x18, b"s1"));
    s.expect_written(&[0xE0, 0x01, 0x82]);
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::Auth(AuthFailure::WrongMethod(Some("TEST".into()))),
    )]);
}

/// 4.12: the server ends the exchange with CONNACK, not AUTH Success.
#[test]
fn auth_success_before_connack_is_a_protocol_error() {
    let mut s = with_auth(Options::new("c1"), Scripted::new(&[], &[]));
    s.reconnect();
    s.broker_sends(&auth(0x00, b"ok"));
    s.expect_written(&[0xE0, 0x01, 0x82]);
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::UnexpectedPacket(PacketType::Auth),
    )]);
}

/// The number of AUTH round trips is bounded by `max_auth_exchanges`.
#[test]
fn enhanced_auth_exchange_count_is_bounded() {
    let mut o = Options::new("c1");
    o.max_auth_exchanges = 2;
    let steps: [(&'static [u8], &'static [u8]); 3] = [(b"s1", b"c2"); 3];
    let mut s = with_auth(o, Scripted::new(&steps, &[]));
    s.reconnect();
    for _ in 0..2 {
        s.broker_sends(&auth(0x18, b"s1"));
        s.expect_written(&auth(0x18, b"c2"));
    }
    s.broker_sends(&auth(0x18, b"s1"));
    s.expect_written(&[0xE0, 0x01, 0x82]);
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::Auth(AuthFailure::TooManyExchanges(2)),
    )]);
}

/// The connect timeout covers the whole AUTH exchange.
#[test]
fn connect_timeout_covers_the_auth_exchange() {
    let mut o = Options::new("c1");
    o.connect_timeout = Duration::from_secs(5);
    let mut s = with_auth(o, Scripted::new(&[(b"s1", b"c2")], &[]));
    s.reconnect();
    s.at_ms(4_000);
    s.broker_sends(&auth(0x18, b"s1"));
    s.expect_written(&auth(0x18, b"c2"));
    s.at_ms(5_000);
    s.expect_events(&[Event::Disconnected(DisconnectReason::ConnectTimeout)]);
}

fn connected_with_auth(auth_: Scripted) -> Scenario {
    let mut s = with_auth(Options::new("c1"), auth_);
    s.reconnect();
    s.broker_sends(CONNACK_AUTH_OK);
    s.expect_events(&[Event::Connected {
        session_present: false,
    }]);
    s
}

/// MQTT-4.12.1-1: re-authentication is AUTH 0x19 with the same method; the
/// exchange goes on with 0x18 and the server ends it with AUTH Success.
#[test]
fn reauthentication_sends_auth_0x19_and_reports_success() {
    let mut s = connected_with_auth(Scripted::new(&[(b"s3", b"c4")], &[Some(b"ok"), None]));
    s.at_ms(1_000);
    s.client.reauthenticate(s.now).unwrap();
    s.expect_written(&auth(0x19, b"ab"));
    s.broker_sends(&auth(0x18, b"s3"));
    s.expect_written(&auth(0x18, b"c4"));
    // Other traffic goes on meanwhile (4.12.1).
    s.client.publish(s.now, Publish::new("t", "x")).unwrap();
    s.expect_written(&[0x30, 0x05, 0x00, 0x01, b't', 0x00, b'x']);
    s.events();
    s.broker_sends(&[
        0xF0, 0x09, // AUTH, remaining length 9
        0x00, 0x07, // Success, properties length 7
        0x15, 0x00, 0x04, b'T', b'E', b'S', b'T', // Authentication Method "TEST"
    ]);
    s.expect_written(&[]);
    s.expect_events(&[Event::Reauthenticated]);
    assert_eq!(s.client.state(), ConnectionState::Connected);
}

/// MQTT-4.12.1-2: a failed re-authentication closes the connection.
#[test]
fn reauthentication_failure_disconnects_with_0x87() {
    let mut s = connected_with_auth(Scripted::new(&[], &[Some(b"ok"), Some(b"yes")]));
    s.client.reauthenticate(s.now).unwrap();
    s.expect_written(&auth(0x19, b"ab"));
    s.broker_sends(&auth(0x00, b"no"));
    s.expect_written(&[0xE0, 0x01, 0x87]);
    s.expect_events(&[protocol_error(
        ReasonCode::NotAuthorized,
        ProtocolViolation::Auth(AuthFailure::Authenticator(AuthError(String::from(
            "server not verified",
        )))),
    )]);
}

/// AUTH 0x18 with no exchange running is a protocol error.
#[test]
fn unsolicited_auth_while_connected_is_a_protocol_error() {
    let mut s = connected_with_auth(Scripted::new(&[(b"s1", b"c2")], &[Some(b"ok")]));
    s.broker_sends(&auth(0x18, b"s1"));
    s.expect_written(&[0xE0, 0x01, 0x82]);
    assert!(matches!(
        s.events().as_slice(),
        [Event::Disconnected(DisconnectReason::ProtocolError {
            reason_code: ReasonCode::ProtocolError,
            violation: ProtocolViolation::Auth(_),
        })]
    ));
}

/// Re-authentication needs 5.0, a connection, and an authenticator.
#[test]
fn reauthenticate_needs_v5_a_connection_and_an_authenticator() {
    let mut s = Scenario::new(v311("c1"));
    s.client
        .set_authenticator(alloc::boxed::Box::new(Scripted::new(&[], &[])));
    // 3.1.1 has no enhanced authentication: the CONNECT carries no method.
    assert_eq!(s.reconnect(), CONNECT_V311_C1);
    s.broker_sends(CONNACK_V311_OK);
    assert_eq!(
        s.client.reauthenticate(s.now),
        Err(CommandError::NeedsV5("re-authentication"))
    );
    s.expect_written(&[]);

    let mut s = with_auth(Options::new("c1"), Scripted::new(&[], &[]));
    assert_eq!(
        s.client.reauthenticate(s.now),
        Err(CommandError::NotConnected)
    );

    let mut s = Scenario::connected_v5(Options::new("c1"));
    assert_eq!(
        s.client.reauthenticate(s.now),
        Err(CommandError::NoAuthenticator)
    );
    s.expect_written(&[]);
}

/// MQTT-4.12.0-7: without a method in CONNECT the client sends no AUTH, even
/// if an authenticator is set later; MQTT-4.12.1-1: re-authentication uses the
/// connection's method, not another one.
#[test]
fn reauthenticate_only_with_the_method_the_connection_used() {
    let mut s = Scenario::connected_v5(Options::new("c1"));
    s.client
        .set_authenticator(alloc::boxed::Box::new(Scripted::new(&[], &[])));
    assert_eq!(
        s.client.reauthenticate(s.now),
        Err(CommandError::NoAuthenticator)
    );
    s.expect_written(&[]);

    let mut s = connected_with_auth(Scripted::new(&[], &[Some(b"ok")]));
    let mut other = Scripted::new(&[], &[]);
    other.method = "OTHER";
    s.client.set_authenticator(alloc::boxed::Box::new(other));
    assert_eq!(
        s.client.reauthenticate(s.now),
        Err(CommandError::NoAuthenticator)
    );
    s.expect_written(&[]);
}

// ---------------------------------------------------------------------------
// Reconnect backoff
// ---------------------------------------------------------------------------

fn backoff_options() -> Options {
    let mut o = Options::new("c1");
    o.backoff = Backoff {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(5),
        jitter_percent: 50,
        stable_after: Duration::from_secs(30),
    };
    o
}

/// Failed attempts double the delay (random 0: no jitter), up to the cap.
#[test]
fn reconnect_delay_doubles_up_to_the_cap() {
    let mut s = Scenario::connected_v5(backoff_options());
    assert_eq!(s.client.reconnect_delay(0), None, "connected");
    s.close_transport();
    s.events();
    let mut delays = Vec::new();
    for _ in 0..5 {
        delays.push(s.client.reconnect_delay(0).unwrap().as_secs());
        s.reconnect();
        s.close_transport();
        s.expect_events(&[Event::Disconnected(DisconnectReason::TransportClosed)]);
    }
    assert_eq!(delays, [1, 2, 4, 5, 5]);
    // Jitter only ever shortens the delay, by at most its share.
    let d = s.client.reconnect_delay(u32::MAX).unwrap();
    assert!(
        d >= Duration::from_millis(2_500) && d <= Duration::from_secs(5),
        "{d:?}"
    );
}

/// A connection that lasted `stable_after` resets the count; a shorter one does not.
#[test]
fn reconnect_delay_resets_after_a_stable_connection() {
    let mut s = Scenario::connected_v5(backoff_options());
    s.close_transport();
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::from_secs(1)));
    for expected in [2, 4] {
        s.reconnect();
        s.close_transport();
        assert_eq!(
            s.client.reconnect_delay(0),
            Some(Duration::from_secs(expected))
        );
    }
    // Connected for less than stable_after: the count goes on (8 s, capped at 5 s).
    s.reconnect();
    s.broker_sends(CONNACK_OK);
    s.at_ms(29_999);
    s.close_transport();
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::from_secs(5)));
    // Connected for stable_after: back to the initial delay.
    s.reconnect();
    s.broker_sends(CONNACK_OK);
    s.at_ms(29_999 + 30_000);
    s.close_transport();
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::from_secs(1)));
    s.reconnect();
    s.close_transport();
    assert_eq!(s.client.reconnect_delay(0), Some(Duration::from_secs(2)));
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

/// Packets and bytes both ways, and reconnects, are counted.
#[test]
fn statistics_count_packets_bytes_and_reconnects() {
    let mut s = Scenario::new(keep_alive_10());
    s.reconnect(); // CONNECT: 17 bytes
    s.broker_sends(CONNACK_OK); // 5 bytes
    s.at_ms(10_000);
    s.expect_written(PINGREQ); // 2 bytes
    s.broker_sends(PINGRESP); // 2 bytes
    s.close_transport();
    s.reconnect(); // CONNECT: 17 bytes
    assert_eq!(
        s.client.stats(),
        Stats {
            packets_sent: 3,
            packets_received: 2,
            bytes_sent: 36,
            bytes_received: 7,
            reconnects: 1,
            ..Stats::default()
        }
    );
}
