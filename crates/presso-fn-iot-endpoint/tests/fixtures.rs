//! The custom resource on the committed fixture (`events/iot-endpoint/create.json`), against a
//! local server playing both the IoT control plane and CloudFormation's response URL.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, put};
use presso_fn_common::env::env_of;
use presso_fn_common::testing::fixture;
use presso_fn_iot_endpoint::{CustomResourceRequest, deps_from_env, handle};
use serde_json::{Value, json};
use std::collections::HashMap;
use tokio::sync::mpsc;

async fn describe(
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> axum::Json<Value> {
    let auth = headers["authorization"].to_str().unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=testing/"),
        "{auth}"
    );
    assert!(auth.contains("/eu-west-1/iot/aws4_request"), "{auth}");
    assert_eq!(q["endpointType"], "iot:Data-ATS");
    axum::Json(json!({"endpointAddress": "abc123-ats.iot.eu-west-1.amazonaws.com"}))
}

async fn respond(State(tx): State<mpsc::UnboundedSender<Value>>, body: String) {
    tx.send(serde_json::from_str(&body).unwrap()).unwrap();
}

#[tokio::test]
async fn create_resolves_the_data_ats_endpoint_and_answers_cloudformation() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let app = Router::new()
        .route("/endpoint", get(describe))
        .route("/response", put(respond))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let env = env_of([
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("IOT_CONTROL_ENDPOINT", base.as_str()),
    ]);
    let deps = deps_from_env(&env).await;
    let mut request: CustomResourceRequest =
        serde_json::from_str(&fixture("iot-endpoint", "create")).unwrap();
    request.response_url = format!("{base}/response");
    let answer = handle(
        &deps,
        lambda_runtime::LambdaEvent::new(request, Default::default()),
    )
    .await
    .unwrap();
    assert_eq!(answer["Status"], "SUCCESS");
    let sent = rx.recv().await.expect("CloudFormation hears the answer");
    assert_eq!(
        sent["Data"]["Address"],
        "abc123-ats.iot.eu-west-1.amazonaws.com"
    );
    assert_eq!(sent["LogicalResourceId"], "IotEndpoint");
}

#[tokio::test]
async fn a_failed_lookup_is_still_answered_so_the_stack_does_not_hang() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let app = Router::new()
        .route("/response", put(respond))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let env = env_of([
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("IOT_CONTROL_ENDPOINT", base.as_str()),
    ]);
    let deps = deps_from_env(&env).await;
    let mut request: CustomResourceRequest =
        serde_json::from_str(&fixture("iot-endpoint", "create")).unwrap();
    request.response_url = format!("{base}/response");
    handle(
        &deps,
        lambda_runtime::LambdaEvent::new(request, Default::default()),
    )
    .await
    .unwrap();
    let sent = rx.recv().await.unwrap();
    assert_eq!(sent["Status"], "FAILED");
    assert!(
        sent["Reason"]
            .as_str()
            .unwrap()
            .contains("DescribeEndpoint")
    );
}
