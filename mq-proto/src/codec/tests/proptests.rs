//! See tests/mod.rs.
