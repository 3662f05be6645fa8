//! The robot's view of a running Serverlesspresso: `/config.json`, the HTTP API, and
//! Cognito's JSON protocol for the admin calls that make its users.
//!
//! The same client drives `presso serve` and a deployed stack: everything is found from the
//! site's `/config.json`, as the apps do. Cognito admin calls are signed with SigV4 when AWS
//! credentials are in the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`); presso accepts them unsigned.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

/// The password the robot gives the users it makes (they never sign in any other way).
const ROBOT_PASSWORD: &str = "Robot-Passw0rd!";
/// The app client made for tools like this one (`ADMIN_USER_PASSWORD_AUTH`).
pub const ROBOT_CLIENT_NAME: &str = "serverlesspresso-robot";

/// One running system: its site, its runtime settings and an HTTP connection pool.
#[derive(Clone)]
pub struct Endpoint {
    http: reqwest::Client,
    /// The site (`http://127.0.0.1:8080`, `https://d1234.cloudfront.net`), no trailing `/`.
    pub base: String,
    /// `/config.json` as the apps read it.
    pub config: Value,
    /// The HTTP API's base URL.
    pub api: String,
    pub user_pool_id: String,
    signing: Option<Signing>,
}

#[derive(Clone)]
struct Signing {
    credentials: aws_credential_types::Credentials,
    region: String,
}

/// An HTTP answer: status and JSON body (or the text as a JSON string).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The problem document's `code` (`qr_exhausted`, ...), for a 4xx.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
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
    /// This person's own MQTT topic.
    pub fn topic(&self) -> String {
        format!("serverlesspresso-user-{}", self.sub)
    }
}

impl Endpoint {
    /// Reads `<base>/config.json`; `client_pool` is the size of the HTTP connection pool.
    pub async fn connect(base: &str) -> Result<Endpoint> {
        let base = base.trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .timeout(Duration::from_secs(30))
            .build()?;
        let config: Value = http
            .get(format!("{base}/config.json"))
            .send()
            .await
            .with_context(|| format!("cannot reach {base}/config.json"))?
            .error_for_status()
            .with_context(|| format!("{base}/config.json"))?
            .json()
            .await
            .context("/config.json is not JSON")?;
        let api_base = config["apiBase"].as_str().unwrap_or("/api");
        let api = if api_base.starts_with("http") {
            api_base.trim_end_matches('/').to_string()
        } else {
            format!("{base}{}", api_base.trim_end_matches('/'))
        };
        let user_pool_id = config["userPoolId"]
            .as_str()
            .context("/config.json names no userPoolId (is presso serving a template?)")?
            .to_string();
        let signing = match (
            std::env::var("AWS_ACCESS_KEY_ID"),
            std::env::var("AWS_SECRET_ACCESS_KEY"),
        ) {
            (Ok(key), Ok(secret)) if !is_local(&base) => Some(Signing {
                credentials: aws_credential_types::Credentials::new(
                    key,
                    secret,
                    std::env::var("AWS_SESSION_TOKEN").ok(),
                    None,
                    "environment",
                ),
                region: config["region"].as_str().unwrap_or("us-east-1").to_string(),
            }),
            _ => None,
        };
        Ok(Endpoint {
            http,
            base,
            config,
            api,
            user_pool_id,
            signing,
        })
    }

    /// The realtime endpoint (`ws://.../mqtt`), absolute.
    pub fn mqtt_url(&self) -> String {
        let url = self.config["mqttUrl"].as_str().unwrap_or("/mqtt");
        if url.starts_with("ws://") || url.starts_with("wss://") {
            url.to_string()
        } else if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}{url}")
        } else {
            format!(
                "ws://{}{url}",
                self.base.strip_prefix("http://").unwrap_or(&self.base)
            )
        }
    }

    fn cognito_url(&self) -> String {
        match self.config["cognitoEndpoint"].as_str() {
            Some(u) if !u.is_empty() => u.trim_end_matches('/').to_string(),
            _ => format!(
                "https://cognito-idp.{}.amazonaws.com",
                self.config["region"].as_str().unwrap_or("us-east-1")
            ),
        }
    }

    /// One Cognito operation (`AdminCreateUser`, ...); an error names the exception.
    pub async fn cognito(&self, op: &str, body: Value) -> Result<Value> {
        let url = format!("{}/", self.cognito_url());
        let target = format!("AWSCognitoIdentityProviderService.{op}");
        let payload = body.to_string();
        let mut headers = vec![
            ("x-amz-target".to_string(), target),
            (
                "content-type".to_string(),
                "application/x-amz-json-1.1".to_string(),
            ),
        ];
        if let Some(s) = &self.signing {
            headers.extend(sign(s, &url, &headers, payload.as_bytes())?);
        }
        let mut req = self.http.post(&url).body(payload);
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.with_context(|| format!("Cognito {op}"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !status.is_success() {
            let kind = v["__type"].as_str().unwrap_or("error");
            let kind = kind.rsplit('#').next().unwrap_or(kind);
            bail!(
                "Cognito {op}: {status} {kind}: {}",
                v["message"].as_str().unwrap_or_default()
            );
        }
        Ok(v)
    }

    /// The id of the app client named `name` in the pool.
    pub async fn client_id(&self, name: &str) -> Result<String> {
        let clients = self
            .cognito(
                "ListUserPoolClients",
                json!({"UserPoolId": self.user_pool_id, "MaxResults": 60}),
            )
            .await?;
        clients["UserPoolClients"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["ClientName"] == name)
            .and_then(|c| c["ClientId"].as_str())
            .map(str::to_string)
            .ok_or_else(|| anyhow!("the pool has no app client named {name}"))
    }

    /// A user made with the admin calls and signed in through the robot client (`client_id`):
    /// email verified, `given_name` set, in group `admin` when `barista`. An existing user is
    /// reused (its password reset), so runs can repeat.
    pub async fn admin_user(
        &self,
        client_id: &str,
        email: &str,
        given_name: &str,
        barista: bool,
    ) -> Result<User> {
        let pool = &self.user_pool_id;
        if let Err(e) = self
            .cognito(
                "AdminCreateUser",
                json!({
                    "UserPoolId": pool, "Username": email, "MessageAction": "SUPPRESS",
                    "UserAttributes": [
                        {"Name": "email", "Value": email},
                        {"Name": "email_verified", "Value": "true"},
                        {"Name": "given_name", "Value": given_name},
                    ],
                }),
            )
            .await
            && !e.to_string().contains("UsernameExistsException")
        {
            return Err(e);
        }
        self.cognito(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": email, "Password": ROBOT_PASSWORD, "Permanent": true}),
        )
        .await?;
        if barista {
            self.cognito(
                "AdminAddUserToGroup",
                json!({"UserPoolId": pool, "Username": email, "GroupName": "admin"}),
            )
            .await?;
        }
        let auth = self
            .cognito(
                "AdminInitiateAuth",
                json!({
                    "UserPoolId": pool, "ClientId": client_id, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": email, "PASSWORD": ROBOT_PASSWORD},
                }),
            )
            .await?;
        let id_token = auth["AuthenticationResult"]["IdToken"]
            .as_str()
            .ok_or_else(|| anyhow!("AdminInitiateAuth gave no IdToken: {auth}"))?
            .to_string();
        let sub = claims(&id_token)?["sub"]
            .as_str()
            .context("the ID token has no sub")?
            .to_string();
        Ok(User {
            email: email.to_string(),
            id_token,
            sub,
        })
    }

    /// presso's counters (`GET /_presso/usage`); `None` for a system that has none (AWS).
    pub async fn usage(&self) -> Option<Value> {
        let resp = self
            .http
            .get(format!("{}/_presso/usage", self.base))
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        resp.json().await.ok()
    }

    /// One request to the HTTP API (`path` below the API base, e.g. `/orders/...`).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer> {
        let mut req = self.http.request(method, format!("{}{path}", self.api));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.with_context(|| format!("API {path}"))?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok(Answer { status, body })
    }
}

fn is_local(base: &str) -> bool {
    base.starts_with("http://127.") || base.starts_with("http://localhost")
}

/// SigV4 headers for a Cognito JSON call.
fn sign(
    s: &Signing,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Vec<(String, String)>> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity = s.credentials.clone().into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&s.region)
        .name("cognito-idp")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| anyhow!("cannot sign: {e}"))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| anyhow!("cannot sign: {e}"))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| anyhow!("cannot sign: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// A JWT's claims (not verified: the server verifies them).
pub fn claims(token: &str) -> Result<Value> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).context("not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .context("the JWT's payload is not base64url")?;
    serde_json::from_slice(&bytes).context("the JWT's claims are not JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_read_from_the_payload() {
        // {"sub":"abc","n":1} base64url without padding.
        let t = "x.eyJzdWIiOiJhYmMiLCJuIjoxfQ.y";
        assert_eq!(claims(t).unwrap(), json!({"sub": "abc", "n": 1}));
        assert!(claims("nodots").is_err());
    }
}
