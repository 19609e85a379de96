//! [`Broker`]: one broker process per test (Mosquitto, rumqttd or Aedes),
//! on its own loopback ports, in its own temporary directory.

use std::fs::{self, OpenOptions};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use mq_proto::ProtocolVersion;

use crate::config::{render_rumqttd, BrokerConfig, Ports, PERSISTENCE_DIR};
use crate::kind::{aedes_dir, find_binary, node_binary, rumqttd_binary, target, BrokerKind};

/// How long a start waits for the broker to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a start tries to connect while it waits.
const READY_POLL: Duration = Duration::from_millis(20);
/// Fresh port sets tried by [`Broker::start`] when another process takes a port first.
const START_ATTEMPTS: usize = 5;
/// How long [`Broker::restart`] keeps trying to bind the same ports again.
const REBIND_TIMEOUT: Duration = Duration::from_secs(3);
/// How long [`Broker::pause`] and [`Broker::resume`] wait for the process state to change.
const SIGNAL_TIMEOUT: Duration = Duration::from_secs(2);

/// The environment variable that, when set, names the Mosquitto binary to run.
pub const MOSQUITTO_ENV: &str = "MQ_E2E_MOSQUITTO";

/// A running broker that lives as long as this value.
///
/// Dropping it kills the process (SIGKILL) and removes its temporary
/// directory; if the test is panicking, the broker's log is printed first.
#[derive(Debug)]
pub struct Broker {
    kind: BrokerKind,
    /// The version whose listener [`Broker::url`] names (rumqttd has one per version).
    version: ProtocolVersion,
    config: BrokerConfig,
    dir: PathBuf,
    config_path: PathBuf,
    log_path: PathBuf,
    ports: Ports,
    child: Option<Child>,
}

/// Why one attempt to run the broker failed.
enum StartError {
    /// A port was taken by another process before the broker bound it.
    PortInUse,
    /// Anything else; the text says what.
    Failed(String),
}

impl Broker {
    /// Starts the broker of this thread's [`Target`](crate::Target) (Mosquitto
    /// unless a scenario runs inside [`with_target`](crate::with_target)) with
    /// `config`, and returns once every listener accepts TCP connections.
    ///
    /// # Panics
    ///
    /// When the broker is not installed, cannot honour `config`
    /// ([`BrokerConfig::unsupported_by`]), or does not come up within 5
    /// seconds; the message holds the broker's log.
    pub fn start(config: BrokerConfig) -> Broker {
        let target = target();
        Broker::start_kind(target.kind, target.version, config)
    }

    /// Starts a `kind` broker with `config`; [`Broker::url`] names the
    /// listener of `version` (it matters on rumqttd only).
    ///
    /// # Panics
    ///
    /// As [`Broker::start`].
    pub fn start_kind(kind: BrokerKind, version: ProtocolVersion, config: BrokerConfig) -> Broker {
        if let Some(setting) = config.unsupported_by(kind) {
            panic!("{} cannot run with `{setting}` set", kind.name());
        }
        let dir = fresh_temp_dir();
        let config_name = match kind {
            BrokerKind::Mosquitto => "mosquitto.conf",
            BrokerKind::Rumqttd => "rumqttd.toml",
            BrokerKind::Aedes => "aedes.args",
        };
        let mut broker = Broker {
            kind,
            version,
            config,
            config_path: dir.join(config_name),
            log_path: dir.join("broker.log"),
            dir,
            ports: Ports {
                main: 0,
                ws: None,
                tls: None,
                v311: None,
            },
            child: None,
        };
        if broker.config.persistence_enabled() {
            let data = broker.dir.join(PERSISTENCE_DIR);
            fs::create_dir(&data)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", data.display()));
        }
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            broker.ports = free_ports(kind, &broker.config);
            let text = match kind {
                BrokerKind::Mosquitto => {
                    broker
                        .config
                        .render(&broker.ports, &broker.dir, running_as_root())
                }
                BrokerKind::Rumqttd => render_rumqttd(&broker.ports),
                BrokerKind::Aedes => format!("{}\n", broker.ports.main),
            };
            fs::write(&broker.config_path, text)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", broker.config_path.display()));
            match broker.run() {
                Ok(()) => return broker,
                Err(StartError::PortInUse) => last_error = "a port was taken".into(),
                Err(StartError::Failed(why)) => broker.fail(&why),
            }
        }
        broker.fail(&format!(
            "no free port set after {START_ATTEMPTS} attempts ({last_error})"
        ))
    }

    /// Which broker program runs.
    pub fn kind(&self) -> BrokerKind {
        self.kind
    }

    /// The loopback port of the MQTT listener (on rumqttd: of the version
    /// the broker was started for).
    pub fn port(&self) -> u16 {
        self.port_for(self.version)
    }

    /// The loopback port of the listener for `version`: on rumqttd, its
    /// 3.1.1 or its 5.0 listener; on the others, the one MQTT listener.
    pub fn port_for(&self, version: ProtocolVersion) -> u16 {
        match (version, self.ports.v311) {
            (ProtocolVersion::V311, Some(port)) => port,
            _ => self.ports.main,
        }
    }

    /// The address of the MQTT listener, `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port()))
    }

    /// The URL of the MQTT listener, `mqtt://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url_for(self.version)
    }

    /// The URL of the listener for `version` (see [`Broker::port_for`]).
    pub fn url_for(&self, version: ProtocolVersion) -> String {
        format!("mqtt://127.0.0.1:{}", self.port_for(version))
    }

    /// The loopback port of the WebSocket listener (path `/`, subprotocol `mqtt`).
    ///
    /// # Panics
    ///
    /// When the broker was started without [`BrokerConfig::websockets`].
    pub fn ws_port(&self) -> u16 {
        self.ports
            .ws
            .expect("this broker has no WebSocket listener: use BrokerConfig::websockets(true)")
    }

    /// The loopback port of the TLS listener.
    ///
    /// # Panics
    ///
    /// When the broker was started without [`BrokerConfig::tls`].
    pub fn tls_port(&self) -> u16 {
        self.ports
            .tls
            .expect("this broker has no TLS listener: use BrokerConfig::tls(..)")
    }

    /// The broker's temporary directory, removed when it is dropped: a
    /// place for a test's own files too.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Everything the broker has logged so far, across restarts.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path)
            .unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log_path.display()))
    }

    /// Kills the broker with SIGKILL, as a crash would, and waits for it to
    /// exit. Its clients see their connections reset or closed. Does nothing
    /// if it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Fails only if the process has already exited; wait reaps it either way.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the broker again on the same ports, with the same configuration
    /// and persistence directory, and returns once it accepts connections.
    /// Kills it first if it is still running.
    ///
    /// # Panics
    ///
    /// When the ports stay taken for 3 seconds or the broker does not come up;
    /// the message holds the broker's log.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + REBIND_TIMEOUT;
        loop {
            match self.run() {
                Ok(()) => return,
                Err(StartError::PortInUse) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(50));
                }
                Err(StartError::PortInUse) => self.fail("the ports stayed taken after a restart"),
                Err(StartError::Failed(why)) => self.fail(&why),
            }
        }
    }

    /// Stops the broker process with SIGSTOP, as if the link were dead:
    /// connections stay open and the kernel still accepts new ones, but
    /// nothing is read or answered until [`Broker::resume`].
    ///
    /// # Panics
    ///
    /// When the broker is not running or the signal cannot be sent.
    pub fn pause(&self) {
        let pid = self.signal("STOP");
        wait_for_state(pid, |state| state == 'T' || state == 't');
    }

    /// Lets a paused broker run again with SIGCONT; it then handles whatever
    /// arrived while it was stopped.
    ///
    /// # Panics
    ///
    /// When the broker is not running or the signal cannot be sent.
    pub fn resume(&self) {
        let pid = self.signal("CONT");
        wait_for_state(pid, |state| state != 'T' && state != 't');
    }

    /// Sends `signal` to the broker with `kill(1)` and returns its pid.
    fn signal(&self, signal: &str) -> u32 {
        let pid = match &self.child {
            Some(child) => child.id(),
            None => panic!("SIG{signal}: the broker is not running"),
        };
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .unwrap_or_else(|e| panic!("cannot run `kill -{signal} {pid}`: {e}"));
        assert!(status.success(), "`kill -{signal} {pid}` failed: {status}");
        pid
    }

    /// Runs the broker once with the current configuration and waits until
    /// every listener accepts TCP connections.
    fn run(&mut self) -> Result<(), StartError> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(|e| StartError::Failed(format!("cannot open the log file: {e}")))?;
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0) as usize;
        let stderr = log
            .try_clone()
            .map_err(|e| StartError::Failed(format!("cannot share the log file: {e}")))?;
        let mut command = match self.kind {
            BrokerKind::Mosquitto => {
                let mut c = Command::new(mosquitto_binary());
                c.arg("-c").arg(&self.config_path);
                c
            }
            BrokerKind::Rumqttd => {
                let mut c = Command::new(rumqttd_binary());
                c.arg("--quiet").arg("-c").arg(&self.config_path);
                c
            }
            BrokerKind::Aedes => {
                let mut c = Command::new(node_binary());
                c.arg(aedes_dir().join("broker.mjs"))
                    .arg(self.ports.main.to_string());
                c
            }
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .map_err(|e| StartError::Failed(format!("cannot start {}: {e}", self.kind.name())))?;
        self.child = Some(child);
        match self.wait_ready() {
            Ok(()) => Ok(()),
            Err(status) => {
                self.kill();
                let log = self.log();
                let new = log.get(log_start..).unwrap_or(&log);
                if new.contains("Address already in use")
                    || new.contains("EADDRINUSE")
                    || new.contains("Unable to create websockets listener")
                {
                    Err(StartError::PortInUse)
                } else {
                    Err(StartError::Failed(status))
                }
            }
        }
    }

    /// Polls every listener until it accepts a connection; the error says
    /// why the broker is not ready.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut pending: Vec<u16> = self.ports.all().collect();
        loop {
            if let Some(child) = &mut self.child {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        return Err(format!(
                            "{} exited during startup ({status})",
                            self.kind.name()
                        ))
                    }
                    Ok(None) => {}
                    Err(e) => return Err(format!("cannot check the broker process: {e}")),
                }
            }
            pending.retain(|&port| !accepts(port));
            if pending.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "ports {pending:?} did not accept connections within {READY_TIMEOUT:?}"
                ));
            }
            thread::sleep(READY_POLL);
        }
    }

    /// Panics with `why` and the broker's log.
    fn fail(&mut self, why: &str) -> ! {
        self.kill();
        panic!(
            "{} broker failed: {why}\n--- config {} ---\n{}--- log ---\n{}",
            self.kind.name(),
            self.config_path.display(),
            fs::read_to_string(&self.config_path).unwrap_or_default(),
            self.log()
        );
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() {
            eprintln!(
                "--- {} log (port {}) ---\n{}--- end of log ---",
                self.kind.name(),
                self.ports.main,
                self.log()
            );
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The Mosquitto binary: `$MQ_E2E_MOSQUITTO`, else `mosquitto` on `PATH`,
/// else `/usr/sbin/mosquitto` or `/usr/local/sbin/mosquitto`.
///
/// # Panics
///
/// When none exists, with a message saying how to install it.
pub fn mosquitto_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let usual = ["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from);
        find_binary(MOSQUITTO_ENV, "mosquitto", usual.into_iter()).unwrap_or_else(|| {
            panic!(
                "the end-to-end tests need the Mosquitto broker, found neither on PATH nor \
                     in /usr/sbin: install it with `apt-get install mosquitto` (Debian, Ubuntu), \
                     `brew install mosquitto` (macOS), or set {MOSQUITTO_ENV} to its path"
            )
        })
    })
}

/// A new empty directory for one broker: `$TMP/mq-e2e-PID-N`.
fn fresh_temp_dir() -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("mq-e2e-{}-{n}", std::process::id()));
    // Left over by an earlier process with the same pid that was killed.
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// Free loopback ports for every listener `kind` runs with `config`, all
/// different: each is bound to port 0 at the same time, read, and released.
fn free_ports(kind: BrokerKind, config: &BrokerConfig) -> Ports {
    let bind = || {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("cannot read a bound port: {e}"))
            .port();
        (listener, port)
    };
    let main = bind();
    let ws = config.wants_websockets().then(bind);
    let tls = config.wants_tls().then(bind);
    let v311 = (kind == BrokerKind::Rumqttd).then(bind);
    Ports {
        main: main.1,
        ws: ws.map(|(_, port)| port),
        tls: tls.map(|(_, port)| port),
        v311: v311.map(|(_, port)| port),
    }
}

/// Whether something accepts TCP connections on the loopback `port`.
fn accepts(port: u16) -> bool {
    let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Whether this process runs as root, in which case Mosquitto must be told
/// to stay root rather than switch to a user that cannot write our files.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    if let Ok(meta) = fs::metadata("/proc/self") {
        return meta.uid() == 0;
    }
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| out.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

/// Waits until the state letter in `/proc/PID/stat` satisfies `done`, for at
/// most [`SIGNAL_TIMEOUT`]. Without `/proc` (not Linux) it returns at once.
fn wait_for_state(pid: u32, done: impl Fn(char) -> bool) {
    let deadline = Instant::now() + SIGNAL_TIMEOUT;
    loop {
        let Some(state) = process_state(pid) else {
            return;
        };
        if done(state) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} still in state {state:?} after {SIGNAL_TIMEOUT:?}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// The state letter of process `pid` (`R`, `S`, `T`...), if `/proc` has it.
fn process_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "PID (COMM) STATE ...": COMM may hold spaces and parentheses.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.trim_start().chars().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{self, Read, Write};

    fn read_some(stream: &mut TcpStream) -> Vec<u8> {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = vec![0; 1024];
        let n = stream.read(&mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn starts_on_a_free_port_and_cleans_up() {
        let broker = Broker::start(BrokerConfig::new());
        let dir = broker.dir.clone();
        assert!(accepts(broker.port()));
        assert_eq!(broker.url(), format!("mqtt://127.0.0.1:{}", broker.port()));
        assert_eq!(broker.addr().port(), broker.port());
        assert!(
            broker.log().contains("mosquitto version"),
            "{}",
            broker.log()
        );
        let port = broker.port();
        drop(broker);
        assert!(!dir.exists(), "{} was not removed", dir.display());
        assert!(!accepts(port), "the broker still runs after drop");
    }

    #[test]
    fn two_brokers_get_different_ports() {
        let a = Broker::start(BrokerConfig::new());
        let b = Broker::start(BrokerConfig::new());
        assert_ne!(a.port(), b.port());
        assert_ne!(a.dir, b.dir);
    }

    #[test]
    fn kill_and_restart_keep_the_port() {
        let mut broker = Broker::start(BrokerConfig::new());
        let port = broker.port();
        broker.kill();
        assert!(!accepts(port));
        broker.kill(); // a second kill is harmless
        broker.restart();
        assert_eq!(broker.port(), port);
        assert!(accepts(port));
        broker.restart(); // restarting a running broker kills it first
        assert!(accepts(port));
        let log = broker.log();
        let starts = log.lines().filter(|l| l.ends_with(" running")).count();
        assert_eq!(starts, 3, "{log}");
    }

    #[test]
    fn pause_stops_answering_and_resume_answers() {
        let broker = Broker::start(BrokerConfig::new());
        let mut stream = TcpStream::connect(broker.addr()).unwrap();
        broker.pause();
        // A 3.1.1 CONNECT for client "p", then nothing comes back while paused.
        stream
            .write_all(b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x00\x00\x01p")
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let err = stream.read(&mut [0; 4]).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{err}"
        );
        broker.resume();
        assert_eq!(read_some(&mut stream), b"\x20\x02\x00\x00");
    }

    #[test]
    #[should_panic(expected = "no WebSocket listener")]
    fn ws_port_without_websockets_panics() {
        Broker::start(BrokerConfig::new()).ws_port();
    }

    #[test]
    fn websocket_listener_upgrades_to_mqtt() {
        let broker = Broker::start(BrokerConfig::new().websockets(true));
        assert_ne!(broker.ws_port(), broker.port());
        let mut stream = TcpStream::connect(("127.0.0.1", broker.ws_port())).unwrap();
        stream
            .write_all(
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
                  Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                  Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
            )
            .unwrap();
        let reply = String::from_utf8_lossy(&read_some(&mut stream)).into_owned();
        assert!(reply.starts_with("HTTP/1.1 101"), "{reply}");
        // The accept key of RFC 6455's example nonce.
        assert!(reply.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{reply}");
    }

    #[test]
    fn tls_listener_starts_with_a_certificate() {
        // A throwaway self-signed certificate; the TLS handshake itself is
        // tested by the adapters, which bring a TLS stack.
        let dir = fresh_temp_dir();
        let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
        let status = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
            .args(["-subj", "/CN=127.0.0.1", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::null())
            .status()
            .expect("the TLS listener test needs `openssl` (apt-get install openssl)");
        assert!(status.success());
        let broker = Broker::start(
            BrokerConfig::new().tls(crate::TlsConfig::new(&cert, &key).cafile(&cert)),
        );
        assert!(accepts(broker.tls_port()));
        assert!(broker
            .log()
            .contains(&format!("port {}", broker.tls_port())));
        drop(broker);
        let _ = fs::remove_dir_all(&dir);
    }

    /// A 5.0 CONNECT for client "p", keep alive 60 s.
    const CONNECT_V5: &[u8] = b"\x10\x0e\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x01p";
    /// A 3.1.1 CONNECT for client "p", keep alive 60 s.
    const CONNECT_V311: &[u8] = b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01p";

    /// Writes `connect` to `port` and returns the packet that comes back, or
    /// what came before the broker closed or 2 s passed.
    fn answer_to(port: u16, connect: &[u8]) -> Vec<u8> {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        stream.write_all(connect).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0; 64];
        while let Ok(n @ 1..) = stream.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
            // One whole packet (a CONNACK's remaining length fits one byte).
            if got.len() >= 2 && got.len() >= 2 + usize::from(got[1]) {
                break;
            }
        }
        got
    }

    #[test]
    fn rumqttd_serves_each_version_on_its_own_listener_and_restarts() {
        let mut broker = Broker::start_kind(
            BrokerKind::Rumqttd,
            ProtocolVersion::V311,
            BrokerConfig::new(),
        );
        let (v311, v5) = (
            broker.port_for(ProtocolVersion::V311),
            broker.port_for(ProtocolVersion::V5),
        );
        assert_ne!(v311, v5);
        assert_eq!(broker.port(), v311, "started for 3.1.1");
        assert_eq!(answer_to(v311, CONNECT_V311), b"\x20\x02\x00\x00");
        assert_eq!(answer_to(v5, CONNECT_V5)[..4], *b"\x20\x06\x00\x00");
        assert_eq!(answer_to(v311, CONNECT_V5), b"", "closed without CONNACK");
        broker.kill();
        assert!(!accepts(v311) && !accepts(v5));
        broker.restart();
        assert_eq!(broker.port_for(ProtocolVersion::V5), v5);
        assert_eq!(answer_to(v5, CONNECT_V5)[..4], *b"\x20\x06\x00\x00");
        assert!(fs::read_to_string(&broker.config_path)
            .unwrap()
            .contains("max_segment_size = 1048576"));
    }

    #[test]
    fn aedes_speaks_3_1_1_refuses_5_0_in_3_1_1_and_restarts() {
        let mut broker =
            Broker::start_kind(BrokerKind::Aedes, ProtocolVersion::V5, BrokerConfig::new());
        let port = broker.port();
        assert_eq!(broker.port_for(ProtocolVersion::V311), port, "one listener");
        assert_eq!(answer_to(port, CONNECT_V311), b"\x20\x02\x00\x00");
        // A 3.1.1 CONNACK, 0x01 unacceptable protocol version (not 5.0's 0x84).
        assert_eq!(answer_to(port, CONNECT_V5), b"\x20\x02\x00\x01");
        broker.kill();
        assert!(!accepts(port));
        broker.restart();
        assert_eq!(broker.port(), port);
        assert_eq!(answer_to(port, CONNECT_V311), b"\x20\x02\x00\x00");
    }

    #[test]
    #[should_panic(expected = "aedes cannot run with `persistence` set")]
    fn a_setting_a_broker_cannot_honour_is_refused() {
        Broker::start_kind(
            BrokerKind::Aedes,
            ProtocolVersion::V311,
            BrokerConfig::new().persistence(true),
        );
    }

    #[test]
    fn process_state_reads_our_own_process() {
        let state = process_state(std::process::id()).expect("/proc is mounted");
        assert!("RS".contains(state), "{state}");
    }
}
