//! TLS for the tokio client (feature `tls`): the options and configuration
//! are [`mq_common::tls`]'s, shared by every adapter; this module runs the
//! handshake with tokio-rustls.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

pub use mq_common::tls::*;

use crate::Error;

/// Runs the TLS client handshake over `stream` for `host` (or
/// `options.server_name`) and returns the encrypted stream.
pub(crate) async fn connect<S>(
    stream: S,
    host: &str,
    options: &TlsOptions,
) -> Result<TlsStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = options.client_config()?;
    let server_name = options.verified_name(host)?;
    let server = server_name.to_str().into_owned();
    TlsConnector::from(config)
        .connect(server_name, stream)
        .await
        .map_err(|source| Error::Tls(TlsError::Handshake { server, source }))
}
