//! The order manager function: the orders API.
//!
//! | route | use case |
//! |---|---|
//! | `GET /api/orders?eventId=&state=&limit=` | `orders::list_orders` (admin) |
//! | `GET /api/myOrders?eventId=&limit=` | `orders::my_orders` |
//! | `GET /api/orders/{orderId}` | `orders::get_order` (owner or admin) |
//! | `PUT /api/orders/{orderId}` (body `DrinkRequest`) | `orders::submit_drink` (owner) |
//! | `PUT /api/orders/{orderId}?action=make\|unmake\|complete\|cancel` | `orders::order_action` |
//! | `GET /api/orders/{orderId}/journey` | `orders::order_journey` (owner or admin) |
//!
//! An HTTP function: [`router`] over a [`Deps`], served by `lambda_http` on Lambda and
//! mounted by presso with [`app`]. No business rules here.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use presso_aws::bus::EventBridgePublisher;
use presso_aws::dynamo::DynamoStore;
use presso_aws::workflow::StepFunctionsResumer;
use presso_aws::{AwsSettings, Env, SharedClock};
use presso_core::api::{self, params, paths};
use presso_core::ids::{EventId, OrderId};
use presso_core::menu::DrinkRequest;
use presso_core::ports::{ConfigRepository, EventPublisher, OrderRepository, WorkflowResumer};
use presso_core::usecases::orders::{self, OrderAction};
use presso_core::usecases::{OrderPorts, UseCaseError};
use presso_fn_common::http::{self as edge, Identity, Reply};
use std::sync::Arc;

/// What the handlers use: the tables, the workflow service, the bus and the clock.
#[derive(Debug, Clone)]
pub struct Deps<S = DynamoStore, W = StepFunctionsResumer, E = EventBridgePublisher> {
    pub store: S,
    pub workflow: W,
    pub events: E,
    pub clock: SharedClock,
}

impl<S, W, E> Deps<S, W, E> {
    pub fn new(store: S, workflow: W, events: E) -> Self {
        Self {
            store,
            workflow,
            events,
            clock: SharedClock::system(),
        }
    }

    /// The same dependencies on another clock (presso's virtual clock).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    fn ports(&self) -> OrderPorts<'_, S, W, E, SharedClock> {
        OrderPorts {
            store: &self.store,
            workflow: &self.workflow,
            events: &self.events,
            clock: &self.clock,
        }
    }
}

/// The AWS dependencies from a function environment (`AWS_ENDPOINT_URL`, `AWS_REGION`,
/// `ORDER_TABLE`, `CONFIG_TABLE`, `COUNTING_TABLE`, `BUS_NAME`).
pub async fn deps_from_env(env: &Env) -> Deps {
    let config = AwsSettings::from_env(env).load().await;
    Deps::new(
        DynamoStore::from_config(&config, env),
        StepFunctionsResumer::from_config(&config),
        EventBridgePublisher::from_config(&config, env),
    )
}

/// The router on AWS dependencies from `env`: what presso mounts.
pub async fn app(env: &Env) -> Router {
    router(Arc::new(deps_from_env(env).await))
}

pub fn router<S, W, E>(deps: Arc<Deps<S, W, E>>) -> Router
where
    S: OrderRepository + ConfigRepository + 'static,
    W: WorkflowResumer + 'static,
    E: EventPublisher + 'static,
{
    let routes = Router::new()
        .route(paths::ORDERS, get(list_orders::<S, W, E>))
        .route(paths::MY_ORDERS, get(my_orders::<S, W, E>))
        .route(
            paths::ORDER,
            get(get_order::<S, W, E>).put(put_order::<S, W, E>),
        )
        .route(paths::ORDER_JOURNEY, get(journey::<S, W, E>))
        .fallback(edge::not_found)
        .with_state(deps.clone());
    edge::seed_first(routes, deps, |d| async move {
        presso_core::usecases::config::seed_default_event(&d.store, &d.clock).await
    })
}

type St<S, W, E> = State<Arc<Deps<S, W, E>>>;

fn optional_event(query: &edge::Query) -> Result<Option<EventId>, UseCaseError> {
    Ok(edge::optional(query, params::EVENT_ID)
        .map(EventId::parse)
        .transpose()?)
}

async fn list_orders<S, W, E>(
    State(deps): St<S, W, E>,
    Identity(principal): Identity,
    Query(query): Query<edge::Query>,
) -> Reply
where
    S: OrderRepository + ConfigRepository + 'static,
    W: WorkflowResumer + 'static,
    E: EventPublisher + 'static,
{
    let result = async {
        let event = EventId::parse(edge::required(&query, params::EVENT_ID)?)?;
        let state = api::parse_state(edge::required(&query, params::STATE)?)?;
        let limit = api::parse_limit(edge::optional(&query, params::LIMIT))?;
        orders::list_orders(&deps.store, &principal, &event, state, limit).await
    }
    .await;
    edge::reply(result, StatusCode::OK, &deps.clock)
}

async fn my_orders<S, W, E>(
    State(deps): St<S, W, E>,
    Identity(principal): Identity,
    Query(query): Query<edge::Query>,
) -> Reply
where
    S: OrderRepository + ConfigRepository + 'static,
    W: WorkflowResumer + 'static,
    E: EventPublisher + 'static,
{
    let result = async {
        let event = optional_event(&query)?;
        let limit = api::parse_limit(edge::optional(&query, params::LIMIT))?;
        orders::my_orders(&deps.store, &principal, event.as_ref(), limit).await
    }
    .await;
    edge::reply(result, StatusCode::OK, &deps.clock)
}

async fn get_order<S, W, E>(
    State(deps): St<S, W, E>,
    Identity(principal): Identity,
    Path(order_id): Path<String>,
) -> Reply
where
    S: OrderRepository + ConfigRepository + 'static,
    W: WorkflowResumer + 'static,
    E: EventPublisher + 'static,
{
    let result = async {
        let id = OrderId::parse(order_id)?;
        orders::get_order(&deps.store, &principal, &id).await
    }
    .await;
    edge::reply(result, StatusCode::OK, &deps.clock)
}

async fn put_order<S, W, E>(
    State(deps): St<S, W, E>,
    Identity(principal): Identity,
    Path(order_id): Path<String>,
    Query(query): Query<edge::Query>,
    body: Bytes,
) -> Reply
where
    S: OrderRepository + ConfigRepository + 'static,
    W: WorkflowResumer + 'static,
    E: EventPublisher + 'static,
{
    let ports = deps.ports();
    let result = async {
        let id = OrderId::parse(order_id)?;
        let event = optional_event(&query)?;
        match edge::optional(&query, params::ACTION) {
            Some(action) => {
                let action = OrderAction::parse(action)?;
                orders::order_action(&ports, &principal, &id, event.as_ref(), action).await
            }
            None => {
                let request: DrinkRequest = edge::json_body(&body)?;
                orders::submit_drink(&ports, &principal, &id, event.as_ref(), &request).await
            }
        }
    }
    .await;
    if let Ok(view) = &result {
        tracing::info!(order_id = %view.order_id, state = view.state.as_str(), "order changed");
    }
    edge::reply(result, StatusCode::OK, &deps.clock)
}

async fn journey<S, W, E>(
    State(deps): St<S, W, E>,
    Identity(principal): Identity,
    Path(order_id): Path<String>,
) -> Reply
where
    S: OrderRepository + ConfigRepository + 'static,
    W: WorkflowResumer + 'static,
    E: EventPublisher + 'static,
{
    let result = async {
        let id = OrderId::parse(order_id)?;
        orders::order_journey(&deps.store, &principal, &id).await
    }
    .await;
    edge::reply(result, StatusCode::OK, &deps.clock)
}
