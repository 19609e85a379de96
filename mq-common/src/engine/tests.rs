//! The engine's lifecycle and dispatch, driven by hand: the broker's bytes
//! are scripted, time is a number, no runtime.

use super::*;

const T0: Instant = Instant::ZERO;

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// Drains outputs until a wait or a stop, collecting what was written.
fn drain(e: &mut Engine) -> (Vec<u8>, Vec<&'static str>, Option<Output>) {
    let mut written = Vec::new();
    let mut actions = Vec::new();
    for _ in 0..100 {
        match e.poll_output() {
            Output::Write { data, .. } => {
                written.extend_from_slice(&data);
                actions.push("write");
            }
            Output::Dial => actions.push("dial"),
            Output::Close { .. } => actions.push("close"),
            out @ (Output::Wait(_) | Output::Stopped) => return (written, actions, Some(out)),
        }
    }
    panic!("poll_output never said wait: {actions:?}");
}

#[test]
fn the_first_dial_connects_and_a_connack_completes_connect() {
    let mut parts = Engine::create(ConnectOptions::new("c"));
    let e = &mut parts.engine;
    assert!(matches!(e.poll_output(), Output::Dial));
    e.handle_input(T0, Input::Dialed);
    let (written, _, wait) = drain(e);
    assert_eq!(written[0], 0x10, "CONNECT first");
    assert!(matches!(wait, Some(Output::Wait(w)) if w.read && w.commands));
    e.handle_input(at(5), Input::Read(&[0x20, 0x03, 0x00, 0x00, 0x00]));
    assert!(matches!(parts.first_connect.try_take(), Some(Ok(()))));
}
