//! A scripted broker for scenario tests: it feeds exact bytes at exact times
//! and checks exactly what the client writes and reports.

use alloc::vec::Vec;
use core::time::Duration;

use crate::client::{Client, Event, Instant, Options};

/// A client under test with a clock the test moves.
pub(super) struct Scenario {
    pub client: Client,
    pub now: Instant,
}

impl Scenario {
    /// A client with `options`, not yet connected, at time zero.
    pub fn new(options: Options) -> Self {
        Scenario {
            client: Client::new(options),
            now: Instant::ZERO,
        }
    }

    /// Moves the clock to `ms` milliseconds and runs `handle_timeout` if a deadline passed.
    pub fn at_ms(&mut self, ms: u64) {
        self.now = Instant::from_millis(ms);
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            self.client.handle_timeout(self.now);
        }
    }

    /// Moves the clock forward by `d`, running `handle_timeout` at each deadline on the way.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        for _ in 0..10_000 {
            match self.client.poll_timeout() {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.client.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = end;
    }

    /// The broker sends `bytes`.
    pub fn broker_sends(&mut self, bytes: &[u8]) {
        self.client.handle_bytes(self.now, bytes);
    }

    /// Everything the client wrote since the last call.
    pub fn written(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(b) = self.client.poll_transmit() {
            out.extend_from_slice(&b);
        }
        out
    }

    /// Asserts the client wrote exactly `expected` since the last check.
    #[track_caller]
    pub fn expect_written(&mut self, expected: &[u8]) {
        let got = self.written();
        assert_eq!(
            got, expected,
            "client wrote {got:02X?}, expected {expected:02X?}"
        );
    }

    /// Every event raised since the last call.
    pub fn events(&mut self) -> Vec<Event> {
        core::iter::from_fn(|| self.client.poll_event()).collect()
    }

    /// Asserts the events raised since the last check are exactly `expected`.
    #[track_caller]
    pub fn expect_events(&mut self, expected: &[Event]) {
        assert_eq!(self.events(), expected);
    }

    /// Connects with a 5.0 CONNACK (no session, no properties) and clears output.
    pub fn connected_v5(options: Options) -> Self {
        let mut s = Scenario::new(options);
        s.client.connect(s.now).expect("connect");
        s.written();
        s.broker_sends(&[0x20, 0x03, 0x00, 0x00, 0x00]);
        s.written();
        s.events();
        s
    }

    /// Connects at 3.1.1 (CONNACK `20 02 00 00`: no session, accepted) and clears output.
    pub fn connected_v311(mut options: Options) -> Self {
        options.protocol_version = crate::codec::ProtocolVersion::V311;
        let mut s = Scenario::new(options);
        s.client.connect(s.now).expect("connect");
        s.written();
        s.broker_sends(&[0x20, 0x02, 0x00, 0x00]);
        s.written();
        s.events();
        s
    }
}
