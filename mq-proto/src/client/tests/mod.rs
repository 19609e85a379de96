//! Scenario tests: "the broker sends these bytes at this time; the client
//! must write these bytes and raise this event", byte-exact.

mod harness;

mod compliance_gaps;
mod connection;
mod flows;
mod manual_acks;
mod mutation_gaps;
