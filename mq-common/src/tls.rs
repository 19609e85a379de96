//! TLS through [rustls](https://docs.rs/rustls) for `mqtts://`, `ssl://`,
//! `tls://` and `wss://` (feature `tls`).
//!
//! By default the broker's certificate must chain to one of Mozilla's root
//! authorities (the `webpki-roots` bundle compiled into the program) and name
//! the host of the URL. [`TlsOptions`] changes that: a CA file of your own
//! (a private broker), a client certificate and key (mutual TLS), another
//! name to verify, or a whole [`rustls::ClientConfig`] built by you.
//!
//! Every configuration built here uses the *ring* crypto provider explicitly;
//! this crate never installs a process-wide default provider, so it does not
//! fight with other users of rustls in the same program.
//!
//! Shared by every adapter; each runs the handshake with its runtime's rustls
//! stream (tokio-rustls, futures-rustls, `rustls::StreamOwned`).
//!
//! ```
//! use mq_common::{tls::TlsOptions, ConnectOptions};
//! let mut options = ConnectOptions::new("secure-sensor");
//! options.tls = TlsOptions::new()
//!     .ca_file("certs/ca.pem")
//!     .client_cert("certs/client.pem", "certs/client.key");
//! ```

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The rustls crate this one is built with, to build a
/// [`ClientConfig`](rustls::ClientConfig) for [`TlsOptions::config`] with
/// matching types.
pub use rustls;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// How to secure `mqtts://` and `wss://` connections.
///
/// The default trusts Mozilla's root authorities, presents no client
/// certificate and verifies the host name of the URL. Set fields directly or
/// chain the builder methods:
///
/// ```
/// use mq_common::tls::TlsOptions;
/// let tls = TlsOptions::new()
///     .ca_file("/etc/mosquitto/ca.pem")
///     .client_cert("/etc/mq/client.pem", "/etc/mq/client.key")
///     .server_name("broker.internal");
/// assert!(tls.ca_file.is_some());
/// ```
///
/// The files are read, and the configuration built, on every connection
/// attempt, so a certificate renewed on disk is used from the next reconnect
/// on. Call [`TlsOptions::client_config`] before connecting to find mistakes
/// early.
#[derive(Clone, Default)]
pub struct TlsOptions {
    /// A PEM file of the authorities to trust instead of Mozilla's roots
    /// (one or more `CERTIFICATE` sections). `None` trusts the roots of
    /// `webpki-roots`.
    pub ca_file: Option<PathBuf>,
    /// A certificate and private key to present to the broker (mutual TLS).
    pub client_cert: Option<ClientCert>,
    /// The name the broker's certificate must carry, when it differs from the
    /// host in the URL (connecting by IP address to a certificate issued for
    /// a DNS name, for example). Also sent as SNI when it is a DNS name.
    pub server_name: Option<String>,
    /// A rustls configuration of your own. When set it is used as it is and
    /// `ca_file` and `client_cert` are ignored; `server_name` still applies.
    pub config: Option<Arc<rustls::ClientConfig>>,
}

/// A client certificate chain and its private key, both PEM files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCert {
    /// The certificate chain, leaf first (`CERTIFICATE` sections).
    pub cert_file: PathBuf,
    /// The private key: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`)
    /// or SEC1 (`EC PRIVATE KEY`).
    pub key_file: PathBuf,
}

impl TlsOptions {
    /// The default: Mozilla's roots, no client certificate, the URL's host name.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts the authorities in the PEM file `path` instead of Mozilla's roots.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Presents the certificate chain in `cert_file` with the private key in
    /// `key_file` (PEM files) to brokers that ask for one.
    pub fn client_cert(
        mut self,
        cert_file: impl Into<PathBuf>,
        key_file: impl Into<PathBuf>,
    ) -> Self {
        self.client_cert = Some(ClientCert {
            cert_file: cert_file.into(),
            key_file: key_file.into(),
        });
        self
    }

    /// Verifies the broker's certificate against `name` instead of the URL's host.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Uses `config` as it is, ignoring the CA file and client certificate.
    pub fn config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.config = Some(config);
        self
    }

    /// The rustls configuration these options describe: [`TlsOptions::config`]
    /// when set, else one built with the *ring* provider, the safe default
    /// protocol versions (TLS 1.2 and 1.3), the trusted roots and the client
    /// certificate.
    ///
    /// # Errors
    ///
    /// [`TlsError`] when a file cannot be read, holds no usable certificate
    /// or key, or rustls refuses what it holds.
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, TlsError> {
        if let Some(config) = &self.config {
            return Ok(config.clone());
        }
        let mut roots = rustls::RootCertStore::empty();
        match &self.ca_file {
            Some(path) => {
                for cert in read_certs(path)? {
                    roots
                        .add(cert)
                        .map_err(|source| TlsError::BadCaCertificate {
                            path: path.clone(),
                            source,
                        })?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_root_certificates(roots);
        let config = match &self.client_cert {
            Some(client) => {
                let chain = read_certs(&client.cert_file)?;
                let key = read_key(&client.key_file)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|source| TlsError::BadClientCertificate {
                        path: client.cert_file.clone(),
                        source,
                    })?
            }
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

impl TlsOptions {
    /// The name the broker's certificate must carry: `server_name`, else `host`.
    pub fn verified_name(&self, host: &str) -> Result<ServerName<'static>, TlsError> {
        let name = self.server_name.as_deref().unwrap_or(host);
        ServerName::try_from(name.to_owned())
            .map_err(|_| TlsError::InvalidServerName(name.to_owned()))
    }
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("ca_file", &self.ca_file)
            .field("client_cert", &self.client_cert)
            .field("server_name", &self.server_name)
            .field("custom_config", &self.config.is_some())
            .finish()
    }
}

/// Why a TLS configuration could not be built or a TLS handshake failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate or key file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: io::Error,
    },
    /// A file is not well-formed PEM.
    #[error("{} is not valid PEM: {reason}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file that should hold certificates holds none.
    #[error("{} holds no CERTIFICATE section", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A file that should hold a private key holds none.
    #[error("{} holds no private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY section)", path.display())]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// A certificate of the CA file cannot serve as a trust anchor.
    #[error("CA certificate in {} rejected: {source}", path.display())]
    BadCaCertificate {
        /// The CA file.
        path: PathBuf,
        /// Why rustls refused it.
        source: rustls::Error,
    },
    /// The client certificate and key were refused (unsupported key type,
    /// or a key that does not match the certificate).
    #[error("client certificate {} and its key rejected: {source}", path.display())]
    BadClientCertificate {
        /// The certificate file.
        path: PathBuf,
        /// Why rustls refused them.
        source: rustls::Error,
    },
    /// rustls refused the configuration itself.
    #[error("TLS configuration refused: {0}")]
    Config(rustls::Error),
    /// The name to verify is neither a DNS name nor an IP address.
    #[error("invalid TLS server name {0:?}")]
    InvalidServerName(String),
    /// The handshake failed: an untrusted or mismatched broker certificate,
    /// a refused client certificate, no common protocol, or a closed connection.
    #[error("TLS handshake with {server} failed: {source}")]
    Handshake {
        /// The name the broker's certificate was checked against.
        server: String,
        /// The error, usually wrapping a [`rustls::Error`].
        source: io::Error,
    },
}

fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::ReadFile {
        path: path.to_owned(),
        source,
    })
}

fn pem_error(path: &Path, e: rustls_pki_types::pem::Error) -> TlsError {
    TlsError::Pem {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// Every `CERTIFICATE` section of the PEM file `path`; at least one.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_file(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The first private key of the PEM file `path`.
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_file(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => TlsError::NoPrivateKey {
            path: path.to_owned(),
        },
        e => pem_error(path, e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, contents: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mq-common-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn default_trusts_webpki_roots() {
        let config = TlsOptions::new().client_config().unwrap();
        assert!(!config.client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn custom_config_takes_precedence() {
        let custom = TlsOptions::new().client_config().unwrap();
        let options = TlsOptions::new()
            .ca_file("/nonexistent/ca.pem")
            .config(custom.clone());
        assert!(Arc::ptr_eq(&options.client_config().unwrap(), &custom));
    }

    #[test]
    fn missing_ca_file_names_the_path() {
        let err = TlsOptions::new()
            .ca_file("/nonexistent/ca.pem")
            .client_config()
            .unwrap_err();
        assert!(matches!(err, TlsError::ReadFile { .. }), "{err:?}");
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn ca_file_without_certificates_is_refused() {
        let path = temp_file("empty.pem", "just some text\n");
        let err = TlsOptions::new()
            .ca_file(&path)
            .client_config()
            .unwrap_err();
        assert!(matches!(err, TlsError::NoCertificate { .. }), "{err:?}");
    }

    #[test]
    fn broken_pem_is_refused() {
        let path = temp_file(
            "broken.pem",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        );
        let err = TlsOptions::new()
            .ca_file(&path)
            .client_config()
            .unwrap_err();
        assert!(matches!(err, TlsError::Pem { .. }), "{err:?}");
    }

    #[test]
    fn garbage_ca_certificate_is_refused() {
        // Valid PEM and base64, but not a certificate.
        let path = temp_file(
            "garbage.pem",
            "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n",
        );
        let err = TlsOptions::new()
            .ca_file(&path)
            .client_config()
            .unwrap_err();
        assert!(matches!(err, TlsError::BadCaCertificate { .. }), "{err:?}");
    }

    #[test]
    fn key_file_without_key_is_refused() {
        let cert = temp_file(
            "cert.pem",
            "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n",
        );
        let err = TlsOptions::new()
            .client_cert(&cert, &cert)
            .client_config()
            .unwrap_err();
        assert!(matches!(err, TlsError::NoPrivateKey { .. }), "{err:?}");
    }

    #[test]
    fn debug_hides_nothing_secret() {
        let text = format!("{:?}", TlsOptions::new().server_name("b.example"));
        assert!(text.contains("b.example") && text.contains("custom_config: false"));
    }
}
