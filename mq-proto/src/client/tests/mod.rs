//! Scenario tests: see tests/mod.rs.
