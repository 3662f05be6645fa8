//! Amazon States Language: parse, validate and interpret state machines.
//!
//! This crate never performs effects: it does no IO, reads no clock and calls no service.
//! A host feeds it commands and runs the actions it returns.
