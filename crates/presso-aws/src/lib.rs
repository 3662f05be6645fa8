//! Adapters implementing `presso-core`'s ports with the Rust AWS SDK.
//!
//! This is the only library crate that depends on `aws-sdk-*`, and no SDK type crosses a port:
//! every method answers in `presso-core`'s terms ([`presso_core::ports::StoreError`] and
//! friends). Each AWS service sits behind its own cargo feature, so a function links only the
//! clients it uses:
//!
//! - [`dynamo`] (feature `dynamodb`): [`dynamo::DynamoStore`], the order, config and QR
//!   repositories, with every conditional write done as one conditional request or transaction;
//! - [`bus`] (feature `eventbridge`): [`bus::EventBridgePublisher`];
//! - [`workflow`] (feature `sfn`): [`workflow::StepFunctionsResumer`];
//! - [`realtime`] (feature `iotdata`): [`realtime::IotDataPublisher`];
//! - [`settings`]: the SDK configuration, read from an environment map (the standard
//!   `AWS_ENDPOINT_URL`, `AWS_REGION`, credentials), so the same code runs on Lambda, against
//!   `presso serve` and inside presso's process;
//! - [`system`]: the system clock and the OS's randomness.
//!
//! It holds no business rules: items come from [`presso_core::keys`], expressions from
//! [`presso_core::keys::expressions`].

#[cfg(feature = "eventbridge")]
pub mod bus;
#[cfg(feature = "dynamodb")]
pub mod dynamo;
#[cfg(feature = "iotdata")]
pub mod realtime;
pub mod settings;
pub mod system;
#[cfg(feature = "sfn")]
pub mod workflow;

pub use settings::{AwsSettings, Env};
pub use system::{OsRandomness, SharedClock, SharedRandomness, SystemClock};
