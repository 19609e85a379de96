//! [`BrokerKind`]: the three broker programs the harness runs, where their
//! binaries are found, and which one a scenario on this thread starts.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mq_proto::ProtocolVersion;

/// The environment variable that, when set, names the rumqttd binary to run.
pub const RUMQTTD_ENV: &str = "MQ_E2E_RUMQTTD";
/// The environment variable that, when set, names the Node.js binary that runs Aedes.
pub const NODE_ENV: &str = "MQ_E2E_NODE";
/// The environment variable that, when set, names the directory holding
/// Aedes' `broker.mjs` and `node_modules` (default: `tests/aedes`).
pub const AEDES_DIR_ENV: &str = "MQ_E2E_AEDES_DIR";

/// A broker program the harness can start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BrokerKind {
    /// Mosquitto 2.0 (apt): 3.1.1 and 5.0 on one listener; the reference.
    Mosquitto,
    /// rumqttd 0.20 (crates.io): 3.1.1 and 5.0 on separate listeners.
    Rumqttd,
    /// Aedes 1.2 (npm, run by Node.js): 3.1.1 only.
    Aedes,
}

impl BrokerKind {
    /// Every kind, Mosquitto first.
    pub const ALL: [BrokerKind; 3] = [Self::Mosquitto, Self::Rumqttd, Self::Aedes];

    /// The program's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mosquitto => "mosquitto",
            Self::Rumqttd => "rumqttd",
            Self::Aedes => "aedes",
        }
    }
}

/// The broker kind and protocol version of the scenario running on this thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// What [`Broker::start`](crate::Broker::start) runs.
    pub kind: BrokerKind,
    /// The version the scenario's clients speak: on rumqttd,
    /// [`Broker::url`](crate::Broker::url) names that version's listener.
    pub version: ProtocolVersion,
}

thread_local! {
    static TARGET: Cell<Target> = const {
        Cell::new(Target { kind: BrokerKind::Mosquitto, version: ProtocolVersion::V5 })
    };
}

/// The target of this thread: Mosquitto and 5.0 unless inside [`with_target`].
pub fn target() -> Target {
    TARGET.with(Cell::get)
}

/// Runs `f` with `target` as this thread's target (restored afterwards, also
/// when `f` panics): every [`Broker::start`](crate::Broker::start) in `f`
/// starts `target.kind`.
pub fn with_target<R>(target: Target, f: impl FnOnce() -> R) -> R {
    struct Restore(Target);
    impl Drop for Restore {
        fn drop(&mut self) {
            TARGET.with(|t| t.set(self.0));
        }
    }
    let _restore = Restore(TARGET.with(|t| t.replace(target)));
    f()
}

/// The rumqttd binary: `$MQ_E2E_RUMQTTD`, else `rumqttd` on `PATH`, else
/// `$CARGO_HOME/bin/rumqttd`, else `~/.cargo/bin/rumqttd`.
///
/// # Panics
///
/// When none exists, with a message saying how to install it.
pub fn rumqttd_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo_bins = [
            std::env::var_os("CARGO_HOME").map(|h| PathBuf::from(h).join("bin")),
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin")),
        ];
        find_binary(RUMQTTD_ENV, "rumqttd", cargo_bins.into_iter().flatten()).unwrap_or_else(|| {
            panic!(
                "the interop tests need rumqttd: install it with \
                     `cargo install rumqttd --version 0.20.0`, or set {RUMQTTD_ENV} to its path"
            )
        })
    })
}

/// The Node.js binary that runs Aedes: `$MQ_E2E_NODE`, else `node` on
/// `PATH`, `/usr/bin` or `/usr/local/bin`.
///
/// # Panics
///
/// When none exists, with a message saying how to install it.
pub fn node_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let usual = ["/usr/bin", "/usr/local/bin"].map(PathBuf::from);
        find_binary(NODE_ENV, "node", usual.into_iter()).unwrap_or_else(|| {
            panic!(
                "the Aedes interop tests need Node.js 20 or later (`apt-get install nodejs npm`), \
                 or set {NODE_ENV} to its path"
            )
        })
    })
}

/// The directory of `broker.mjs` with Aedes installed beside it.
///
/// # Panics
///
/// When Aedes is not installed there, saying how to install it.
pub fn aedes_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::var_os(AEDES_DIR_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("aedes"));
        assert!(
            dir.join("node_modules/aedes/package.json").is_file(),
            "Aedes is not installed in {}: run `npm ci` there (or set {AEDES_DIR_ENV})",
            dir.display()
        );
        dir
    })
}

/// `$env` if set (it must name a file), else the first `name` found on `PATH`
/// or in `more`.
pub(crate) fn find_binary(
    env: &str,
    name: &str,
    more: impl Iterator<Item = PathBuf>,
) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "{env}={} is not a file", path.display());
        return Some(path);
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(more)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_target_sets_and_restores_the_thread_target() {
        let default = target();
        assert_eq!(default.kind, BrokerKind::Mosquitto);
        let aedes = Target {
            kind: BrokerKind::Aedes,
            version: ProtocolVersion::V311,
        };
        let seen = with_target(aedes, target);
        assert_eq!(seen, aedes);
        assert_eq!(target(), default);
        let panicked = std::panic::catch_unwind(|| with_target(aedes, || panic!("scenario")));
        assert!(panicked.is_err());
        assert_eq!(target(), default, "restored after a panic");
    }
}
