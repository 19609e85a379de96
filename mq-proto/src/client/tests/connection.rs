//! Connection scenarios.
