//! SCRAM-SHA-256 enhanced authentication (feature `scram`): mq-proto's
//! [`ScramSha256`] and [`os_nonce`], a client nonce from the operating
//! system's random source.
//!
//! ```
//! use mq_common::scram::{os_nonce, ScramSha256};
//! use mq_common::{AuthenticatorFactory, ConnectOptions};
//!
//! let mut options = ConnectOptions::new("sensor-17");
//! options.authenticator = Some(AuthenticatorFactory::new(|| {
//!     Box::new(ScramSha256::new("user", "pencil", os_nonce))
//! }));
//! ```

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

pub use mq_proto::client::scram::*;

/// Random bytes in a nonce: 144 bits, 24 base64 characters.
const NONCE_LEN: usize = 18;

/// A fresh client nonce for [`ScramSha256::new`]: 18 random bytes from the
/// operating system, in base64 (printable, no `,`).
///
/// # Panics
///
/// If the operating system gives no random bytes: without them SCRAM would
/// be replayable, so no nonce is made up.
pub fn os_nonce() -> String {
    let mut bytes = [0u8; NONCE_LEN];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    BASE64.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mq_proto::client::Authenticator;

    #[test]
    fn os_nonces_are_fresh_and_accepted_as_client_nonces() {
        let (a, b) = (os_nonce(), os_nonce());
        assert_ne!(a, b);
        assert_eq!(a.len(), 24);
        let mut scram = ScramSha256::new("user", "pencil", os_nonce);
        let first = scram.initial_data().unwrap().unwrap();
        let first = std::str::from_utf8(&first).unwrap();
        let nonce = first.strip_prefix("n,,n=user,r=").unwrap();
        assert_eq!(BASE64.decode(nonce).unwrap().len(), NONCE_LEN);
    }
}
