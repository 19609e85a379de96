//! `Options::manual_acks`: PUBACK and PUBREC wait for `Client::acknowledge`,
//! leave in the order the messages arrived, and survive a resumed session.
//!
//! Every byte string is what the broker sends or what the client must write.
//! Statement ids are MQTT 5.0 unless marked 3.1.1.

use alloc::vec::Vec;

use super::harness::Scenario;
use crate::client::{
    AckError, AckToken, DisconnectReason, Event, Options, ProtocolViolation, StoreUpdate,
};
use crate::codec::{ProtocolVersion, Publish, QoS, ReasonCode};

use ProtocolVersion::{V311, V5};

/// First byte of a PUBLISH at QoS 1 and 2; `| DUP` marks a resend.
const QOS1: u8 = 0x32;
const QOS2: u8 = 0x34;
const DUP: u8 = 0x08;

/// PUBLISH from the broker: topic "t", packet identifier `id`, payload "x".
fn publish(v: ProtocolVersion, first: u8, id: u8) -> Vec<u8> {
    match v {
        V5 => [first, 0x07, 0x00, 0x01, b't', 0x00, id, 0x00, b'x'].to_vec(),
        V311 => [first, 0x06, 0x00, 0x01, b't', 0x00, id, b'x'].to_vec(),
    }
}

/// The message the client delivers for [`publish`].
fn message(qos: QoS, id: u16, dup: bool) -> Event {
    let mut p = Publish::new("t", "x");
    p.qos = qos;
    p.packet_id = id;
    p.dup = dup;
    Event::Message(p)
}

fn token(qos: QoS, packet_id: u16) -> AckToken {
    AckToken { qos, packet_id }
}

fn puback(id: u8) -> [u8; 4] {
    [0x40, 0x02, 0x00, id]
}

fn pubrec(id: u8) -> [u8; 4] {
    [0x50, 0x02, 0x00, id]
}

fn manual() -> Options {
    let mut o = Options::new("c");
    o.manual_acks = true;
    o
}

/// Manual acknowledgments, and a session that outlives the connection.
fn durable(v: ProtocolVersion) -> Options {
    let mut o = manual();
    match v {
        V5 => o.session_expiry_interval = 3600,
        V311 => o.clean_start = false,
    }
    o
}

fn connected(v: ProtocolVersion, options: Options) -> Scenario {
    match v {
        V5 => Scenario::connected_v5(options),
        V311 => Scenario::connected_v311(options),
    }
}

#[track_caller]
fn acknowledge(s: &mut Scenario, token: AckToken) {
    s.client.acknowledge(s.now, token).expect("pending");
}

/// The transport fails.
#[track_caller]
fn drop_transport(s: &mut Scenario) {
    s.client.handle_transport_closed(s.now);
    s.expect_events(&[Event::Disconnected(DisconnectReason::TransportClosed)]);
}

/// A new transport: CONNECT goes out.
fn connect(s: &mut Scenario) {
    s.client.connect(s.now).expect("connect");
    s.written();
}

/// The broker accepts the connection, with or without the session.
#[track_caller]
fn connack(s: &mut Scenario, v: ProtocolVersion, session_present: bool) {
    let flag = u8::from(session_present);
    match v {
        V5 => s.broker_sends(&[0x20, 0x03, flag, 0x00, 0x00]),
        V311 => s.broker_sends(&[0x20, 0x02, flag, 0x00]),
    }
    s.expect_events(&[Event::Connected { session_present }]);
}

fn store_updates(s: &mut Scenario) -> Vec<StoreUpdate> {
    core::iter::from_fn(|| s.client.poll_store_update()).collect()
}

/// A QoS 1 message is delivered at once; its PUBACK waits for the application.
#[test]
fn qos1_puback_waits_for_acknowledge() {
    for v in [V5, V311] {
        let mut s = connected(v, manual());
        s.broker_sends(&publish(v, QOS1, 7));
        s.expect_written(&[]);
        s.expect_events(&[message(QoS::AtLeastOnce, 7, false)]);
        acknowledge(&mut s, token(QoS::AtLeastOnce, 7));
        s.expect_written(&puback(7));
        s.expect_events(&[]);
    }
}

/// MQTT-4.6.0-2: an acknowledgment given early waits for those of earlier messages.
#[test]
fn out_of_order_acknowledgments_leave_in_arrival_order() {
    for v in [V5, V311] {
        let mut s = connected(v, manual());
        for id in [1, 2, 3] {
            s.broker_sends(&publish(v, QOS1, id));
        }
        s.expect_written(&[]);
        acknowledge(&mut s, token(QoS::AtLeastOnce, 3));
        s.expect_written(&[]);
        acknowledge(&mut s, token(QoS::AtLeastOnce, 1));
        s.expect_written(&puback(1));
        acknowledge(&mut s, token(QoS::AtLeastOnce, 2));
        s.expect_written(&[puback(2), puback(3)].concat());
    }
}

/// MQTT-4.3.3-10: a QoS 2 resend before the acknowledgment is not delivered
/// again; the store learns of the message, and PUBREC goes out, only once the
/// application acknowledged it; PUBREL then completes it as usual.
#[test]
fn qos2_pubrec_and_store_update_wait_for_acknowledge() {
    for v in [V5, V311] {
        let mut o = manual();
        o.report_store_updates = true;
        let mut s = connected(v, o);
        s.broker_sends(&publish(v, QOS2, 5));
        s.broker_sends(&publish(v, QOS2 | DUP, 5));
        s.expect_written(&[]);
        s.expect_events(&[message(QoS::ExactlyOnce, 5, false)]);
        assert_eq!(s.client.stats().duplicates_suppressed, 1);
        assert_eq!(store_updates(&mut s), []);

        acknowledge(&mut s, token(QoS::ExactlyOnce, 5));
        s.expect_written(&pubrec(5));
        assert_eq!(
            store_updates(&mut s),
            [StoreUpdate::IncomingQoS2Received { packet_id: 5 }]
        );

        // A resend after the acknowledgment is answered at once, as without manual_acks.
        s.broker_sends(&publish(v, QOS2 | DUP, 5));
        s.expect_written(&pubrec(5));
        s.expect_events(&[]);

        s.broker_sends(&[0x62, 0x02, 0x00, 0x05]); // PUBREL 5
        s.expect_written(&[0x70, 0x02, 0x00, 0x05]); // PUBCOMP 5
        assert_eq!(
            store_updates(&mut s),
            [StoreUpdate::IncomingQoS2Released { packet_id: 5 }]
        );
    }
}

/// MQTT-4.6.0-2, MQTT-4.6.0-3: QoS 1 and QoS 2 share one order.
#[test]
fn qos1_and_qos2_acknowledgments_share_the_arrival_order() {
    for v in [V5, V311] {
        let mut s = connected(v, manual());
        s.broker_sends(&publish(v, QOS1, 1));
        s.broker_sends(&publish(v, QOS2, 2));
        s.broker_sends(&publish(v, QOS1, 3));
        acknowledge(&mut s, token(QoS::AtLeastOnce, 3));
        acknowledge(&mut s, token(QoS::ExactlyOnce, 2));
        s.expect_written(&[]);
        acknowledge(&mut s, token(QoS::AtLeastOnce, 1));
        s.expect_written(&[puback(1), pubrec(2), puback(3)].concat());
    }
}

/// Only a message awaiting acknowledgment can be acknowledged, and only once.
#[test]
fn unknown_or_repeated_acknowledgment_is_refused() {
    for v in [V5, V311] {
        let mut s = connected(v, manual());
        s.broker_sends(&publish(v, QOS1, 7));
        let unknown = [
            token(QoS::AtLeastOnce, 9),
            token(QoS::ExactlyOnce, 7),
            token(QoS::AtMostOnce, 7),
        ];
        for t in unknown {
            assert_eq!(s.client.acknowledge(s.now, t), Err(AckError::NotPending));
        }
        acknowledge(&mut s, token(QoS::AtLeastOnce, 7));
        let again = s.client.acknowledge(s.now, token(QoS::AtLeastOnce, 7));
        assert_eq!(again, Err(AckError::NotPending));
        s.expect_written(&puback(7));
    }
}

/// Without manual_acks the client holds nothing to acknowledge.
#[test]
fn without_manual_acks_nothing_awaits_acknowledgment() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    s.broker_sends(&publish(V5, QOS1, 7));
    s.expect_written(&puback(7));
    let again = s.client.acknowledge(s.now, token(QoS::AtLeastOnce, 7));
    assert_eq!(again, Err(AckError::NotPending));
}

#[test]
fn token_names_the_message() {
    let Event::Message(mut p) = message(QoS::ExactlyOnce, 4, true) else {
        unreachable!()
    };
    assert_eq!(AckToken::of(&p), Some(token(QoS::ExactlyOnce, 4)));
    p.qos = QoS::AtMostOnce;
    p.packet_id = 0;
    assert_eq!(AckToken::of(&p), None);
}

/// MQTT-4.4.0-1: on a resumed session the broker resends what we have not
/// acknowledged. A QoS 1 message the application has not acknowledged is
/// delivered again (one PUBACK for both deliveries); a QoS 2 message
/// acknowledged while disconnected (nothing written) is not, and its PUBREC
/// answers the resend once the earlier PUBACK has gone.
#[test]
fn pending_acknowledgments_survive_a_resumed_session() {
    for v in [V5, V311] {
        let mut o = durable(v);
        o.report_store_updates = true;
        let mut s = connected(v, o);
        s.broker_sends(&publish(v, QOS1, 1));
        s.broker_sends(&publish(v, QOS2, 2));
        s.events();

        drop_transport(&mut s);
        acknowledge(&mut s, token(QoS::ExactlyOnce, 2));
        s.expect_written(&[]);
        assert_eq!(
            store_updates(&mut s),
            [StoreUpdate::IncomingQoS2Received { packet_id: 2 }]
        );

        connect(&mut s);
        connack(&mut s, v, true);
        s.expect_written(&[]);
        s.broker_sends(&publish(v, QOS1 | DUP, 1));
        s.broker_sends(&publish(v, QOS2 | DUP, 2));
        s.expect_events(&[message(QoS::AtLeastOnce, 1, true)]);
        s.expect_written(&[]);
        acknowledge(&mut s, token(QoS::AtLeastOnce, 1));
        s.expect_written(&[puback(1), pubrec(2)].concat());
        let again = s.client.acknowledge(s.now, token(QoS::AtLeastOnce, 1));
        assert_eq!(again, Err(AckError::NotPending));
    }
}

/// A QoS 1 message acknowledged while the new connection waits for CONNACK:
/// nothing is written then, and the resend is answered, not delivered again.
#[test]
fn qos1_acknowledged_before_connack_is_answered_when_resent() {
    for v in [V5, V311] {
        let mut s = connected(v, durable(v));
        s.broker_sends(&publish(v, QOS1, 1));
        s.events();
        drop_transport(&mut s);
        connect(&mut s);
        acknowledge(&mut s, token(QoS::AtLeastOnce, 1));
        s.expect_written(&[]);
        connack(&mut s, v, true);
        s.expect_written(&[]);

        s.broker_sends(&publish(v, QOS1 | DUP, 1));
        s.expect_written(&puback(1));
        s.expect_events(&[]);
        assert_eq!(s.client.stats().duplicates_suppressed, 1);
    }
}

/// A broker that lost the session resends nothing: every pending
/// acknowledgment is forgotten, and the identifiers are new again.
#[test]
fn lost_session_forgets_pending_acknowledgments() {
    for v in [V5, V311] {
        let mut s = connected(v, durable(v));
        s.broker_sends(&publish(v, QOS1, 1));
        s.broker_sends(&publish(v, QOS2, 2));
        s.events();
        drop_transport(&mut s);
        connect(&mut s);
        connack(&mut s, v, false);
        for t in [token(QoS::AtLeastOnce, 1), token(QoS::ExactlyOnce, 2)] {
            assert_eq!(s.client.acknowledge(s.now, t), Err(AckError::NotPending));
        }
        s.expect_written(&[]);

        s.broker_sends(&publish(v, QOS2, 2));
        s.expect_events(&[message(QoS::ExactlyOnce, 2, false)]);
        acknowledge(&mut s, token(QoS::ExactlyOnce, 2));
        s.expect_written(&pubrec(2));
    }
}

/// MQTT-3.3.4-9: messages awaiting the application count against our
/// Receive Maximum, QoS 1 among them; an acknowledged QoS 1 message no longer does.
#[test]
fn receive_maximum_counts_messages_awaiting_acknowledgment() {
    let mut o = manual();
    o.receive_maximum = 2;
    let mut s = Scenario::connected_v5(o.clone());
    s.broker_sends(&publish(V5, QOS1, 1));
    s.broker_sends(&publish(V5, QOS2, 2));
    s.broker_sends(&publish(V5, QOS2, 3));
    s.expect_written(&[0xE0, 0x01, 0x93]); // DISCONNECT Receive Maximum exceeded
    s.expect_events(&[
        message(QoS::AtLeastOnce, 1, false),
        message(QoS::ExactlyOnce, 2, false),
        Event::Disconnected(DisconnectReason::ProtocolError {
            reason_code: ReasonCode::ReceiveMaximumExceeded,
            violation: ProtocolViolation::ReceiveMaximumExceeded(2),
        }),
    ]);

    let mut s = Scenario::connected_v5(o);
    s.broker_sends(&publish(V5, QOS1, 1));
    s.broker_sends(&publish(V5, QOS2, 2));
    acknowledge(&mut s, token(QoS::AtLeastOnce, 1));
    s.broker_sends(&publish(V5, QOS2, 3));
    s.expect_written(&puback(1));
    s.expect_events(&[
        message(QoS::AtLeastOnce, 1, false),
        message(QoS::ExactlyOnce, 2, false),
        message(QoS::ExactlyOnce, 3, false),
    ]);
}
