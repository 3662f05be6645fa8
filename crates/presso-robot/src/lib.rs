//! The order robot: simulated displays, customers and baristas against a running
//! Serverlesspresso (`presso serve`, or a deployed stack by its URL), at a given rate and
//! duration, with live figures, a summary table and a JSON report.
//!
//! [`client`] speaks the HTTP API and Cognito's admin calls (users are made with them, never
//! by reading email), [`realtime`] is an app's MQTT-over-WebSocket connection, [`run`] plays
//! the journeys and [`stats`] sums them up. `presso robot` is the command line over [`run`].

pub mod client;
pub mod cost;
pub mod realtime;
pub mod run;
pub mod stats;

pub use run::{Options, run};
pub use stats::Report;
