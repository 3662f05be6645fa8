//! The validator function: `GET /api/qr-code` (a display's current code, admin) and
//! `POST /api/qr-code` (a customer's scan, which creates the pending order and emits
//! `Validator.NewOrder`).
//!
//! An HTTP function: [`router`] is an `axum::Router` over a [`Deps`]; `main.rs` serves it on
//! Lambda with `lambda_http::run`, and presso mounts the same router with [`app`]. No business
//! rules here: each handler calls `presso_core::usecases::qr`.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use presso_aws::bus::EventBridgePublisher;
use presso_aws::dynamo::DynamoStore;
use presso_aws::{AwsSettings, Env, SharedClock, SharedRandomness};
use presso_core::api::{params, paths};
use presso_core::ids::EventId;
use presso_core::ports::{ConfigRepository, EventPublisher, OrderRepository, QrRepository};
use presso_core::usecases::{UseCaseError, qr};
use presso_fn_common::http::{self as edge, Identity, Reply};
use std::sync::Arc;

/// What the handlers use: the tables, the bus, the clock and randomness.
#[derive(Debug, Clone)]
pub struct Deps<S = DynamoStore, E = EventBridgePublisher> {
    pub store: S,
    pub events: E,
    pub clock: SharedClock,
    pub rng: SharedRandomness,
}

impl<S, E> Deps<S, E> {
    pub fn new(store: S, events: E) -> Self {
        Self {
            store,
            events,
            clock: SharedClock::system(),
            rng: SharedRandomness::os(),
        }
    }

    /// The same dependencies on another clock (presso's virtual clock).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_rng(mut self, rng: SharedRandomness) -> Self {
        self.rng = rng;
        self
    }
}

/// The AWS dependencies from a function environment (`AWS_ENDPOINT_URL`, `AWS_REGION`,
/// `ORDER_TABLE`, `CONFIG_TABLE`, `VALIDATOR_TABLE`, `BUS_NAME`).
pub async fn deps_from_env(env: &Env) -> Deps {
    let config = AwsSettings::from_env(env).load().await;
    Deps::new(
        DynamoStore::from_config(&config, env),
        EventBridgePublisher::from_config(&config, env),
    )
}

/// The router on AWS dependencies from `env`: what presso mounts.
pub async fn app(env: &Env) -> Router {
    router(Arc::new(deps_from_env(env).await))
}

pub fn router<S, E>(deps: Arc<Deps<S, E>>) -> Router
where
    S: ConfigRepository + QrRepository + OrderRepository + 'static,
    E: EventPublisher + 'static,
{
    let routes = Router::new()
        .route(
            paths::QR_CODE,
            get(get_qr_code::<S, E>).post(post_qr_code::<S, E>),
        )
        .fallback(edge::not_found)
        .with_state(deps.clone());
    edge::seed_first(routes, deps, |d| async move {
        presso_core::usecases::config::seed_default_event(&d.store, &d.clock).await
    })
}

fn event_param(query: &edge::Query) -> Result<EventId, UseCaseError> {
    Ok(EventId::parse(edge::required(query, params::EVENT_ID)?)?)
}

async fn get_qr_code<S, E>(
    State(deps): State<Arc<Deps<S, E>>>,
    Identity(principal): Identity,
    Query(query): Query<edge::Query>,
) -> Reply
where
    S: ConfigRepository + QrRepository + OrderRepository + 'static,
    E: EventPublisher + 'static,
{
    let ports = qr::QrPorts {
        store: &deps.store,
        events: &deps.events,
        clock: &deps.clock,
        rng: &deps.rng,
    };
    let result = match event_param(&query) {
        Ok(event) => qr::get_qr_code(&ports, &principal, &event).await,
        Err(e) => Err(e),
    };
    edge::reply(result, StatusCode::OK, &deps.clock)
}

async fn post_qr_code<S, E>(
    State(deps): State<Arc<Deps<S, E>>>,
    Identity(principal): Identity,
    Query(query): Query<edge::Query>,
) -> Reply
where
    S: ConfigRepository + QrRepository + OrderRepository + 'static,
    E: EventPublisher + 'static,
{
    let ports = qr::QrPorts {
        store: &deps.store,
        events: &deps.events,
        clock: &deps.clock,
        rng: &deps.rng,
    };
    let result = async {
        let event = event_param(&query)?;
        let token = edge::required(&query, params::TOKEN)?;
        qr::verify_qr_and_create_order(&ports, &principal, &event, token).await
    }
    .await;
    if let Ok(view) = &result {
        tracing::info!(order_id = %view.order_id, event_id = %view.event_id, "order created");
    }
    edge::reply(result, StatusCode::OK, &deps.clock)
}
