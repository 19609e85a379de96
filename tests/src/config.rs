//! [`BrokerConfig`]: what a test asks of its broker, and the configuration
//! file written from it (Mosquitto's, or rumqttd's; Aedes takes only a port).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::BrokerKind;

/// The settings of one test broker, built with chained calls.
///
/// The default is a plain broker: one MQTT listener on a free loopback port
/// (rumqttd: one per protocol version), anonymous clients allowed, nothing
/// persisted, the broker's own limits. Every setting but the default is
/// Mosquitto's: the other kinds refuse to start with one
/// ([`BrokerConfig::unsupported_by`]).
///
/// ```
/// use mq_e2e::BrokerConfig;
/// let config = BrokerConfig::new().persistence(true).max_packet_size(2048).websockets(true);
/// # let _ = config;
/// ```
#[derive(Clone, Debug, Default)]
pub struct BrokerConfig {
    persistence: bool,
    max_packet_size: Option<u32>,
    max_inflight_messages: Option<u16>,
    max_topic_alias: Option<u16>,
    max_keepalive: Option<u16>,
    max_queued_messages: Option<u32>,
    websockets: bool,
    tls: Option<TlsConfig>,
    extra_lines: Vec<String>,
}

/// The files of a TLS listener, as paths Mosquitto can read.
///
/// ```
/// use mq_e2e::TlsConfig;
/// let tls = TlsConfig::new("/certs/server.pem", "/certs/server.key")
///     .cafile("/certs/ca.pem")
///     .require_certificate(true);
/// # let _ = tls;
/// ```
#[derive(Clone, Debug)]
pub struct TlsConfig {
    certfile: PathBuf,
    keyfile: PathBuf,
    cafile: Option<PathBuf>,
    require_certificate: bool,
}

impl TlsConfig {
    /// A TLS listener presenting the PEM certificate `certfile` with its private key `keyfile`.
    pub fn new(certfile: impl Into<PathBuf>, keyfile: impl Into<PathBuf>) -> Self {
        TlsConfig {
            certfile: certfile.into(),
            keyfile: keyfile.into(),
            cafile: None,
            require_certificate: false,
        }
    }

    /// The PEM file of the authority that client certificates must chain to (`cafile`).
    pub fn cafile(mut self, path: impl Into<PathBuf>) -> Self {
        self.cafile = Some(path.into());
        self
    }

    /// Whether clients must present a certificate (`require_certificate`); off by default.
    pub fn require_certificate(mut self, require: bool) -> Self {
        self.require_certificate = require;
        self
    }
}

impl BrokerConfig {
    /// A plain broker; the same as `BrokerConfig::default()`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps sessions, queued and retained messages on disk across
    /// [`Broker::kill`](crate::Broker::kill) and [`Broker::restart`](crate::Broker::restart).
    ///
    /// The database lives in the broker's temporary directory and is written
    /// after every change (`autosave_on_changes true`, `autosave_interval 1`),
    /// at the end of the event-loop turn that made it. To be sure a change is
    /// on disk before a SIGKILL, finish one more round trip after its
    /// acknowledgement (a PINGREQ answered by PINGRESP is enough).
    pub fn persistence(mut self, on: bool) -> Self {
        self.persistence = on;
        self
    }

    /// The largest packet the broker accepts and announces in CONNACK (`max_packet_size`).
    pub fn max_packet_size(mut self, bytes: u32) -> Self {
        self.max_packet_size = Some(bytes);
        self
    }

    /// QoS 1 and 2 messages in flight per client (`max_inflight_messages`);
    /// announced to 5.0 clients as Receive Maximum.
    pub fn max_inflight_messages(mut self, count: u16) -> Self {
        self.max_inflight_messages = Some(count);
        self
    }

    /// Topic aliases a 5.0 client may create (`max_topic_alias`, set on every listener);
    /// announced as Topic Alias Maximum.
    pub fn max_topic_alias(mut self, count: u16) -> Self {
        self.max_topic_alias = Some(count);
        self
    }

    /// The longest keep alive the broker allows, seconds (`max_keepalive`);
    /// a 5.0 client asking for more gets Server Keep Alive in CONNACK.
    pub fn max_keepalive(mut self, seconds: u16) -> Self {
        self.max_keepalive = Some(seconds);
        self
    }

    /// Messages queued per client beyond those in flight (`max_queued_messages`).
    pub fn max_queued_messages(mut self, count: u32) -> Self {
        self.max_queued_messages = Some(count);
        self
    }

    /// Adds an MQTT-over-WebSocket listener on a second free loopback port,
    /// given by [`Broker::ws_port`](crate::Broker::ws_port).
    pub fn websockets(mut self, on: bool) -> Self {
        self.websockets = on;
        self
    }

    /// Adds an MQTT-over-TLS listener on another free loopback port, given by
    /// [`Broker::tls_port`](crate::Broker::tls_port).
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Appends a raw line to the end of the configuration file, after the
    /// listeners: a per-listener option there applies to the last listener.
    ///
    /// For example `.extra_line("log_type all")` logs every packet.
    pub fn extra_line(mut self, line: impl Into<String>) -> Self {
        self.extra_lines.push(line.into());
        self
    }

    /// The first setting `kind` cannot honour, by its Mosquitto name; `None`
    /// when it can run this configuration.
    pub fn unsupported_by(&self, kind: BrokerKind) -> Option<&'static str> {
        if kind == BrokerKind::Mosquitto {
            return None;
        }
        [
            (self.persistence, "persistence"),
            (self.max_packet_size.is_some(), "max_packet_size"),
            (
                self.max_inflight_messages.is_some(),
                "max_inflight_messages",
            ),
            (self.max_topic_alias.is_some(), "max_topic_alias"),
            (self.max_keepalive.is_some(), "max_keepalive"),
            (self.max_queued_messages.is_some(), "max_queued_messages"),
            (self.websockets, "websockets"),
            (self.tls.is_some(), "tls"),
            (!self.extra_lines.is_empty(), "extra_line"),
        ]
        .into_iter()
        .find_map(|(set, name)| set.then_some(name))
    }

    pub(crate) fn persistence_enabled(&self) -> bool {
        self.persistence
    }

    pub(crate) fn wants_websockets(&self) -> bool {
        self.websockets
    }

    pub(crate) fn wants_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The text of `mosquitto.conf` for these settings.
    pub(crate) fn render(&self, ports: &Ports, dir: &Path, run_as_root: bool) -> String {
        let mut c = String::from("# Written by the mq-e2e test harness.\n");
        let mut line = |args: std::fmt::Arguments<'_>| {
            let _ = c.write_fmt(args);
            c.push('\n');
        };
        line(format_args!("log_dest stderr"));
        line(format_args!("log_timestamp_format %Y-%m-%dT%H:%M:%S"));
        if run_as_root {
            // Otherwise Mosquitto drops to the `mosquitto` user, which cannot
            // write to a directory root created.
            line(format_args!("user root"));
        }
        line(format_args!("allow_anonymous true"));
        if self.persistence {
            line(format_args!("persistence true"));
            line(format_args!(
                "persistence_location {}/",
                dir.join(PERSISTENCE_DIR).display()
            ));
            line(format_args!("autosave_on_changes true"));
            line(format_args!("autosave_interval 1"));
        }
        if let Some(v) = self.max_packet_size {
            line(format_args!("max_packet_size {v}"));
        }
        if let Some(v) = self.max_inflight_messages {
            line(format_args!("max_inflight_messages {v}"));
        }
        if let Some(v) = self.max_keepalive {
            line(format_args!("max_keepalive {v}"));
        }
        if let Some(v) = self.max_queued_messages {
            line(format_args!("max_queued_messages {v}"));
        }

        let mut listener = |port: u16, options: &[String]| {
            line(format_args!("listener {port} 127.0.0.1"));
            for option in options {
                line(format_args!("{option}"));
            }
            if let Some(v) = self.max_topic_alias {
                line(format_args!("max_topic_alias {v}"));
            }
        };
        listener(ports.main, &[]);
        if let Some(port) = ports.ws {
            listener(port, &["protocol websockets".to_string()]);
        }
        if let (Some(port), Some(tls)) = (ports.tls, &self.tls) {
            let mut options = vec![
                format!("certfile {}", tls.certfile.display()),
                format!("keyfile {}", tls.keyfile.display()),
            ];
            if let Some(cafile) = &tls.cafile {
                options.push(format!("cafile {}", cafile.display()));
            }
            options.push(format!("require_certificate {}", tls.require_certificate));
            listener(port, &options);
        }
        for extra in &self.extra_lines {
            line(format_args!("{extra}"));
        }
        c
    }
}

/// The text of `rumqttd.toml` for a default configuration: the 5.0 listener
/// on `ports.main`, the 3.1.1 one on `ports.v311`, segments small enough
/// for tests (rumqttd's own 100 MiB × 10 grow to a GiB under load), packets
/// up to 1 MiB (its default is 20 KiB), and no console or metrics server.
pub(crate) fn render_rumqttd(ports: &Ports) -> String {
    let mut c = String::from("# Written by the mq-e2e test harness.\nid = 0\n\n");
    c.push_str(
        "[router]\nid = 0\nmax_connections = 1000\nmax_outgoing_packet_count = 200\n\
         max_segment_size = 1048576\nmax_segment_count = 4\n",
    );
    let v311 = ports.v311.expect("rumqttd has a 3.1.1 listener");
    for (table, port) in [("v4", v311), ("v5", ports.main)] {
        let _ = write!(
            c,
            "\n[{table}.1]\nname = \"{table}-1\"\nlisten = \"127.0.0.1:{port}\"\n\
             next_connection_delay_ms = 1\n[{table}.1.connections]\n\
             connection_timeout_ms = 5000\nmax_payload_size = 1048576\n\
             max_inflight_count = 100\ndynamic_filters = true\n"
        );
    }
    c
}

/// The subdirectory of the broker's directory that holds `mosquitto.db`.
pub(crate) const PERSISTENCE_DIR: &str = "data";

/// The loopback ports a broker listens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ports {
    pub(crate) main: u16,
    pub(crate) ws: Option<u16>,
    pub(crate) tls: Option<u16>,
    /// rumqttd's 3.1.1 listener (its 5.0 one is `main`).
    pub(crate) v311: Option<u16>,
}

impl Ports {
    /// Every port, main first.
    pub(crate) fn all(&self) -> impl Iterator<Item = u16> {
        [Some(self.main), self.ws, self.tls, self.v311]
            .into_iter()
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORTS: Ports = Ports {
        main: 1883,
        ws: Some(8080),
        tls: Some(8883),
        v311: None,
    };

    #[test]
    fn plain_config_has_one_loopback_listener() {
        let text = BrokerConfig::new().render(
            &Ports {
                main: 1883,
                ws: None,
                tls: None,
                v311: None,
            },
            Path::new("/tmp/x"),
            false,
        );
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "log_dest stderr",
                "log_timestamp_format %Y-%m-%dT%H:%M:%S",
                "allow_anonymous true",
                "listener 1883 127.0.0.1",
            ]
        );
    }

    #[test]
    fn every_option_is_written_where_mosquitto_reads_it() {
        let config = BrokerConfig::new()
            .persistence(true)
            .max_packet_size(2048)
            .max_inflight_messages(7)
            .max_topic_alias(5)
            .max_keepalive(30)
            .max_queued_messages(100)
            .websockets(true)
            .tls(
                TlsConfig::new("/c/s.pem", "/c/s.key")
                    .cafile("/c/ca.pem")
                    .require_certificate(true),
            )
            .extra_line("log_type all");
        let text = config.render(&PORTS, Path::new("/tmp/x"), true);
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "log_dest stderr",
                "log_timestamp_format %Y-%m-%dT%H:%M:%S",
                "user root",
                "allow_anonymous true",
                "persistence true",
                "persistence_location /tmp/x/data/",
                "autosave_on_changes true",
                "autosave_interval 1",
                "max_packet_size 2048",
                "max_inflight_messages 7",
                "max_keepalive 30",
                "max_queued_messages 100",
                "listener 1883 127.0.0.1",
                "max_topic_alias 5",
                "listener 8080 127.0.0.1",
                "protocol websockets",
                "max_topic_alias 5",
                "listener 8883 127.0.0.1",
                "certfile /c/s.pem",
                "keyfile /c/s.key",
                "cafile /c/ca.pem",
                "require_certificate true",
                "max_topic_alias 5",
                "log_type all",
            ]
        );
        assert_eq!(config.unsupported_by(BrokerKind::Mosquitto), None);
        assert_eq!(
            config.unsupported_by(BrokerKind::Aedes),
            Some("persistence")
        );
        let tls_only = BrokerConfig::new().tls(TlsConfig::new("/c/s.pem", "/c/s.key"));
        assert_eq!(tls_only.unsupported_by(BrokerKind::Rumqttd), Some("tls"));
        assert_eq!(
            BrokerConfig::new().unsupported_by(BrokerKind::Rumqttd),
            None
        );
    }

    #[test]
    fn rumqttd_config_has_one_listener_per_version_and_small_segments() {
        let text = render_rumqttd(&Ports {
            main: 1884,
            ws: None,
            tls: None,
            v311: Some(1883),
        });
        for want in [
            "[v4.1]\nname = \"v4-1\"\nlisten = \"127.0.0.1:1883\"",
            "[v5.1]\nname = \"v5-1\"\nlisten = \"127.0.0.1:1884\"",
            "max_segment_size = 1048576\nmax_segment_count = 4",
        ] {
            assert!(text.contains(want), "{want:?} missing from\n{text}");
        }
        assert!(!text.contains("console") && !text.contains("prometheus"));
    }
}
