//! SCRAM-SHA-256 enhanced authentication (MQTT 5.0 section 4.12; SASL
//! mechanism of RFC 7677, RFC 5802), client side. Enabled by the `scram`
//! cargo feature; SHA-256, HMAC and PBKDF2 are implemented here, with no
//! dependency.
//!
//! The exchange, as the [`Client`](super::Client) runs it:
//!
//! 1. CONNECT carries Authentication Method `SCRAM-SHA-256` and the
//!    client-first-message `n,,n=<user>,r=<client nonce>`.
//! 2. The broker answers AUTH 0x18 with the server-first-message (its nonce,
//!    the salt and the iteration count); [`ScramSha256`] answers with the
//!    client-final-message carrying the proof that it knows the password.
//! 3. The broker's CONNACK (or AUTH 0x00 on re-authentication) carries the
//!    server-final-message; [`ScramSha256`] checks the server signature, so a
//!    broker that does not know the password is refused too.
//!
//! The core draws no random numbers: the client nonce comes from a closure
//! the caller gives, called once per exchange (every connect and every
//! re-authentication). It must return a fresh, unpredictable value each
//! time, for example 18 random bytes in base64; it must be printable ASCII
//! without `,`.
//!
//! ```
//! use mq_proto::client::scram::ScramSha256;
//! use mq_proto::client::{Client, Options};
//!
//! # fn random_nonce() -> String { "rOprNGfwEbeRWgbNEkqO".into() }
//! let auth = ScramSha256::new("user", "pencil", random_nonce);
//! let mut client = Client::new(Options::new("sensor-17"));
//! client.set_authenticator(Box::new(auth));
//! ```
//!
//! The password is used as given (its UTF-8 bytes): SASLprep normalisation is
//! not applied, which makes no difference for ASCII passwords.

mod sha256;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;

use super::auth::{AuthError, Authenticator};
use sha256::{pbkdf2_hmac_sha256, sha256, HmacSha256, DIGEST_LEN};

/// The Authentication Method name.
pub const METHOD: &str = "SCRAM-SHA-256";

/// Default upper bound on the server's iteration count (see [`ScramSha256::max_iterations`]).
pub const DEFAULT_MAX_ITERATIONS: u32 = 1_000_000;

/// `c=` of the client-final-message: base64 of the GS2 header `n,,` (no channel binding).
const CHANNEL_BINDING: &str = "biws";

/// Where an exchange stands.
enum State {
    /// No exchange running.
    Idle,
    /// client-first-message sent.
    SentFirst {
        client_nonce: String,
        client_first_bare: String,
    },
    /// client-final-message sent; the server must prove itself with this signature.
    SentFinal { server_signature: [u8; DIGEST_LEN] },
}

/// The SCRAM-SHA-256 client: an [`Authenticator`] for [`Client::set_authenticator`](super::Client::set_authenticator).
pub struct ScramSha256 {
    /// User name, escaped as a SCRAM `saslname`.
    username: String,
    password: Vec<u8>,
    nonce: Box<dyn FnMut() -> String + Send>,
    max_iterations: u32,
    state: State,
}

impl core::fmt::Debug for ScramSha256 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = match self.state {
            State::Idle => "idle",
            State::SentFirst { .. } => "sent client-first-message",
            State::SentFinal { .. } => "sent client-final-message",
        };
        f.debug_struct("ScramSha256")
            .field("username", &self.username)
            .field("max_iterations", &self.max_iterations)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl ScramSha256 {
    /// Authenticates as `username` with `password`; `nonce` returns a fresh
    /// random client nonce (printable ASCII, no `,`) for each exchange.
    pub fn new(
        username: impl Into<String>,
        password: impl Into<Vec<u8>>,
        nonce: impl FnMut() -> String + Send + 'static,
    ) -> Self {
        let username: String = username.into();
        ScramSha256 {
            username: username.replace('=', "=3D").replace(',', "=2C"),
            password: password.into(),
            nonce: Box::new(nonce),
            max_iterations: DEFAULT_MAX_ITERATIONS,
            state: State::Idle,
        }
    }

    /// Refuses servers asking for more PBKDF2 iterations than `max` (default
    /// [`DEFAULT_MAX_ITERATIONS`]), so that a hostile server cannot make the
    /// client compute for hours.
    pub fn max_iterations(mut self, max: u32) -> Self {
        self.max_iterations = max;
        self
    }

    /// Computes the client-final-message for `server_first` and remembers the expected server signature.
    fn client_final(
        &mut self,
        client_nonce: &str,
        client_first_bare: &str,
        server_first: &str,
    ) -> Result<String, AuthError> {
        let mut attrs = server_first.split(',');
        if server_first.starts_with("m=") {
            return Err(fail("server requires an unsupported SCRAM extension"));
        }
        if let Some(message) = server_first.strip_prefix("e=") {
            return Err(fail(&format!("server error: {message}")));
        }
        let nonce = attribute(attrs.next(), 'r')?;
        let salt = attribute(attrs.next(), 's')?;
        let iterations = attribute(attrs.next(), 'i')?;
        if !nonce.starts_with(client_nonce) || !is_printable(nonce) {
            return Err(fail("server nonce does not extend the client nonce"));
        }
        let salt = base64_decode(salt).ok_or_else(|| fail("salt is not valid base64"))?;
        let iterations: u32 = iterations
            .parse()
            .ok()
            .filter(|&i| i > 0)
            .ok_or_else(|| fail("invalid iteration count"))?;
        if iterations > self.max_iterations {
            return Err(fail(&format!(
                "server asks for {iterations} iterations, more than the allowed {}",
                self.max_iterations
            )));
        }

        // RFC 5802, section 3.
        let mut salted_password = [0u8; DIGEST_LEN];
        pbkdf2_hmac_sha256(&self.password, &salt, iterations, &mut salted_password);
        let salted = HmacSha256::new(&salted_password);
        let client_key = salted.mac(&[b"Client Key"]);
        let stored_key = sha256(&client_key);
        let without_proof = format!("c={CHANNEL_BINDING},r={nonce}");
        let auth_message = [
            client_first_bare.as_bytes(),
            b",",
            server_first.as_bytes(),
            b",",
            without_proof.as_bytes(),
        ];
        let client_signature = HmacSha256::new(&stored_key).mac(&auth_message);
        let mut proof = client_key;
        proof
            .iter_mut()
            .zip(client_signature)
            .for_each(|(p, s)| *p ^= s);
        let server_key = salted.mac(&[b"Server Key"]);
        let server_signature = HmacSha256::new(&server_key).mac(&auth_message);
        self.state = State::SentFinal { server_signature };
        Ok(format!("{without_proof},p={}", base64_encode(&proof)))
    }
}

impl Authenticator for ScramSha256 {
    fn method(&self) -> &str {
        METHOD
    }

    /// The client-first-message `n,,n=<user>,r=<nonce>`.
    fn initial_data(&mut self) -> Result<Option<Bytes>, AuthError> {
        self.state = State::Idle;
        let client_nonce = (self.nonce)();
        if client_nonce.is_empty() || !is_printable(&client_nonce) {
            return Err(fail("client nonce must be printable ASCII without ','"));
        }
        let client_first_bare = format!("n={},r={client_nonce}", self.username);
        let message = format!("n,,{client_first_bare}");
        self.state = State::SentFirst {
            client_nonce,
            client_first_bare,
        };
        Ok(Some(Bytes::from(message)))
    }

    /// The client-final-message `c=biws,r=<nonce>,p=<proof>` in answer to the server-first-message.
    fn challenge(&mut self, data: Option<&Bytes>) -> Result<Option<Bytes>, AuthError> {
        let State::SentFirst {
            client_nonce,
            client_first_bare,
        } = core::mem::replace(&mut self.state, State::Idle)
        else {
            return Err(fail("unexpected challenge"));
        };
        let server_first = text(data)?;
        let reply = self.client_final(&client_nonce, &client_first_bare, server_first)?;
        Ok(Some(Bytes::from(reply)))
    }

    /// Checks the server-final-message `v=<server signature>`.
    fn finish(&mut self, data: Option<&Bytes>) -> Result<(), AuthError> {
        let State::SentFinal { server_signature } =
            core::mem::replace(&mut self.state, State::Idle)
        else {
            return Err(fail("server ended the exchange before proving itself"));
        };
        let server_final = text(data)?;
        if let Some(message) = server_final.strip_prefix("e=") {
            return Err(fail(&format!("server error: {message}")));
        }
        let verifier = attribute(server_final.split(',').next(), 'v')?;
        let signature =
            base64_decode(verifier).ok_or_else(|| fail("server signature is not valid base64"))?;
        if !constant_time_eq(&signature, &server_signature) {
            return Err(fail(
                "server signature does not match: the server does not know the password",
            ));
        }
        Ok(())
    }
}

fn fail(message: &str) -> AuthError {
    AuthError(format!("SCRAM-SHA-256: {message}"))
}

/// Authentication Data as SCRAM text.
fn text(data: Option<&Bytes>) -> Result<&str, AuthError> {
    let data = data.ok_or_else(|| fail("no authentication data from the server"))?;
    core::str::from_utf8(data).map_err(|_| fail("server message is not UTF-8"))
}

/// The value of `name=value`, which must be `attr`.
fn attribute(attr: Option<&str>, name: char) -> Result<&str, AuthError> {
    attr.and_then(|a| a.strip_prefix(name))
        .and_then(|a| a.strip_prefix('='))
        .ok_or_else(|| fail(&format!("expected attribute '{name}='")))
}

/// A SCRAM `printable`: ASCII 0x21..=0x7E except `,`.
fn is_printable(s: &str) -> bool {
    s.bytes().all(|b| (0x21..=0x7E).contains(&b) && b != b',')
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648, section 4).
fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[(n >> (18 - 6 * i)) as usize & 0x3F]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard padded base64; `None` on any malformed input.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let chunks = s.chunks_exact(4);
    let last = chunks.len().checked_sub(1);
    for (index, chunk) in chunks.enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && Some(index) != last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            let v = BASE64.iter().position(|&a| a == c)?;
            n = (n << 6) | v as u32;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn bytes(s: &str) -> Bytes {
        Bytes::from(s.to_string())
    }

    const SERVER_FIRST: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                                p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    fn rfc_7677_client() -> ScramSha256 {
        ScramSha256::new("user", "pencil", || "rOprNGfwEbeRWgbNEkqO".to_string())
    }

    /// RFC 7677 section 3: the example exchange, byte for byte.
    #[test]
    fn rfc_7677_example_exchange() {
        let mut scram = rfc_7677_client();
        assert_eq!(scram.method(), "SCRAM-SHA-256");
        assert_eq!(
            scram.initial_data().unwrap(),
            Some(bytes("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
        );
        assert_eq!(
            scram.challenge(Some(&bytes(SERVER_FIRST))).unwrap(),
            Some(bytes(CLIENT_FINAL))
        );
        assert_eq!(scram.finish(Some(&bytes(SERVER_FINAL))), Ok(()));
    }

    #[test]
    fn a_wrong_server_signature_or_server_error_fails_the_exchange() {
        let mut scram = rfc_7677_client();
        scram.initial_data().unwrap();
        scram.challenge(Some(&bytes(SERVER_FIRST))).unwrap();
        let forged = "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
        assert!(scram.finish(Some(&bytes(forged))).is_err());

        let mut scram = rfc_7677_client();
        scram.initial_data().unwrap();
        scram.challenge(Some(&bytes(SERVER_FIRST))).unwrap();
        let err = scram.finish(Some(&bytes("e=invalid-proof"))).unwrap_err();
        assert!(err.0.contains("invalid-proof"), "{err}");
    }

    #[test]
    fn the_server_must_prove_itself_before_the_exchange_ends() {
        let mut scram = rfc_7677_client();
        scram.initial_data().unwrap();
        assert!(scram.finish(None).is_err());

        let mut scram = rfc_7677_client();
        scram.initial_data().unwrap();
        scram.challenge(Some(&bytes(SERVER_FIRST))).unwrap();
        assert!(scram.finish(None).is_err());
        // The exchange is over: a second finish or a stray challenge fails.
        assert!(scram.finish(Some(&bytes(SERVER_FINAL))).is_err());
        assert!(scram.challenge(Some(&bytes(SERVER_FIRST))).is_err());
    }

    #[test]
    fn hostile_or_malformed_server_first_messages_are_refused() {
        let bad = [
            // Nonce that does not start with ours.
            "r=XOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            // Attributes out of order, missing, or malformed.
            "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqO%hvY,i=4096",
            "r=rOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==",
            "r=rOprNGfwEbeRWgbNEkqO%hvY,s=W22Za!0SNY7soEsUEjb6gQ==,i=4096",
            "r=rOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
            "r=rOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1",
            // More iterations than allowed.
            "r=rOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4000000000",
            // Mandatory extension, server error.
            "m=ext,r=rOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "e=unknown-user",
            "",
        ];
        for server_first in bad {
            let mut scram = rfc_7677_client();
            scram.initial_data().unwrap();
            assert!(
                scram.challenge(Some(&bytes(server_first))).is_err(),
                "accepted {server_first:?}"
            );
        }
        let mut scram = rfc_7677_client();
        scram.initial_data().unwrap();
        assert!(scram.challenge(None).is_err());
        assert!(scram
            .challenge(Some(&Bytes::from_static(&[0xFF, 0xFE])))
            .is_err());
    }

    #[test]
    fn every_exchange_draws_a_new_nonce_and_names_are_escaped() {
        let mut counter = 0;
        let mut scram = ScramSha256::new("a=b,c", "pw", move || {
            counter += 1;
            format!("nonce{counter}")
        });
        assert_eq!(
            scram.initial_data().unwrap(),
            Some(bytes("n,,n=a=3Db=2Cc,r=nonce1"))
        );
        assert_eq!(
            scram.initial_data().unwrap(),
            Some(bytes("n,,n=a=3Db=2Cc,r=nonce2"))
        );
        let mut bad_nonce = ScramSha256::new("u", "p", || "has,comma".to_string());
        assert!(bad_nonce.initial_data().is_err());
        let mut empty_nonce = ScramSha256::new("u", "p", String::new);
        assert!(empty_nonce.initial_data().is_err());
    }

    #[test]
    fn base64_round_trips_and_refuses_malformed_input() {
        for len in 0..10 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 200) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&data)), Some(data));
        }
        assert_eq!(base64_encode(b"n,,"), CHANNEL_BINDING);
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64_decode("Zm9vYg=="), Some(b"foob".to_vec()));
        for bad in [
            "Zm9",
            "Zm9vY===",
            "Zm=vYmFy",
            "Zm9v YmFy",
            "Zg==Zg==",
            "Zm9vYmF\u{e9}",
        ] {
            assert_eq!(base64_decode(bad), None, "{bad:?}");
        }
    }

    /// The whole exchange through the client: CONNECT, AUTH 0x18 both ways, CONNACK.
    #[test]
    fn the_client_runs_the_rfc_7677_exchange_over_mqtt() {
        use crate::client::{Client, ConnectionState, Event, Instant, Options};
        use crate::codec::{Auth, ConnAck, Decoder, Packet, ProtocolVersion, ReasonCode};
        use bytes::BytesMut;

        fn written(client: &mut Client) -> Vec<Packet> {
            let mut buf = BytesMut::new();
            while let Some(b) = client.poll_transmit() {
                buf.extend_from_slice(&b);
            }
            let decoder = Decoder::new(ProtocolVersion::V5);
            core::iter::from_fn(|| decoder.decode(&mut buf).unwrap()).collect()
        }
        fn send(client: &mut Client, packet: Packet) {
            let mut buf = BytesMut::new();
            packet.encode(ProtocolVersion::V5, &mut buf).unwrap();
            client.handle_bytes(Instant::ZERO, &buf);
        }
        let run = |server_final: &str| {
            let mut client = Client::new(Options::new("c"));
            client.set_authenticator(Box::new(rfc_7677_client()));
            client.connect(Instant::ZERO).unwrap();
            let [Packet::Connect(connect)] = &written(&mut client)[..] else {
                panic!("expected CONNECT");
            };
            let p = &connect.properties;
            assert_eq!(p.authentication_method.as_deref(), Some("SCRAM-SHA-256"));
            assert_eq!(
                p.authentication_data,
                Some(bytes("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
            );

            let mut challenge = Auth {
                reason_code: ReasonCode::ContinueAuthentication,
                ..Default::default()
            };
            challenge.properties.authentication_method = Some(METHOD.into());
            challenge.properties.authentication_data = Some(bytes(SERVER_FIRST));
            send(&mut client, Packet::Auth(challenge));
            let [Packet::Auth(answer)] = &written(&mut client)[..] else {
                panic!("expected AUTH");
            };
            assert_eq!(answer.reason_code, ReasonCode::ContinueAuthentication);
            assert_eq!(
                answer.properties.authentication_data,
                Some(bytes(CLIENT_FINAL))
            );

            let mut connack = ConnAck::default();
            connack.properties.authentication_method = Some(METHOD.into());
            connack.properties.authentication_data = Some(bytes(server_final));
            send(&mut client, Packet::ConnAck(connack));
            (client.state(), client.poll_event())
        };
        assert_eq!(
            run(SERVER_FINAL),
            (
                ConnectionState::Connected,
                Some(Event::Connected {
                    session_present: false
                })
            )
        );
        // A broker that cannot prove it knows the password is refused.
        let (state, event) = run("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
        assert_eq!(state, ConnectionState::Disconnected);
        assert!(
            matches!(event, Some(Event::Disconnected(ref r)) if !r.is_retryable()),
            "{event:?}"
        );
    }

    #[test]
    fn debug_output_does_not_show_the_password() {
        let scram = ScramSha256::new("user", "pencil", || "n".to_string());
        let shown = format!("{scram:?}");
        assert!(
            shown.contains("user") && !shown.contains("pencil"),
            "{shown}"
        );
    }
}
