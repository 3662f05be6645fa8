//! The Serverlesspresso domain: orders and their states, the menu, per-event store config, QR
//! windows, the event catalogue, the MQTT ACL, identity, table layouts, ports and use cases.
//!
//! This crate does no IO and reads no environment: time and randomness come in through ports
//! ([`ports::Clock`], [`ports::Randomness`]), storage, events, workflows and MQTT through the
//! other ports, and the Lambda crates (`presso-fn-*`) and the AWS adapters (`presso-aws`) are
//! thin layers over it. It never depends on an AWS SDK or an async runtime.
//!
//! Modules:
//! - [`ids`]: identifier newtypes with parse constructors ([`ids::EventId`], [`ids::OrderId`],
//!   [`ids::UserId`], [`ids::QrToken`], [`ids::OrderNumber`], [`ids::TaskToken`], ...);
//! - [`time`]: [`time::Timestamp`], epoch milliseconds;
//! - [`menu`]: drinks, modifiers, availability, and drink-order validation;
//! - [`config`]: [`config::StoreConfig`] per event (open, paused, limits, menu) and its updates;
//! - [`order`]: [`order::Order`], its state machine and the queue estimate;
//! - [`qr`]: 5-minute windows, the 15-second grace, token buckets;
//! - [`events`]: the event catalogue, MQTT payloads and topic routing;
//! - [`topics`], [`acl`]: MQTT topics and the one ACL table;
//! - [`identity`]: [`identity::Principal`] from JWT claims, `cognito:groups` in both forms;
//! - [`keys`]: table names, keys, indexes and the item mapping;
//! - [`ports`]: the traits adapters implement;
//! - [`api`]: the HTTP routes, request types, problem documents and `/config.json`;
//! - [`usecases`]: what the functions do, generic over the ports, with errors that map to HTTP
//!   statuses ([`usecases::UseCaseError::status`]);
//! - `testing` (feature `testing`): in-memory implementations of every port.
//!
//! Invariants:
//! - the user of a request is the token's `sub`, never a value from a body;
//! - barista actions, QR codes for displays and store control need the `admin` group; a
//!   customer sees and cancels only their own orders;
//! - detail-types are static; `eventId` and `state` travel in the detail;
//! - task tokens never leave the backend: they are stripped from every MQTT payload and never
//!   appear in an API view;
//! - every order write is conditional on the version read, which makes capacity release and
//!   workflow resumption happen exactly once, and every event handler idempotent;
//! - no panics on any input: parse errors are values.

pub mod acl;
pub mod api;
pub mod config;
pub mod events;
pub mod identity;
pub mod ids;
pub mod keys;
pub mod menu;
pub mod order;
pub mod ports;
pub mod qr;
pub mod time;
pub mod topics;
pub mod usecases;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
