//! Starting what the realtime tests drive: presso in process on port 0 (or the `presso` binary,
//! for the plain MQTT port), users and their tokens, MQTT clients and the `aws` CLI.

use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, Incoming, MqttOptions, SubscribeFilter,
    SubscribeReasonCode, Transport,
};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long a test waits for any one thing.
pub const WAIT: Duration = Duration::from_secs(10);

/// presso running in this process until dropped.
pub struct Presso {
    pub endpoint: String,
    pub port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Presso {
    /// Stops the server and waits (with a deadline) until `run` has returned.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            tokio::time::timeout(WAIT, done)
                .await
                .expect("presso stops within 10 s")
                .expect("presso's task ends");
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

pub async fn spawn_presso() -> Presso {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        presso_local::run(listener, shutdown, presso_local::Config::in_memory())
            .await
            .expect("presso runs");
        let _ = done_tx.send(());
    });
    Presso {
        endpoint: format!("http://{addr}"),
        port: addr.port(),
        stop: Some(tx),
        done: Some(done_rx),
    }
}

/// One identity-provider call as raw JSON 1.1; panics unless it succeeds.
pub async fn cognito(endpoint: &str, op: &str, body: Value) -> Value {
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

/// A pool with an `admin` group and a password-enabled client.
pub struct Pool {
    pub id: String,
    pub client_id: String,
}

pub async fn pool(endpoint: &str) -> Pool {
    let pool = cognito(
        endpoint,
        "CreateUserPool",
        json!({"PoolName": "ServerlesspressoUserPool", "UsernameAttributes": ["email"]}),
    )
    .await;
    let id = pool["UserPool"]["Id"].as_str().unwrap().to_string();
    let client = cognito(
        endpoint,
        "CreateUserPoolClient",
        json!({"UserPoolId": id, "ClientName": "web",
               "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    )
    .await;
    let client_id = client["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    cognito(
        endpoint,
        "CreateGroup",
        json!({"UserPoolId": id, "GroupName": "admin"}),
    )
    .await;
    Pool { id, client_id }
}

/// A signed-in user: their `sub` and ID token.
pub struct User {
    pub sub: String,
    pub token: String,
}

pub async fn user(endpoint: &str, pool: &Pool, email: &str, admin: bool) -> User {
    cognito(
        endpoint,
        "AdminCreateUser",
        json!({"UserPoolId": pool.id, "Username": email, "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": email}]}),
    )
    .await;
    cognito(
        endpoint,
        "AdminSetUserPassword",
        json!({"UserPoolId": pool.id, "Username": email, "Password": "Correct-Horse-1", "Permanent": true}),
    )
    .await;
    if admin {
        cognito(
            endpoint,
            "AdminAddUserToGroup",
            json!({"UserPoolId": pool.id, "Username": email, "GroupName": "admin"}),
        )
        .await;
    }
    let auth = cognito(
        endpoint,
        "AdminInitiateAuth",
        json!({"UserPoolId": pool.id, "ClientId": pool.client_id, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": email, "PASSWORD": "Correct-Horse-1"}}),
    )
    .await;
    let token = auth["AuthenticationResult"]["IdToken"]
        .as_str()
        .unwrap()
        .to_string();
    let got = cognito(
        endpoint,
        "AdminGetUser",
        json!({"UserPoolId": pool.id, "Username": email}),
    )
    .await;
    let sub = got["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == "sub")
        .and_then(|a| a["Value"].as_str())
        .unwrap()
        .to_string();
    User { sub, token }
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

/// Options for an MQTT-over-WebSocket client of presso on `port`.
pub fn ws_options(port: u16, id: &str, token: Option<&str>) -> MqttOptions {
    let mut options = MqttOptions::new(id, format!("ws://127.0.0.1:{port}/mqtt"), port);
    options.set_transport(Transport::Ws);
    if let Some(token) = token {
        options.set_credentials("presso", token);
    }
    options.set_keep_alive(Duration::from_secs(30));
    options
}

pub async fn next_event(events: &mut EventLoop) -> Result<Event, ConnectionError> {
    tokio::time::timeout(WAIT, events.poll())
        .await
        .expect("no client event within 10 s")
}

pub async fn next_incoming(events: &mut EventLoop) -> Incoming {
    loop {
        match next_event(events).await {
            Ok(Event::Incoming(packet)) => return packet,
            Ok(Event::Outgoing(_)) => {}
            Err(error) => panic!("the connection failed: {error}"),
        }
    }
}

/// Polls until the connection fails, returning why.
pub async fn connection_error(events: &mut EventLoop) -> ConnectionError {
    loop {
        if let Err(error) = next_event(events).await {
            return error;
        }
    }
}

/// Connects and expects CONNACK 0.
pub async fn connect(options: MqttOptions) -> (AsyncClient, EventLoop) {
    let (client, mut events) = AsyncClient::new(options, 16);
    match next_incoming(&mut events).await {
        Incoming::ConnAck(ack) => {
            assert_eq!(ack.code, rumqttc::ConnectReturnCode::Success)
        }
        other => panic!("expected CONNACK, got {other:?}"),
    }
    (client, events)
}

/// The CONNACK code a connection attempt with these options gets refused with.
pub async fn refused_with(options: MqttOptions) -> rumqttc::ConnectReturnCode {
    let (_client, mut events) = AsyncClient::new(options, 16);
    match connection_error(&mut events).await {
        ConnectionError::ConnectionRefused(code) => code,
        other => panic!("expected a refused CONNACK, got {other}"),
    }
}

pub async fn subscribe(
    client: &AsyncClient,
    events: &mut EventLoop,
    filters: &[&str],
) -> Vec<SubscribeReasonCode> {
    client
        .subscribe_many(
            filters
                .iter()
                .map(|f| SubscribeFilter::new((*f).to_owned(), rumqttc::QoS::AtLeastOnce)),
        )
        .await
        .expect("queue subscribe");
    loop {
        if let Incoming::SubAck(ack) = next_incoming(events).await {
            return ack.return_codes;
        }
    }
}

pub async fn next_publish(events: &mut EventLoop) -> rumqttc::Publish {
    loop {
        if let Incoming::Publish(publish) = next_incoming(events).await {
            return publish;
        }
    }
}

/// Runs the `aws` CLI with dummy credentials; returns stdout, failing with stderr.
pub fn aws(endpoint: &str, args: &[&str]) -> String {
    let output = Command::new("aws")
        .args(args)
        .args(["--endpoint-url", endpoint])
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

/// The `presso` binary with `--mqtt-port 0`: its HTTP endpoint and the MQTT port it logged.
pub struct PressoProcess {
    pub endpoint: String,
    pub mqtt_port: u16,
    child: Child,
}

impl Drop for PressoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PressoProcess {
    pub fn start() -> PressoProcess {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_presso"))
            .args(["serve", "--port", "0", "--mqtt-port", "0", "--in-memory"])
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
                for marker in [
                    "accepting requests on http://",
                    "accepting MQTT connections on mqtt://",
                ] {
                    if let Some(pos) = line.find(marker) {
                        let addr: String = line[pos + marker.len()..]
                            .chars()
                            .take_while(|c| !c.is_whitespace() && *c != '\u{1b}')
                            .collect();
                        let _ = tx.send((marker.starts_with("accepting MQTT"), addr));
                    }
                }
            }
        });
        let (mut endpoint, mut mqtt_port) = (None, None);
        while endpoint.is_none() || mqtt_port.is_none() {
            let (is_mqtt, addr) = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("presso logs its addresses within 30 s");
            if is_mqtt {
                mqtt_port = addr.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
            } else {
                endpoint = Some(format!("http://{addr}"));
            }
        }
        PressoProcess {
            endpoint: endpoint.unwrap_or_default(),
            mqtt_port: mqtt_port.unwrap_or_default(),
            child,
        }
    }
}
