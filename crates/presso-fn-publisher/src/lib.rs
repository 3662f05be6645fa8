//! The publisher function: every application event to its MQTT topics
//! (`serverlesspresso-admin-<eventId>`, `serverlesspresso-user-<sub>`,
//! `serverlesspresso-config-<eventId>`) as `{"type": <detail-type>, "detail": {...}}`, task
//! tokens stripped (`usecases::publish::publish_event`).
//!
//! An event function: [`handle`] takes the EventBridge envelope; `main.rs` runs it with
//! `lambda_runtime`, and presso calls it in-process with a [`Deps`] from [`deps_from_env`].

use lambda_runtime::LambdaEvent;
use presso_aws::realtime::IotDataPublisher;
use presso_aws::{AwsSettings, Env};
use presso_core::ports::RealtimePublisher;
use presso_core::usecases::publish;
use presso_fn_common::event::{self, Envelope, HandlerError};
use serde_json::Value;

/// What the handler uses: the IoT data plane (presso's broker locally).
#[derive(Debug, Clone)]
pub struct Deps<R = IotDataPublisher> {
    pub realtime: R,
}

/// The AWS dependencies from a function environment (`AWS_ENDPOINT_URL`, `AWS_REGION`, and
/// on AWS `IOT_DATA_ENDPOINT`, the account's data-ATS endpoint).
pub async fn deps_from_env(env: &Env) -> Deps {
    let config = AwsSettings::from_env(env).load().await;
    // Locally AWS_ENDPOINT_URL already names presso, which answers the data plane too.
    let endpoint = if env.contains_key("AWS_ENDPOINT_URL") {
        None
    } else {
        presso_fn_common::env::get(env, "IOT_DATA_ENDPOINT")
    };
    Deps {
        realtime: IotDataPublisher::from_config(&config, endpoint),
    }
}

/// Publishes the event; answers the topics it went to.
pub async fn handle<R: RealtimePublisher>(
    deps: &Deps<R>,
    event: LambdaEvent<Envelope>,
) -> Result<Value, HandlerError> {
    let envelope = event.payload;
    let parsed = event::parse(&envelope)?;
    let topics = publish::publish_event(&deps.realtime, &parsed).await?;
    let names: Vec<String> = topics.iter().map(|t| t.name()).collect();
    tracing::info!(detail_type = %envelope.detail_type, topics = ?names, "published");
    Ok(serde_json::json!({ "topics": names }))
}
