//! Which broker the next dial goes to: the configured servers in turn
//! (failover), or the server a broker redirected the client to.

use mq_proto::client::DisconnectReason;
use mq_proto::{MqttString, ReasonCode};

/// Where [`Output::Dial`](super::Output::Dial) asks the adapter to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The server at this index of the list the client was made with: the
    /// URL `connect` was given (0), then [`ConnectOptions::failover`](crate::ConnectOptions::failover) in order.
    Server(usize),
    /// The Server Reference a broker sent with Use another server (0x9C) or
    /// Server moved (0x9D), when redirects are followed: `host[:port]` or a
    /// URL; without a scheme, the current server's.
    Redirect(MqttString),
}

/// The failover and redirect state.
#[derive(Debug)]
pub(super) struct Servers {
    count: usize,
    current: usize,
    /// Attempts without CONNACK before the first connection (only a first
    /// connect consults it: later ones retry for as long as the policy says).
    failed: usize,
    follow_redirects: bool,
    redirect: Option<MqttString>,
}

impl Servers {
    pub(super) fn new(count: usize, follow_redirects: bool) -> Self {
        Servers {
            count: count.max(1),
            current: 0,
            failed: 0,
            follow_redirects,
            redirect: None,
        }
    }

    /// Where to dial now: a pending redirect once, else the current server.
    pub(super) fn next_target(&mut self) -> Target {
        match self.redirect.take() {
            Some(reference) => Target::Redirect(reference),
            None => Target::Server(self.current),
        }
    }

    /// An attempt got no CONNACK: the next goes to the next server.
    pub(super) fn attempt_failed(&mut self) {
        self.failed = self.failed.saturating_add(1);
        self.current = (self.current + 1) % self.count;
    }

    /// Whether some server has not been tried yet (a first connect fails
    /// only once every server failed).
    pub(super) fn untried(&self) -> bool {
        self.failed < self.count
    }

    /// Follows a redirect in `reason` if redirects are followed; true if so.
    pub(super) fn follow(&mut self, reason: &DisconnectReason) -> bool {
        let (code, properties) = match reason {
            DisconnectReason::Server(d) => (d.reason_code, &d.properties),
            DisconnectReason::Refused(c) => (c.reason_code, &c.properties),
            _ => return false,
        };
        let redirect = matches!(code, ReasonCode::UseAnotherServer | ReasonCode::ServerMoved);
        match properties.server_reference() {
            Some(reference) if redirect && self.follow_redirects => {
                // A list of references is separated by spaces: take the first.
                let first = reference.split(' ').next().unwrap_or_default();
                self.redirect = Some(first.into());
                true
            }
            _ => false,
        }
    }
}
