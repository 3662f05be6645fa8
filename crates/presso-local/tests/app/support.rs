//! presso started in process on port 0 with the fixture template and two tiny test functions,
//! and the clients the tests drive it with.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use lambda_http::RequestExt as _;
use lambda_http::request::RequestContext;
use presso_local::app::{Env, FunctionRegistry, event_handler};
use serde_json::{Value, json};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// presso running in this process until [`Presso::stop`] or drop.
pub struct Presso {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), presso_local::ServeError>>>,
}

impl Presso {
    /// Stops presso and waits until it has let go of its data directory.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("presso task")
                .expect("presso stops cleanly");
        }
    }
}

impl Drop for Presso {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn config(template: &Path, storage: presso_local::Storage) -> presso_local::Config {
    let mut config = presso_local::Config::in_memory();
    config.template = Some(template.to_path_buf());
    config.storage = storage;
    config.functions = registry();
    config.static_dir = Some(fixture("app/static"));
    config
}

/// Starts presso; start-up errors (bad template, unknown crate) are returned.
pub async fn try_start(config: presso_local::Config) -> Result<Presso, presso_local::ServeError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        let result = presso_local::run(listener, shutdown, config).await;
        drop(ready_tx);
        result
    });
    // `run` either fails during start-up (the task ends) or serves: whichever comes first.
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ready_rx = ready_rx;
    loop {
        if ready_rx.try_recv() != Err(tokio::sync::oneshot::error::TryRecvError::Empty) {
            let result = task.await.expect("presso task");
            return Err(result.expect_err("presso stopped by itself"));
        }
        if client
            .get(format!("{url}/config.json"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        assert!(Instant::now() < deadline, "presso did not start in time");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(Presso {
        url,
        stop: Some(tx),
        task: Some(task),
    })
}

pub async fn start(config: presso_local::Config) -> Presso {
    try_start(config).await.expect("presso starts")
}

fn sdk_parts(env: &Env) -> (String, String) {
    (env["AWS_ENDPOINT_URL"].clone(), env["AWS_REGION"].clone())
}

fn dynamodb(env: &Env) -> aws_sdk_dynamodb::Client {
    let (endpoint, region) = sdk_parts(env);
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new(region))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            &env["AWS_ACCESS_KEY_ID"],
            &env["AWS_SECRET_ACCESS_KEY"],
            None,
            None,
            "env",
        ))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

fn eventbridge(env: &Env) -> aws_sdk_eventbridge::Client {
    let (endpoint, region) = sdk_parts(env);
    let conf = aws_sdk_eventbridge::Config::builder()
        .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
        .region(aws_sdk_eventbridge::config::Region::new(region))
        .credentials_provider(aws_sdk_eventbridge::config::Credentials::new(
            &env["AWS_ACCESS_KEY_ID"],
            &env["AWS_SECRET_ACCESS_KEY"],
            None,
            None,
            "env",
        ))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_eventbridge::Client::from_conf(conf)
}

struct Orders {
    env: Env,
    events: aws_sdk_eventbridge::Client,
}

fn claims(req: &Request) -> HashMap<String, String> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|j| j.claims.clone())
            .unwrap_or_default(),
        _ => HashMap::new(),
    }
}

/// `test-orders`: an HTTP function like the real ones (an axum router reading the caller from
/// API Gateway's request context and publishing to the bus through the SDK).
fn orders_router(env: Env) -> Router {
    let events = eventbridge(&env);
    let state = Arc::new(Orders { env, events });
    Router::new()
        .route(
            "/api/orders",
            post(|State(s): State<Arc<Orders>>, req: Request| async move {
                let claims = claims(&req);
                let body = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default();
                let order: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
                let detail = json!({"orderId": order["orderId"], "user": claims.get("sub")});
                let result = s
                    .events
                    .put_events()
                    .entries(
                        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                            .event_bus_name(&s.env["BUS_NAME"])
                            .source("test.orders")
                            .detail_type("Test.Ordered")
                            .detail(detail.to_string())
                            .build(),
                    )
                    .send()
                    .await;
                match result {
                    Ok(out) if out.failed_entry_count() == 0 => {
                        (axum::http::StatusCode::ACCEPTED, axum::Json(detail)).into_response()
                    }
                    other => (axum::http::StatusCode::BAD_GATEWAY, format!("{other:?}")).into_response(),
                }
            }),
        )
        .route(
            "/api/whoami/{thing}",
            get(|req: Request| async move {
                let context = match req.request_context_ref() {
                    Some(RequestContext::ApiGatewayV2(ctx)) => serde_json::to_value(ctx).unwrap_or_default(),
                    _ => Value::Null,
                };
                axum::Json(json!({
                    "claims": claims(&req),
                    "context": context,
                    "pathParameters": req.path_parameters().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>(),
                }))
            }),
        )
        .route(
            "/api/env",
            get(|State(s): State<Arc<Orders>>| async move { axum::Json(s.env.clone()) }),
        )
        .with_state(state)
}

pub fn registry() -> FunctionRegistry {
    FunctionRegistry::new()
        .http(
            "test-orders",
            |env: Env| async move { Ok(orders_router(env)) },
        )
        .event("test-store", |env: Env| async move {
            // `test-store`: an event target writing the order to the table through the SDK.
            let client = dynamodb(&env);
            let table = env["TABLE_NAME"].clone();
            let endpoint = env["AWS_ENDPOINT_URL"].clone();
            Ok(event_handler(move |detail: Value| {
                let client = client.clone();
                let table = table.clone();
                let endpoint = endpoint.clone();
                async move {
                    let id = detail["orderId"].as_str().unwrap_or_default().to_string();
                    let user = detail["user"].as_str().unwrap_or_default().to_string();
                    client
                        .put_item()
                        .table_name(table)
                        .item(
                            "PK",
                            aws_sdk_dynamodb::types::AttributeValue::S(format!("store#{id}")),
                        )
                        .item(
                            "user",
                            aws_sdk_dynamodb::types::AttributeValue::S(user.clone()),
                        )
                        .send()
                        .await
                        .map_err(|e| format!("{e:?}"))?;
                    // And tells the customer, as the publisher does: the IoT data plane's Publish.
                    let topic = format!("serverlesspresso-user-{user}");
                    let resp = reqwest::Client::new()
                        .post(format!("{endpoint}/topics/{topic}?qos=1"))
                        .body(json!({"type": "Test.Stored", "detail": {"orderId": id}}).to_string())
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    if !resp.status().is_success() {
                        return Err(format!("publish: {}", resp.status()));
                    }
                    Ok(json!({"stored": id}))
                }
            }))
        })
}

/// Calls one AWS JSON-protocol operation on presso.
pub async fn aws(url: &str, target: &str, body: Value) -> (u16, Value) {
    let version = if target.starts_with("DynamoDB") || target.starts_with("AWSStepFunctions") {
        "1.0"
    } else {
        "1.1"
    };
    let resp = reqwest::Client::new()
        .post(format!("{url}/"))
        .header("x-amz-target", target)
        .header("content-type", format!("application/x-amz-json-{version}"))
        .body(body.to_string())
        .send()
        .await
        .expect("aws call");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// An ID token for a new user of the pool `/config.json` names, signed in with a password.
pub async fn sign_in(url: &str, client_id: &str, email: &str) -> String {
    sign_in_tokens(url, client_id, email).await.0
}

/// Signs a user in: their (ID token, access token).
pub async fn sign_in_tokens(url: &str, client_id: &str, email: &str) -> (String, String) {
    let config: Value = reqwest::get(format!("{url}/config.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pool = config["userPoolId"].as_str().unwrap().to_string();
    let svc = "AWSCognitoIdentityProviderService";
    let (s, v) = aws(
        url,
        &format!("{svc}.AdminCreateUser"),
        json!({"UserPoolId": pool, "Username": email, "MessageAction": "SUPPRESS"}),
    )
    .await;
    assert!(
        s == 200
            || v["__type"]
                .as_str()
                .is_some_and(|t| t.ends_with("UsernameExistsException")),
        "{v}"
    );
    let (s, v) = aws(url, &format!("{svc}.AdminSetUserPassword"), json!({"UserPoolId": pool, "Username": email, "Password": "Passw0rd!presso", "Permanent": true})).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = aws(
        url,
        &format!("{svc}.AdminInitiateAuth"),
        json!({"UserPoolId": pool, "ClientId": client_id, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": email, "PASSWORD": "Passw0rd!presso"}}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let token = |name: &str| {
        v["AuthenticationResult"][name]
            .as_str()
            .unwrap()
            .to_string()
    };
    (token("IdToken"), token("AccessToken"))
}

/// Polls `GetItem` until the item is there.
pub async fn wait_for_item(url: &str, table: &str, pk: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, v) = aws(
            url,
            "DynamoDB_20120810.GetItem",
            json!({"TableName": table, "Key": {"PK": {"S": pk}}}),
        )
        .await;
        if v.get("Item").is_some() {
            return v["Item"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no item {pk} in {table} in time: {v}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An MQTT-over-WebSocket client of presso subscribed to `topic` with `token`.
pub async fn subscribe(
    url: &str,
    token: &str,
    topic: &str,
) -> (rumqttc::AsyncClient, rumqttc::EventLoop) {
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let mut options =
        rumqttc::MqttOptions::new("app-test", format!("ws://127.0.0.1:{port}/mqtt"), port);
    options.set_transport(rumqttc::Transport::Ws);
    options.set_credentials("presso", token);
    let (client, mut events) = rumqttc::AsyncClient::new(options, 16);
    client
        .subscribe(topic, rumqttc::QoS::AtLeastOnce)
        .await
        .unwrap();
    loop {
        match next_incoming(&mut events).await {
            rumqttc::Incoming::SubAck(ack) => {
                assert_eq!(
                    ack.return_codes,
                    vec![rumqttc::SubscribeReasonCode::Success(
                        rumqttc::QoS::AtLeastOnce
                    )]
                );
                return (client, events);
            }
            rumqttc::Incoming::ConnAck(ack) => {
                assert_eq!(ack.code, rumqttc::ConnectReturnCode::Success)
            }
            _ => {}
        }
    }
}

async fn next_incoming(events: &mut rumqttc::EventLoop) -> rumqttc::Incoming {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), events.poll()).await {
            Ok(Ok(rumqttc::Event::Incoming(packet))) => return packet,
            Ok(Ok(rumqttc::Event::Outgoing(_))) => {}
            Ok(Err(e)) => panic!("the MQTT connection failed: {e}"),
            Err(_) => panic!("no MQTT packet within 20 s"),
        }
    }
}

/// The next PUBLISH the client receives.
pub async fn next_publish(events: &mut rumqttc::EventLoop) -> rumqttc::Publish {
    loop {
        if let rumqttc::Incoming::Publish(p) = next_incoming(events).await {
            return p;
        }
    }
}
