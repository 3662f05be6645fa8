//! The end-to-end harness: `presso serve --template template.yaml` (the project's own template
//! and function crates, durable storage in a temporary directory, a free port) and the clients
//! that play the people around the bar: displays, customers and baristas, over HTTP and MQTT,
//! as the apps do.
//!
//! Everything goes through presso's public surface: the HTTP API, the AWS wire protocols
//! (Cognito, DynamoDB) and the dev endpoints (`/_presso/outbox`, `/_presso/clock`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const EVENT: &str = "default";
pub const ORDER_TABLE: &str = "serverlesspresso-order-table";
pub const BARISTA_EMAIL: &str = "barista@example.com";
const PASSWORD: &str = "Passw0rd!presso-e2e";

/// The repository's root (where `template.yaml` is).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// presso running in this process on a port of its own, until [`Presso::stop`].
pub struct Presso {
    pub url: String,
    pub port: u16,
    pub data_dir: PathBuf,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), presso_local::ServeError>>>,
}

impl Presso {
    /// Starts presso with the project's template on a free port and a fresh data directory.
    pub async fn start(data_dir: &Path) -> Presso {
        Self::start_on(data_dir, 0).await
    }

    /// Starts presso on `port` (0: any) with its data in `data_dir`.
    pub async fn start_on(data_dir: &Path, port: u16) -> Presso {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let url = format!("http://127.0.0.1:{port}");
        let mut config = presso_local::Config::in_memory();
        config.template = Some(repo_root().join("template.yaml"));
        config.storage = presso_local::Storage::Dir(data_dir.to_path_buf());
        config.parameter_overrides = vec![
            format!("AdminEmail={BARISTA_EMAIL}"),
            "SesIdentityArn=arn:aws:ses:us-east-1:000000000000:identity/example.com".into(),
            "SesFromAddress=coffee@example.com".into(),
        ];
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            presso_local::run(
                listener,
                async {
                    let _ = rx.await;
                },
                config,
            )
            .await
        });
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if task.is_finished() {
                let result = task.await.expect("presso task");
                panic!("presso stopped during start-up: {result:?}");
            }
            if http
                .get(format!("{url}/config.json"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            assert!(Instant::now() < deadline, "presso did not start in time");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Presso {
            url,
            port,
            data_dir: data_dir.to_path_buf(),
            http,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Stops presso gracefully and waits until it let go of its data.
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

    /// Calls one AWS JSON-protocol operation (`AWSCognitoIdentityProviderService.SignUp`, ...).
    pub async fn aws(&self, target: &str, body: Value) -> (u16, Value) {
        let version = if target.starts_with("DynamoDB") || target.starts_with("AWSStepFunctions") {
            "1.0"
        } else {
            "1.1"
        };
        let resp = self
            .http
            .post(&self.url)
            .header("x-amz-target", target)
            .header("content-type", format!("application/x-amz-json-{version}"))
            .body(body.to_string())
            .send()
            .await
            .expect("presso answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn cognito(&self, op: &str, body: Value) -> Value {
        let (status, v) = self
            .aws(&format!("AWSCognitoIdentityProviderService.{op}"), body)
            .await;
        assert_eq!(status, 200, "{op}: {v}");
        v
    }

    /// `/config.json`, as the apps read it.
    pub async fn runtime_config(&self) -> Value {
        self.http
            .get(format!("{}/config.json", self.url))
            .send()
            .await
            .expect("config.json")
            .json()
            .await
            .expect("JSON")
    }

    async fn client_id(&self, name: &str) -> String {
        let pool = self.runtime_config().await["userPoolId"]
            .as_str()
            .expect("a pool")
            .to_string();
        let clients = self
            .cognito(
                "ListUserPoolClients",
                json!({"UserPoolId": pool, "MaxResults": 60}),
            )
            .await;
        clients["UserPoolClients"]
            .as_array()
            .expect("clients")
            .iter()
            .find(|c| c["ClientName"] == name)
            .and_then(|c| c["ClientId"].as_str())
            .unwrap_or_else(|| panic!("no client {name}: {clients}"))
            .to_string()
    }

    /// A signed-in user made with the admin calls and the robot client (as the robot and
    /// operators' tools do): `given_name` set, in `admin` when `barista`.
    pub async fn user(&self, email: &str, given_name: &str, barista: bool) -> User {
        let pool = self.runtime_config().await["userPoolId"]
            .as_str()
            .expect("a pool")
            .to_string();
        let (status, v) = self
            .aws(
                "AWSCognitoIdentityProviderService.AdminCreateUser",
                json!({
                    "UserPoolId": pool, "Username": email, "MessageAction": "SUPPRESS",
                    "UserAttributes": [
                        {"Name": "email", "Value": email},
                        {"Name": "email_verified", "Value": "true"},
                        {"Name": "given_name", "Value": given_name},
                    ],
                }),
            )
            .await;
        assert!(
            status == 200
                || v["__type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("UsernameExistsException")),
            "{v}"
        );
        self.cognito(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": email, "Password": PASSWORD, "Permanent": true}),
        )
        .await;
        if barista {
            self.cognito(
                "AdminAddUserToGroup",
                json!({"UserPoolId": pool, "Username": email, "GroupName": "admin"}),
            )
            .await;
        }
        let robot = self.client_id("serverlesspresso-robot").await;
        let auth = self
            .cognito(
                "AdminInitiateAuth",
                json!({
                    "UserPoolId": pool, "ClientId": robot, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": email, "PASSWORD": PASSWORD},
                }),
            )
            .await;
        User::from_auth(self, email, &auth)
    }

    /// A customer signing up and in as the order app does: `SignUp` with email and
    /// `given_name`, the confirmation code from the outbox, then passwordless `USER_AUTH` with
    /// `EMAIL_OTP` and the code from the outbox.
    pub async fn sign_up_with_email_code(&self, email: &str, given_name: &str) -> User {
        let client = self.client_id("serverlesspresso-apps").await;
        self.cognito(
            "SignUp",
            json!({
                "ClientId": client, "Username": email,
                "UserAttributes": [{"Name": "email", "Value": email}, {"Name": "given_name", "Value": given_name}],
            }),
        )
        .await;
        let code = self.latest_code(email).await;
        self.cognito(
            "ConfirmSignUp",
            json!({"ClientId": client, "Username": email, "ConfirmationCode": code}),
        )
        .await;
        let challenge = self
            .cognito(
                "InitiateAuth",
                json!({
                    "ClientId": client, "AuthFlow": "USER_AUTH",
                    "AuthParameters": {"USERNAME": email, "PREFERRED_CHALLENGE": "EMAIL_OTP"},
                }),
            )
            .await;
        assert_eq!(challenge["ChallengeName"], "EMAIL_OTP", "{challenge}");
        let code = self.latest_code(email).await;
        let auth = self
            .cognito(
                "RespondToAuthChallenge",
                json!({
                    "ClientId": client, "ChallengeName": "EMAIL_OTP", "Session": challenge["Session"],
                    "ChallengeResponses": {"USERNAME": email, "EMAIL_OTP_CODE": code},
                }),
            )
            .await;
        User::from_auth(self, email, &auth)
    }

    /// The newest code presso "emailed" to `email`.
    pub async fn latest_code(&self, email: &str) -> String {
        let v: Value = self
            .http
            .get(format!("{}/_presso/outbox/{email}/latest", self.url))
            .send()
            .await
            .expect("outbox")
            .json()
            .await
            .expect("JSON");
        v["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no code for {email}: {v}"))
            .to_string()
    }

    /// Moves presso's clock forward (timers due by then fire).
    pub async fn advance(&self, seconds: f64) {
        let resp = self
            .http
            .post(format!("{}/_presso/clock", self.url))
            .json(&json!({"advanceSeconds": seconds}))
            .send()
            .await
            .expect("clock");
        assert_eq!(resp.status(), 200);
    }

    /// Every item of the order table whose `PK` starts with `prefix`.
    pub async fn order_items(&self) -> Vec<Value> {
        let (status, v) = self
            .aws("DynamoDB_20120810.Scan", json!({"TableName": ORDER_TABLE}))
            .await;
        assert_eq!(status, 200, "{v}");
        v["Items"].as_array().cloned().unwrap_or_default()
    }

    /// One request to the HTTP API.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("presso answers");
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = resp.text().await.unwrap_or_default();
        Answer {
            status,
            content_type,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    /// Polls `check` until it answers `Some`, failing after `seconds` with `what`.
    pub async fn eventually<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(v) = check().await {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(25)).await;
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

/// An HTTP answer: status, content type and JSON body (or the text as a string).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

impl Answer {
    /// The problem document's `code`, for a 4xx.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// A signed-in person: their ID token and `sub`.
#[derive(Debug, Clone)]
pub struct User {
    pub email: String,
    pub id_token: String,
    pub sub: String,
}

impl User {
    fn from_auth(presso: &Presso, email: &str, auth: &Value) -> User {
        let _ = presso;
        let id_token = auth["AuthenticationResult"]["IdToken"]
            .as_str()
            .unwrap_or_else(|| panic!("no IdToken: {auth}"))
            .to_string();
        let sub = claims(&id_token)["sub"].as_str().expect("sub").to_string();
        User {
            email: email.to_string(),
            id_token,
            sub,
        }
    }

    /// This person's own topic.
    pub fn topic(&self) -> String {
        format!("serverlesspresso-user-{}", self.sub)
    }
}

/// A JWT's claims (not verified: presso verified them).
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64url(payload)).expect("JSON claims")
}

fn base64url(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => continue,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// One MQTT message as an app receives it: its topic and `{"type", "detail"}` payload.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: String,
    pub payload: Value,
}

impl Message {
    pub fn kind(&self) -> &str {
        self.payload["type"].as_str().unwrap_or_default()
    }
}

/// An app's realtime connection: MQTT over WebSocket at `/mqtt`, the ID token as the CONNECT
/// password (or anonymous), subscribed to its topics; every message it receives is kept.
pub struct Subscriber {
    _client: rumqttc::AsyncClient,
    received: Arc<Mutex<Vec<Message>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Connects and subscribes; returns once every subscription is granted.
    pub async fn connect(presso: &Presso, user: Option<&User>, topics: &[String]) -> Subscriber {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut options = rumqttc::MqttOptions::new(
            format!("e2e-{n}"),
            format!("ws://127.0.0.1:{}/mqtt", presso.port),
            presso.port,
        );
        options.set_transport(rumqttc::Transport::Ws);
        options.set_keep_alive(Duration::from_secs(30));
        if let Some(u) = user {
            options.set_credentials("presso", &u.id_token);
        }
        let (client, mut events) = rumqttc::AsyncClient::new(options, 64);
        for t in topics {
            client
                .subscribe(t, rumqttc::QoS::AtLeastOnce)
                .await
                .expect("subscribe");
        }
        let mut granted = 0;
        let deadline = Instant::now() + Duration::from_secs(10);
        while granted < topics.len() {
            assert!(Instant::now() < deadline, "no SUBACK in time");
            match tokio::time::timeout(Duration::from_secs(10), events.poll()).await {
                Ok(Ok(rumqttc::Event::Incoming(rumqttc::Incoming::SubAck(ack)))) => {
                    for code in ack.return_codes {
                        assert!(
                            matches!(code, rumqttc::SubscribeReasonCode::Success(_)),
                            "a subscription was refused: {code:?} ({topics:?})"
                        );
                        granted += 1;
                    }
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => panic!("MQTT connection failed: {e}"),
                Err(_) => panic!("no MQTT packet within 10 s"),
            }
        }
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        let task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Incoming::Publish(p))) => {
                        let payload = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        sink.lock().expect("lock").push(Message {
                            topic: p.topic,
                            payload,
                        });
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        Subscriber {
            _client: client,
            received,
            task,
        }
    }

    /// Everything received so far, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.received.lock().expect("lock").clone()
    }

    /// The `type`s of the messages received about `order_id`, oldest first.
    pub fn kinds_for(&self, order_id: &str) -> Vec<String> {
        self.messages()
            .iter()
            .filter(|m| m.payload["detail"]["orderId"] == order_id)
            .map(|m| m.kind().to_string())
            .collect()
    }

    /// Waits until a message of `kind` about `order_id` has arrived.
    pub async fn wait_for(&self, order_id: &str, kind: &str) -> Message {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(m) = self
                .messages()
                .into_iter()
                .find(|m| m.payload["detail"]["orderId"] == order_id && m.kind() == kind)
            {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "no {kind} for {order_id}; received: {:?}",
                self.kinds_for(order_id)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// No message carries a task token, anywhere in its payload.
    pub fn assert_no_task_token(&self) {
        for m in self.messages() {
            let text = m.payload.to_string();
            assert!(
                !text.contains("askToken") && !text.contains("task_token"),
                "a task token reached an app: {text}"
            );
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}
