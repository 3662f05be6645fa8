//! Starting what the sign-in tests drive: presso in process on port 0, an SDK client, raw
//! JSON 1.1 calls for provisioning, and the `aws` CLI.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use serde_json::{Value, json};
use std::process::Command;

/// presso running in this process until dropped.
pub struct Presso {
    pub endpoint: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Presso {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn spawn_presso() -> Presso {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        presso_local::run(listener, shutdown, presso_local::Config::in_memory())
            .await
            .expect("presso runs");
    });
    Presso {
        endpoint: format!("http://{addr}"),
        stop: Some(tx),
    }
}

pub fn client(endpoint: &str) -> Client {
    let conf = aws_sdk_cognitoidentityprovider::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_cognitoidentityprovider::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

/// One identity-provider call as raw JSON 1.1; panics unless it succeeds.
pub async fn call(endpoint: &str, op: &str, body: Value) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{op}"),
        )
        .header("content-type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .send()
        .await
        .expect("POST");
    let status = resp.status();
    let value: Value = resp.json().await.expect("JSON");
    assert!(status.is_success(), "{op}: {status} {value}");
    value
}

/// A pool that signs in with email codes or passwords, and a client allowing both.
pub async fn provision(endpoint: &str) -> (String, String) {
    let pool = call(
        endpoint,
        "CreateUserPool",
        json!({
            "PoolName": "ServerlesspressoUserPool",
            "UsernameAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
            "UserPoolTier": "ESSENTIALS",
            "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["EMAIL_OTP", "PASSWORD"]}}
        }),
    )
    .await;
    let pool_id = pool["UserPool"]["Id"]
        .as_str()
        .expect("pool id")
        .to_string();
    let client = call(
        endpoint,
        "CreateUserPoolClient",
        json!({
            "UserPoolId": pool_id,
            "ClientName": "web",
            "ExplicitAuthFlows": ["ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        }),
    )
    .await;
    let client_id = client["UserPoolClient"]["ClientId"]
        .as_str()
        .expect("client id")
        .to_string();
    (pool_id, client_id)
}

/// `{to, code, sentAt}` of the newest code sent to `email`.
pub async fn latest_code(endpoint: &str, email: &str) -> Value {
    let resp = reqwest::get(format!("{endpoint}/_presso/outbox/{email}/latest"))
        .await
        .expect("GET");
    assert!(resp.status().is_success(), "outbox: {}", resp.status());
    resp.json().await.expect("JSON")
}

pub async fn advance_clock(endpoint: &str, seconds: u64) {
    let resp = reqwest::Client::new()
        .post(format!("{endpoint}/_presso/clock"))
        .header("content-type", "application/json")
        .body(json!({"advanceSeconds": seconds}).to_string())
        .send()
        .await
        .expect("POST /_presso/clock");
    assert!(resp.status().is_success(), "clock: {}", resp.status());
}

/// Runs the `aws` CLI with dummy credentials; returns stdout, failing with stderr.
pub fn aws(endpoint: &str, args: &[&str]) -> String {
    let output = Command::new("aws")
        .args(args)
        .args(["--endpoint-url", endpoint, "--output", "json"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_PAGER", "")
        .output()
        .unwrap_or_else(|e| {
            panic!("the `aws` CLI must be on PATH (pip install -r .ci/requirements.txt): {e}")
        });
    assert!(
        output.status.success(),
        "aws {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
