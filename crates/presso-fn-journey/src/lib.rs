//! The journey function: every order event becomes an entry of its order's journey
//! (`GET /api/orders/{orderId}/journey`), each at most once (`usecases::publish::record_journey`).
//!
//! An event function: [`handle`] takes the EventBridge envelope; `main.rs` runs it with
//! `lambda_runtime`, and presso calls it in-process with a [`Deps`] from [`deps_from_env`].

use lambda_runtime::LambdaEvent;
use presso_aws::dynamo::DynamoStore;
use presso_aws::{AwsSettings, Env, SharedClock};
use presso_core::ports::{Clock, OrderRepository};
use presso_core::usecases::publish;
use presso_fn_common::event::{self, Envelope, HandlerError};
use serde_json::Value;

/// What the handler uses: the order table, and the clock for events without a time.
#[derive(Debug, Clone)]
pub struct Deps<S = DynamoStore> {
    pub store: S,
    pub clock: SharedClock,
}

impl<S> Deps<S> {
    pub fn new(store: S) -> Self {
        Self {
            store,
            clock: SharedClock::system(),
        }
    }

    /// The same dependencies on another clock (presso's virtual clock).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}

/// The AWS dependencies from a function environment (`AWS_ENDPOINT_URL`, `AWS_REGION`,
/// `ORDER_TABLE`).
pub async fn deps_from_env(env: &Env) -> Deps {
    let config = AwsSettings::from_env(env).load().await;
    Deps::new(DynamoStore::from_config(&config, env))
}

pub async fn handle<S: OrderRepository>(
    deps: &Deps<S>,
    event: LambdaEvent<Envelope>,
) -> Result<Value, HandlerError> {
    let envelope = event.payload;
    let parsed = event::parse(&envelope)?;
    let at = event::time_of(&envelope, deps.clock.now());
    let added = publish::record_journey(&deps.store, &parsed, at).await?;
    Ok(serde_json::json!({ "added": added }))
}
