//! Codec tests: byte-exact examples, malformed-input classes, property tests.

mod malformed;
mod proptests;
mod spec_examples;
mod utf8_fields;
