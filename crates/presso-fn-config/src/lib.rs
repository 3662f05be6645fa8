//! The config function: events' store configuration and the apps' runtime settings.
//!
//! | route | use case |
//! |---|---|
//! | `GET /api/events/{eventId}/config` (public) | `config::get_config` |
//! | `PUT /api/events/{eventId}/config` (admin, body `ConfigUpdate`) | `config::update_config` |
//! | `PUT /api/events/{eventId}/store` (admin, body `StoreStateRequest`) | `config::set_store_state` |
//! | `POST /api/events/{eventId}` (admin, optional body `ConfigUpdate`) | `config::create_event` |
//! | `GET /config.json` (public) | [`RuntimeSettings`] from the function's environment |
//!
//! An HTTP function: [`router`] over a [`Deps`], served by `lambda_http` on Lambda and
//! mounted by presso with [`app`]. No business rules here.
//!
//! First start: event `default` is seeded before an instance's first request
//! ([`edge::seed_first`]).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use presso_aws::bus::EventBridgePublisher;
use presso_aws::dynamo::DynamoStore;
use presso_aws::{AwsSettings, Env, SharedClock};
use presso_core::api::{RuntimeSettings, StoreStateRequest, paths};
use presso_core::config::ConfigUpdate;
use presso_core::ids::EventId;
use presso_core::ports::{ConfigRepository, EventPublisher};
use presso_core::usecases::config::{self, ConfigPorts};
use presso_fn_common::env;
use presso_fn_common::http::{self as edge, Identity, Reply};
use std::sync::Arc;

/// What the handlers use: the config table, the bus, the clock, and the settings the apps read.
#[derive(Debug, Clone)]
pub struct Deps<S = DynamoStore, E = EventBridgePublisher> {
    pub store: S,
    pub events: E,
    pub clock: SharedClock,
    pub settings: RuntimeSettings,
}

impl<S, E> Deps<S, E> {
    pub fn new(store: S, events: E, settings: RuntimeSettings) -> Self {
        Self {
            store,
            events,
            clock: SharedClock::system(),
            settings,
        }
    }

    /// The same dependencies on another clock (presso's virtual clock).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    fn ports(&self) -> ConfigPorts<'_, S, E, SharedClock> {
        ConfigPorts {
            store: &self.store,
            events: &self.events,
            clock: &self.clock,
        }
    }
}

/// `/config.json` from the environment: `AWS_REGION`, `USER_POOL_ID`, `USER_POOL_CLIENT_ID`,
/// `COGNITO_ENDPOINT` (default: the region's Cognito endpoint), `MQTT_URL` (default: IoT
/// Core's WebSocket URL on `IOT_DATA_ENDPOINT` with the custom authorizer `IOT_AUTHORIZER`),
/// `DEFAULT_EVENT_ID` (default `default`), `ORDER_APP_URL` (default `/order/`: on AWS the apps
/// share the distribution's origin and resolve it against their own).
pub fn runtime_settings(env: &Env) -> RuntimeSettings {
    let region = env::get_or(env, "AWS_REGION", "us-east-1");
    let mqtt_url = match env::get(env, "MQTT_URL") {
        Some(url) => url.to_owned(),
        None => format!(
            "wss://{}/mqtt?x-amz-customauthorizer-name={}",
            env::get_or(env, "IOT_DATA_ENDPOINT", "localhost"),
            env::get_or(env, "IOT_AUTHORIZER", "serverlesspresso-jwt")
        ),
    };
    RuntimeSettings {
        user_pool_id: env::get_or(env, "USER_POOL_ID", ""),
        user_pool_client_id: env::get_or(env, "USER_POOL_CLIENT_ID", ""),
        cognito_endpoint: env::get(env, "COGNITO_ENDPOINT")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com/")),
        api_base: "/api".to_owned(),
        mqtt_url,
        mqtt_auth: "jwt".to_owned(),
        default_event_id: env::get(env, "DEFAULT_EVENT_ID")
            .and_then(|e| EventId::parse(e).ok())
            .unwrap_or_else(EventId::default_event),
        order_app_url: env::get_or(env, "ORDER_APP_URL", "/order/"),
        region,
    }
}

/// The AWS dependencies from a function environment (`AWS_ENDPOINT_URL`, `AWS_REGION`,
/// `CONFIG_TABLE`, `BUS_NAME`, and the settings of [`runtime_settings`]).
pub async fn deps_from_env(env: &Env) -> Deps {
    let config = AwsSettings::from_env(env).load().await;
    Deps::new(
        DynamoStore::from_config(&config, env),
        EventBridgePublisher::from_config(&config, env),
        runtime_settings(env),
    )
}

/// The router on AWS dependencies from `env`: what presso mounts.
pub async fn app(env: &Env) -> Router {
    router(Arc::new(deps_from_env(env).await))
}

pub fn router<S, E>(deps: Arc<Deps<S, E>>) -> Router
where
    S: ConfigRepository + 'static,
    E: EventPublisher + 'static,
{
    let routes = Router::new()
        .route(
            paths::EVENT_CONFIG,
            get(get_config::<S, E>).put(update_config::<S, E>),
        )
        .route(paths::EVENT_STORE, put(set_store::<S, E>))
        .route(paths::EVENT, post(create_event::<S, E>))
        .route(paths::RUNTIME_SETTINGS, get(settings::<S, E>))
        .fallback(edge::not_found)
        .with_state(deps.clone());
    edge::seed_first(routes, deps, |d| async move {
        config::seed_default_event(&d.store, &d.clock).await
    })
}

type St<S, E> = State<Arc<Deps<S, E>>>;

async fn get_config<S, E>(State(deps): St<S, E>, Path(event): Path<String>) -> Reply
where
    S: ConfigRepository + 'static,
    E: EventPublisher + 'static,
{
    let result = async {
        let event = EventId::parse(event)?;
        config::get_config(&deps.store, &event).await
    }
    .await;
    edge::reply(result, StatusCode::OK, &deps.clock)
}

async fn update_config<S, E>(
    State(deps): St<S, E>,
    Identity(principal): Identity,
    Path(event): Path<String>,
    body: Bytes,
) -> Reply
where
    S: ConfigRepository + 'static,
    E: EventPublisher + 'static,
{
    let result = async {
        let event = EventId::parse(event)?;
        let update: ConfigUpdate = edge::json_body(&body)?;
        config::update_config(&deps.ports(), &principal, &event, &update).await
    }
    .await;
    edge::reply(result, StatusCode::OK, &deps.clock)
}

async fn set_store<S, E>(
    State(deps): St<S, E>,
    Identity(principal): Identity,
    Path(event): Path<String>,
    body: Bytes,
) -> Reply
where
    S: ConfigRepository + 'static,
    E: EventPublisher + 'static,
{
    let result = async {
        let event = EventId::parse(event)?;
        let request: StoreStateRequest = edge::json_body(&body)?;
        let view =
            config::set_store_state(&deps.ports(), &principal, &event, request.state).await?;
        tracing::info!(event_id = %event, state = request.state.as_str(), "store state set");
        Ok(view)
    }
    .await;
    edge::reply(result, StatusCode::OK, &deps.clock)
}

async fn create_event<S, E>(
    State(deps): St<S, E>,
    Identity(principal): Identity,
    Path(event): Path<String>,
    body: Bytes,
) -> Reply
where
    S: ConfigRepository + 'static,
    E: EventPublisher + 'static,
{
    let result = async {
        let event = EventId::parse(event)?;
        let initial: Option<ConfigUpdate> = if body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(edge::json_body(&body)?)
        };
        config::create_event(&deps.ports(), &principal, &event, initial.as_ref()).await
    }
    .await;
    edge::reply(result, StatusCode::CREATED, &deps.clock)
}

async fn settings<S, E>(State(deps): St<S, E>) -> Reply
where
    S: ConfigRepository + 'static,
    E: EventPublisher + 'static,
{
    edge::reply(Ok(deps.settings.clone()), StatusCode::OK, &deps.clock)
}
