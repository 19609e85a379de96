//! Broker addresses as users write them: `mqtt://host:1883`, `mqtts://`,
//! `ws://host/mqtt`, `wss://`. Parsing only; adapters do the dialling.

use alloc::string::{String, ToString};
use core::fmt;

/// How to reach the broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain TCP: `mqtt://`, `tcp://` (default port 1883).
    Tcp,
    /// TLS over TCP: `mqtts://`, `ssl://`, `tls://` (default port 8883).
    Tls,
    /// MQTT over WebSocket: `ws://` (default port 80).
    Ws,
    /// MQTT over WebSocket over TLS: `wss://` (default port 443).
    Wss,
}

impl Scheme {
    /// Whether the transport needs TLS.
    pub fn is_tls(self) -> bool {
        matches!(self, Scheme::Tls | Scheme::Wss)
    }

    /// Whether the transport is a WebSocket.
    pub fn is_websocket(self) -> bool {
        matches!(self, Scheme::Ws | Scheme::Wss)
    }

    /// The port used when the URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Tcp => 1883,
            Scheme::Tls => 8883,
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        }
    }
}

/// A parsed broker URL.
///
/// ```
/// use mq_proto::url::{BrokerUrl, Scheme};
/// let u = BrokerUrl::parse("mqtts://broker.example.com").unwrap();
/// assert_eq!((u.scheme, u.host.as_str(), u.port), (Scheme::Tls, "broker.example.com", 8883));
/// let w = BrokerUrl::parse("ws://[::1]:9001/mqtt").unwrap();
/// assert_eq!((w.host.as_str(), w.port, w.path.as_str()), ("::1", 9001, "/mqtt"));
/// assert_eq!(BrokerUrl::parse("127.0.0.1:1884").unwrap().port, 1884);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BrokerUrl {
    /// Transport.
    pub scheme: Scheme,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Path for WebSocket URLs (default `/mqtt`); `/` otherwise.
    pub path: String,
}

/// Why a broker URL was not understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// A scheme other than mqtt, tcp, mqtts, ssl, tls, ws, wss.
    #[error("unsupported URL scheme {0:?}")]
    UnsupportedScheme(String),
    /// No host.
    #[error("the URL names no host")]
    MissingHost,
    /// A port that is not a number from 1 to 65535.
    #[error("invalid port {0:?}")]
    InvalidPort(String),
    /// User information in the URL; credentials belong in the options.
    #[error("credentials in the URL are not supported; set them in the options")]
    Credentials,
}

impl BrokerUrl {
    /// Parses `scheme://host[:port][/path]`; without a scheme, `mqtt://` is assumed.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let (scheme, rest) = match url.split_once("://") {
            Some((s, rest)) => (parse_scheme(s)?, rest),
            None => (Scheme::Tcp, url),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(UrlError::Credentials);
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or(UrlError::MissingHost)?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(UrlError::MissingHost);
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| UrlError::InvalidPort(p.to_string()))?,
            None => scheme.default_port(),
        };
        let path = match (path, scheme.is_websocket()) {
            ("", true) => "/mqtt",
            ("", false) => "/",
            (p, _) => p,
        };
        Ok(BrokerUrl {
            scheme,
            host: host.to_string(),
            port,
            path: path.to_string(),
        })
    }
}

fn parse_scheme(s: &str) -> Result<Scheme, UrlError> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "mqtt" | "tcp" => Scheme::Tcp,
        "mqtts" | "ssl" | "tls" => Scheme::Tls,
        "ws" => Scheme::Ws,
        "wss" => Scheme::Wss,
        _ => return Err(UrlError::UnsupportedScheme(s.to_string())),
    })
}

impl Scheme {
    /// The scheme as a URL writes it.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Tcp => "mqtt",
            Scheme::Tls => "mqtts",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }
}

impl BrokerUrl {
    /// The broker a Server Reference (5.0 redirection) names, relative to
    /// this one: a URL as it is; `host[:port]` with this URL's scheme (and
    /// that scheme's default port).
    ///
    /// ```
    /// use mq_proto::url::BrokerUrl;
    /// let here = BrokerUrl::parse("mqtts://a.example").unwrap();
    /// assert_eq!(here.resolve("b.example").unwrap().to_string(), "mqtts://b.example:8883");
    /// assert_eq!(here.resolve("mqtt://c:1884").unwrap().to_string(), "mqtt://c:1884");
    /// ```
    pub fn resolve(&self, reference: &str) -> Result<BrokerUrl, UrlError> {
        if reference.contains("://") {
            BrokerUrl::parse(reference)
        } else {
            BrokerUrl::parse(&alloc::format!("{}://{reference}", self.scheme.name()))
        }
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.scheme.name();
        let host = if self.host.contains(':') {
            alloc::format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{scheme}://{host}:{}", self.port)?;
        if self.scheme.is_websocket() {
            f.write_str(&self.path)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_map_to_transports_and_default_ports() {
        for (url, scheme, port) in [
            ("mqtt://h", Scheme::Tcp, 1883),
            ("tcp://h", Scheme::Tcp, 1883),
            ("MQTTS://h", Scheme::Tls, 8883),
            ("ssl://h", Scheme::Tls, 8883),
            ("tls://h:1", Scheme::Tls, 1),
            ("ws://h", Scheme::Ws, 80),
            ("wss://h", Scheme::Wss, 443),
        ] {
            let u = BrokerUrl::parse(url).unwrap();
            assert_eq!((u.scheme, u.port), (scheme, port), "{url}");
        }
    }

    #[test]
    fn bad_urls_get_typed_errors() {
        assert_eq!(
            BrokerUrl::parse("http://h"),
            Err(UrlError::UnsupportedScheme("http".into()))
        );
        assert_eq!(BrokerUrl::parse("mqtt://:1883"), Err(UrlError::MissingHost));
        assert_eq!(
            BrokerUrl::parse("mqtt://h:0"),
            Err(UrlError::InvalidPort("0".into()))
        );
        assert_eq!(
            BrokerUrl::parse("mqtt://h:x"),
            Err(UrlError::InvalidPort("x".into()))
        );
        assert_eq!(BrokerUrl::parse("mqtt://u:p@h"), Err(UrlError::Credentials));
        assert_eq!(BrokerUrl::parse("mqtt://[::1"), Err(UrlError::MissingHost));
    }

    #[test]
    fn display_round_trips() {
        for url in [
            "mqtt://127.0.0.1:1883",
            "wss://[::1]:443/mqtt",
            "mqtts://a.b:8883",
        ] {
            assert_eq!(BrokerUrl::parse(url).unwrap().to_string(), url);
        }
    }
}
