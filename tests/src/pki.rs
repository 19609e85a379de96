//! A throwaway public-key infrastructure for the TLS tests: a CA, a server
//! certificate for 127.0.0.1 and localhost, a client certificate, and an
//! unrelated second CA, made fresh with rcgen and written as PEM files into a
//! temporary directory that Mosquitto and the client both read.
//!
//! ```no_run
//! use mq_e2e::{pki::Pki, Broker, BrokerConfig};
//! let pki = Pki::new();
//! let broker = Broker::start(BrokerConfig::new().tls(pki.listener()));
//! // connect to mqtts://127.0.0.1:{broker.tls_port()} trusting pki.ca
//! # drop(broker);
//! ```

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::TlsConfig;

/// PEM files of a throwaway public-key infrastructure, removed on drop.
pub struct Pki {
    /// The directory holding the files.
    pub dir: PathBuf,
    /// The CA that signed the server and client certificates.
    pub ca: PathBuf,
    /// The server certificate, for 127.0.0.1 and localhost.
    pub server_cert: PathBuf,
    /// The server certificate's key.
    pub server_key: PathBuf,
    /// A client certificate (for mutual TLS).
    pub client_cert: PathBuf,
    /// The client certificate's key.
    pub client_key: PathBuf,
    /// A CA that signed nothing here.
    pub other_ca: PathBuf,
}

impl Pki {
    /// Makes the certificates and writes them to a fresh temporary directory.
    ///
    /// # Panics
    ///
    /// When a certificate cannot be made or a file cannot be written.
    pub fn new() -> Pki {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mq-e2e-pki-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the certificate directory");
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            fs::write(&path, pem).expect("write a PEM file");
            path
        };

        let (ca_params, ca_key) = ca("mq e2e CA");
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign the CA");
        let issuer = Issuer::new(ca_params, ca_key);
        let (other_params, other_key) = ca("mq e2e unrelated CA");
        let other_cert = other_params.self_signed(&other_key).expect("self-sign");

        let leaf = |names: Vec<String>, cn: &str, usage: ExtendedKeyUsagePurpose| {
            let mut params = CertificateParams::new(names).expect("leaf parameters");
            params.distinguished_name.push(DnType::CommonName, cn);
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![usage];
            params.use_authority_key_identifier_extension = true;
            let key = KeyPair::generate().expect("leaf key");
            let cert = params.signed_by(&key, &issuer).expect("sign a leaf");
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = leaf(
            vec!["127.0.0.1".into(), "localhost".into()],
            "127.0.0.1",
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) = leaf(
            Vec::new(),
            "mq-e2e-client",
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        Pki {
            ca: write("ca.pem", ca_cert.pem()),
            server_cert: write("server.pem", server_cert),
            server_key: write("server.key", server_key),
            client_cert: write("client.pem", client_cert),
            client_key: write("client.key", client_key),
            other_ca: write("other-ca.pem", other_cert.pem()),
            dir,
        }
    }

    /// A TLS listener presenting the server certificate.
    pub fn listener(&self) -> TlsConfig {
        TlsConfig::new(&self.server_cert, &self.server_key)
    }
}

impl Default for Pki {
    fn default() -> Self {
        Pki::new()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The parameters and key of a CA named `name`.
fn ca(name: &str) -> (CertificateParams, KeyPair) {
    let mut params = CertificateParams::new(Vec::new()).expect("CA parameters");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    (params, KeyPair::generate().expect("CA key"))
}
