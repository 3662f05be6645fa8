//! Starting what the tests drive — presso in process on port 0, or the real `presso serve`
//! binary for crash tests — and talking to it: the Step Functions SDK client, the `aws` CLI,
//! raw JSON-protocol calls and the dev endpoints.

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const ROLE: &str = "arn:aws:iam::000000000000:role/StepFunctionsRole";

/// A client with static test credentials and no retries (a test sees each attempt once).
pub fn client(endpoint: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let conf = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .http_client(http)
        .retry_config(aws_sdk_sfn::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

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

/// One HTTP/1.1 request; answers the status and the body parsed as JSON (`Null` if not JSON).
pub async fn http(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let hostport = endpoint.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(hostport)
        .await
        .expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A JSON-protocol call (`X-Amz-Target`), as any AWS SDK makes it.
pub async fn aws_json(endpoint: &str, target: &str, body: &Value) -> (u16, Value) {
    http(
        endpoint,
        "POST",
        "/",
        &[
            ("X-Amz-Target", target),
            ("Content-Type", "application/x-amz-json-1.0"),
        ],
        &body.to_string(),
    )
    .await
}

/// Moves presso's clock forward.
pub async fn advance(endpoint: &str, seconds: u64) {
    let (status, body) = http(
        endpoint,
        "POST",
        "/_presso/clock",
        &[("Content-Type", "application/json")],
        &format!("{{\"advanceSeconds\": {seconds}}}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// The entries workflows put on the bus.
pub async fn recorded_events(endpoint: &str) -> Vec<Value> {
    let (status, body) = http(endpoint, "GET", "/_presso/events", &[], "").await;
    assert_eq!(status, 200);
    body.as_array().cloned().unwrap_or_default()
}

/// Runs `aws stepfunctions <args>` against presso; answers (success, stdout, stderr).
pub fn aws_cli(endpoint: &str, args: &[&str]) -> (bool, String, String) {
    ensure_aws_cli();
    let out = Command::new("python3")
        .args(["-m", "awscli", "stepfunctions"])
        .args(args)
        .args(["--endpoint-url", endpoint, "--output", "json"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("the aws CLI runs (python3 -m awscli)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `aws_cli` that must succeed; answers its JSON output (`Null` when it printed none).
pub fn aws_ok(endpoint: &str, args: &[&str]) -> Value {
    let (ok, out, err) = aws_cli(endpoint, args);
    assert!(ok, "aws stepfunctions {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or(Value::Null)
}

/// The CLI comes from `.ci/requirements.txt`; install it when missing, fail clearly otherwise.
fn ensure_aws_cli() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let have = Command::new("python3")
            .args(["-c", "import awscli"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if have {
            return;
        }
        let req =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/requirements.txt");
        let status = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&req)
            .status()
            .expect("pip runs");
        assert!(
            status.success(),
            "the aws CLI is missing and pip install -r {} failed",
            req.display()
        );
    });
}

/// A real `presso serve` process (the binary this package builds), for crash tests.
pub struct PressoProcess {
    pub endpoint: String,
    child: Child,
}

impl PressoProcess {
    /// Starts `presso serve --port 0 --data-dir <dir>` and waits for its endpoint log line.
    pub fn start(data_dir: &std::path::Path) -> PressoProcess {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_presso"))
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("presso starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(pos) = line.find("accepting requests on http://") {
                    let url: String = line[pos + "accepting requests on ".len()..]
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '\u{1b}')
                        .collect();
                    let _ = tx.send(url);
                }
            }
        });
        let endpoint = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("presso logs its endpoint within 30 s");
        PressoProcess { endpoint, child }
    }

    /// SIGKILL: no chance to flush or shut down.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PressoProcess {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// Polls `f` until it answers `Some`, failing after `secs` seconds with `what`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
