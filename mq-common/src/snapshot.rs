//! What user handles read without asking the driver: a snapshot the driver
//! refreshes after every input.

use mq_proto::client::{Client as Core, ConnectionState, ServerCapabilities, Stats};
use mq_proto::{ConnAck, MqttString, ProtocolVersion};

/// The driver's latest view of the connection.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Connected now.
    pub connected: bool,
    /// Stopped for good.
    pub closed: bool,
    /// Counters.
    pub stats: Stats,
    /// The broker's capabilities from the last CONNACK.
    pub capabilities: ServerCapabilities,
    /// The client identifier in use.
    pub client_id: MqttString,
    /// The protocol version in use.
    pub version: ProtocolVersion,
    /// Publishes in the outgoing queue.
    pub queued: usize,
    /// QoS 1/2 publishes awaiting acknowledgment.
    pub in_flight: usize,
    /// The last accepted CONNACK.
    pub connack: Option<ConnAck>,
}

impl Snapshot {
    /// The view before the first connection.
    pub fn new(options: &mq_proto::client::Options) -> Self {
        let core = Core::new(options.clone());
        Snapshot {
            connected: false,
            closed: false,
            stats: core.stats(),
            capabilities: core.server_capabilities().clone(),
            client_id: core.client_id().clone(),
            version: core.protocol_version(),
            queued: 0,
            in_flight: 0,
            connack: None,
        }
    }

    /// Refreshes from the core.
    pub fn update(&mut self, core: &Core, closed: bool) {
        let connected = core.state() == ConnectionState::Connected;
        if connected && !self.connected {
            self.capabilities = core.server_capabilities().clone();
            self.client_id = core.client_id().clone();
            self.version = core.protocol_version();
            self.connack = core.connack().cloned();
        }
        self.connected = connected;
        self.closed = closed;
        self.stats = core.stats();
        self.queued = core.queued();
        self.in_flight = core.in_flight();
    }
}
