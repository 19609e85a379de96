//! What handles can read without asking the driver: a snapshot it refreshes
//! after every input.

use mq_proto::client::{Client as Core, ConnectionState, ServerCapabilities, Stats};
use mq_proto::{MqttString, ProtocolVersion};

/// The driver's latest view of the connection.
#[derive(Clone, Debug)]
pub(crate) struct Shared {
    pub(crate) connected: bool,
    pub(crate) closed: bool,
    pub(crate) stats: Stats,
    pub(crate) capabilities: ServerCapabilities,
    pub(crate) client_id: MqttString,
    pub(crate) version: ProtocolVersion,
    pub(crate) queued: usize,
    pub(crate) in_flight: usize,
}

impl Shared {
    pub(crate) fn new(core: &Core) -> Self {
        Shared {
            connected: false,
            closed: false,
            stats: core.stats(),
            capabilities: core.server_capabilities().clone(),
            client_id: core.client_id().clone(),
            version: core.protocol_version(),
            queued: 0,
            in_flight: 0,
        }
    }

    pub(crate) fn update(&mut self, core: &Core, closed: bool) {
        let connected = core.state() == ConnectionState::Connected;
        if connected && !self.connected {
            self.capabilities = core.server_capabilities().clone();
            self.client_id = core.client_id().clone();
            self.version = core.protocol_version();
        }
        self.connected = connected;
        self.closed = closed;
        self.stats = core.stats();
        self.queued = core.queued();
        self.in_flight = core.in_flight();
    }
}
