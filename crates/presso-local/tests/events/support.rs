//! Starting what the EventBridge tests drive: presso in process on port 0, an SDK client, a
//! plain HTTP client for the dev endpoints, and the `aws` CLI.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::config::{BehaviorVersion, Credentials, Region};
use std::process::Command;
use std::time::{Duration, Instant};

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

/// An EventBridge client with static test credentials and no retries.
pub fn client(endpoint: &str) -> Client {
    let conf = aws_sdk_eventbridge::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_eventbridge::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

/// `GET` a dev endpoint as JSON.
pub async fn get_json(url: &str) -> serde_json::Value {
    let resp = reqwest::get(url).await.expect("GET");
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.json().await.expect("JSON")
}

/// Polls `f` until it yields a value, failing after 10 s.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs the `aws` CLI against presso with dummy credentials; returns stdout, failing the test
/// with stderr when the command fails.
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
