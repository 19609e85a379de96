//! Enhanced authentication (5.0, section 4.12): the method's logic lives in
//! an [`Authenticator`]; the client runs the AUTH exchange around it.

use alloc::string::String;

use bytes::Bytes;

/// An authentication method such as SCRAM-SHA-256.
///
/// The client sends `method()` and `initial_data()` in CONNECT (or in AUTH
/// 0x19 to re-authenticate), passes each server challenge (AUTH 0x18) to
/// `challenge`, and the final server data (CONNACK or AUTH Success) to
/// `finish`, where a method can verify the server.
pub trait Authenticator: Send {
    /// Authentication Method name.
    fn method(&self) -> &str;
    /// Authentication Data for CONNECT or re-authentication; starts a new exchange.
    fn initial_data(&mut self) -> Result<Option<Bytes>, AuthError>;
    /// The response to a server challenge.
    fn challenge(&mut self, data: Option<&Bytes>) -> Result<Option<Bytes>, AuthError>;
    /// The server's final data; an error fails the authentication.
    fn finish(&mut self, data: Option<&Bytes>) -> Result<(), AuthError>;
}

/// An authentication method refused to go on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("authentication failed: {0}")]
pub struct AuthError(pub String);
