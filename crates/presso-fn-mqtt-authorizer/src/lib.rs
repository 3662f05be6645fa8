//! The IoT Core custom authorizer: an MQTT client's password is its user-pool ID token; this
//! function verifies it (RS256 against the issuer's JWKS, issuer, expiry, audience) and answers
//! with a policy granting exactly the topics of `presso_core::acl` for that principal, never
//! publish. No password means anonymous (public config topics only); a token that does not
//! verify is refused.
//!
//! An event function: [`handle`] takes IoT's authorizer request; `main.rs` runs it with
//! `lambda_runtime`, presso's broker applies the same ACL itself. The JWKS is fetched once per
//! container from `<issuer>/.well-known/jwks.json` (and again when a token names an unknown
//! key, as after a key rotation).

use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lambda_runtime::LambdaEvent;
use presso_aws::Env;
use presso_core::acl;
use presso_core::identity::Principal;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::RwLock;

/// IoT Core's request to a custom authorizer (the fields this one reads).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerRequest {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub protocol_data: ProtocolData,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProtocolData {
    #[serde(default)]
    pub mqtt: Option<MqttData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MqttData {
    #[serde(default)]
    pub username: Option<String>,
    /// Base64, as IoT passes it.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
}

/// Why a token was refused (logged; the client only hears "not authenticated").
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the password is not base64 or not UTF-8")]
    BadPassword,
    #[error("the token does not verify: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("no key {0:?} in the issuer's JWKS")]
    UnknownKey(String),
    #[error("the issuer's JWKS could not be fetched: {0}")]
    Jwks(String),
    #[error("the token is for another client or of another use")]
    WrongAudience,
    #[error("the token's claims are not a user: {0}")]
    Identity(#[from] presso_core::identity::IdentityError),
}

/// What the handler needs: who issues tokens, for which clients, and the policy's ARN prefix.
#[derive(Debug)]
pub struct Deps {
    pub issuer: String,
    pub client_ids: Vec<String>,
    /// `arn:aws:iot:<region>:<account>`.
    pub arn_prefix: String,
    keys: RwLock<Option<JwkSet>>,
    fetch: bool,
}

impl Deps {
    /// Keys fetched from `<issuer>/.well-known/jwks.json` on first use.
    pub fn new(issuer: String, client_ids: Vec<String>, arn_prefix: String) -> Self {
        Self {
            issuer,
            client_ids,
            arn_prefix,
            keys: RwLock::new(None),
            fetch: true,
        }
    }

    /// Fixed keys (tests; presso's own pool).
    pub fn with_keys(
        issuer: String,
        client_ids: Vec<String>,
        arn_prefix: String,
        keys: JwkSet,
    ) -> Self {
        Self {
            issuer,
            client_ids,
            arn_prefix,
            keys: RwLock::new(Some(keys)),
            fetch: false,
        }
    }

    async fn fetch_keys(&self) -> Result<JwkSet, AuthError> {
        let url = format!(
            "{}/.well-known/jwks.json",
            self.issuer.trim_end_matches('/')
        );
        let response = reqwest::get(&url)
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| AuthError::Jwks(e.to_string()))?;
        response
            .json::<JwkSet>()
            .await
            .map_err(|e| AuthError::Jwks(e.to_string()))
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if let Some(set) = self.keys.read().await.as_ref()
            && let Some(jwk) = set.find(kid)
        {
            return Ok(DecodingKey::from_jwk(jwk)?);
        }
        if !self.fetch {
            return Err(AuthError::UnknownKey(kid.to_owned()));
        }
        let set = self.fetch_keys().await?;
        let key = set
            .find(kid)
            .map(DecodingKey::from_jwk)
            .transpose()?
            .ok_or_else(|| AuthError::UnknownKey(kid.to_owned()));
        *self.keys.write().await = Some(set);
        key
    }

    /// Verifies a token and reads its principal; returns the seconds it stays valid.
    pub async fn verify(&self, token: &str) -> Result<(Principal, u64), AuthError> {
        let header = jsonwebtoken::decode_header(token)?;
        let kid = header.kid.unwrap_or_default();
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[self.issuer.as_str()]);
        // Cognito's ID tokens carry `aud`, its access tokens `client_id`: checked below.
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)?;
        let claims = data.claims;
        let client = match claims.get("token_use").and_then(Value::as_str) {
            Some("id") => claims.get("aud"),
            Some("access") => claims.get("client_id"),
            _ => None,
        };
        if !client
            .and_then(Value::as_str)
            .is_some_and(|c| self.client_ids.iter().any(|id| id == c))
        {
            return Err(AuthError::WrongAudience);
        }
        let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Ok((Principal::from_claims(&claims)?, exp.saturating_sub(now)))
    }
}

/// `COGNITO_ISSUER` (or `https://cognito-idp.<AWS_REGION>.amazonaws.com/<USER_POOL_ID>`),
/// `USER_POOL_CLIENT_IDS` (comma-separated), `AWS_REGION`, `ACCOUNT_ID`.
pub fn deps_from_env(env: &Env) -> Deps {
    use presso_fn_common::env::{get, get_or};
    let region = get_or(env, "AWS_REGION", "us-east-1");
    let issuer = get(env, "COGNITO_ISSUER")
        .map(str::to_owned)
        .unwrap_or_else(|| {
            format!(
                "https://cognito-idp.{region}.amazonaws.com/{}",
                get_or(env, "USER_POOL_ID", "")
            )
        });
    let client_ids = get_or(env, "USER_POOL_CLIENT_IDS", "")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let arn_prefix = format!(
        "arn:aws:iot:{region}:{}",
        get_or(env, "ACCOUNT_ID", "000000000000")
    );
    Deps::new(issuer, client_ids, arn_prefix)
}

/// The token a client presents: the MQTT password (base64-decoded), or a `token` field.
fn presented_token(request: &AuthorizerRequest) -> Result<Option<String>, AuthError> {
    if let Some(password) = request
        .protocol_data
        .mqtt
        .as_ref()
        .and_then(|m| m.password.as_deref())
        .filter(|p| !p.is_empty())
    {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(password)
            .map_err(|_| AuthError::BadPassword)?;
        let text = String::from_utf8(bytes).map_err(|_| AuthError::BadPassword)?;
        return Ok(Some(text).filter(|t| !t.is_empty()));
    }
    Ok(request.token.clone().filter(|t| !t.is_empty()))
}

/// Answers IoT Core: a policy for the principal, or not authenticated.
pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<AuthorizerRequest>,
) -> Result<Value, lambda_runtime::Error> {
    let request = event.payload;
    let verified = match presented_token(&request) {
        Ok(None) => Ok((Principal::Anonymous, 3600)),
        Ok(Some(token)) => deps.verify(&token).await,
        Err(e) => Err(e),
    };
    Ok(match verified {
        Ok((principal, seconds)) => {
            let seconds = u32::try_from(seconds).unwrap_or(u32::MAX);
            acl::iot_authorizer_response(&principal, &deps.arn_prefix, seconds)
        }
        Err(e) => {
            tracing::warn!(error = %e, "MQTT connection refused");
            acl::iot_authorizer_denied()
        }
    })
}
