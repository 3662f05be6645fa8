//! ID, access and refresh tokens with Cognito's claims, and their verification.
//!
//! ID token: `sub`, the user's attributes (`email`, `email_verified`, `given_name`, ...),
//! `cognito:username`, `cognito:groups` (an array, only when the user is in a group), `aud` (the
//! client id), `token_use: "id"`, `auth_time`, `iss`, `exp`, `iat`, `jti`, `origin_jti`,
//! `event_id`. Access token: `sub`, `cognito:groups`, `client_id`, `token_use: "access"`,
//! `scope: "aws.cognito.signin.user.admin"`, `username`, `auth_time`, `iss`, `exp`, `iat`, `jti`,
//! `origin_jti`, `event_id`. Refresh tokens are opaque, stored, and die with their user.

use serde_json::{Map, Value, json};

use crate::cx::{ClientSettings, Cx, Result, issuer};
use crate::error::VerifyError;
use crate::ids;
use crate::keys::SigningKey;
use crate::store::{self, ClientRow, PoolRow, RefreshRow, UserRow};

/// Who signed in, and when: carried unchanged from the first sign-in into every refresh.
pub(crate) struct AuthEvent {
    pub auth_time: i64,
    pub origin_jti: String,
    pub event_id: String,
}

impl AuthEvent {
    pub fn fresh(now_ms: i64) -> Self {
        Self {
            auth_time: now_ms / 1000,
            origin_jti: ids::uuid(),
            event_id: ids::uuid(),
        }
    }
}

/// Signs an ID and an access token (and a refresh token when `with_refresh`), returning AWS's
/// `AuthenticationResult`.
pub(crate) fn issue(
    cx: &mut Cx<'_, '_>,
    pool: &PoolRow,
    client: &ClientRow,
    user: &UserRow,
    event: &AuthEvent,
    with_refresh: bool,
) -> Result<Value> {
    let settings = ClientSettings::of(client);
    let iat = cx.now / 1000;
    let groups: Vec<Value> = store::groups_of_user(cx.tx, &pool.id, &user.username)?
        .into_iter()
        .map(|g| Value::String(g.name))
        .collect();
    let iss = issuer(&pool.id);

    let mut id = Map::new();
    id.insert("sub".into(), json!(user.sub));
    if !groups.is_empty() {
        id.insert("cognito:groups".into(), Value::Array(groups.clone()));
    }
    for (name, value) in &user.attributes {
        if name == "sub" {
            continue;
        }
        let value = match (name.as_str(), value.as_str()) {
            // Cognito writes the *_verified attributes as booleans in the ID token.
            ("email_verified" | "phone_number_verified", Some(v)) => json!(v == "true"),
            _ => value.clone(),
        };
        id.insert(name.clone(), value);
    }
    id.insert("iss".into(), json!(iss));
    id.insert("cognito:username".into(), json!(user.username));
    id.insert("origin_jti".into(), json!(event.origin_jti));
    id.insert("aud".into(), json!(client.id));
    id.insert("event_id".into(), json!(event.event_id));
    id.insert("token_use".into(), json!("id"));
    id.insert("auth_time".into(), json!(event.auth_time));
    id.insert("exp".into(), json!(iat + settings.id_token_ms / 1000));
    id.insert("iat".into(), json!(iat));
    id.insert("jti".into(), json!(ids::uuid()));

    let mut access = Map::new();
    access.insert("sub".into(), json!(user.sub));
    if !groups.is_empty() {
        access.insert("cognito:groups".into(), Value::Array(groups));
    }
    access.insert("iss".into(), json!(iss));
    access.insert("client_id".into(), json!(client.id));
    access.insert("origin_jti".into(), json!(event.origin_jti));
    access.insert("event_id".into(), json!(event.event_id));
    access.insert("token_use".into(), json!("access"));
    access.insert("scope".into(), json!("aws.cognito.signin.user.admin"));
    access.insert("auth_time".into(), json!(event.auth_time));
    access.insert("exp".into(), json!(iat + settings.access_token_ms / 1000));
    access.insert("iat".into(), json!(iat));
    access.insert("jti".into(), json!(ids::uuid()));
    access.insert("username".into(), json!(user.username));

    let sign = |claims: &Map<String, Value>| {
        cx.key.sign(claims).map_err(|e| {
            crate::error::CognitoError::internal(format!("could not sign a token: {e}"))
        })
    };
    let id_token = sign(&id)?;
    let access_token = sign(&access)?;

    let mut result = Map::new();
    result.insert("AccessToken".into(), json!(access_token));
    result.insert("ExpiresIn".into(), json!(settings.access_token_ms / 1000));
    result.insert("TokenType".into(), json!("Bearer"));
    if with_refresh {
        let token = ids::opaque(48);
        store::refresh_put(
            cx.tx,
            &RefreshRow {
                token: token.clone(),
                pool_id: pool.id.clone(),
                client_id: client.id.clone(),
                username: user.username.clone(),
                auth_time: event.auth_time,
                origin_jti: event.origin_jti.clone(),
                event_id: event.event_id.clone(),
                expires: cx.now.saturating_add(settings.refresh_token_ms),
            },
        )?;
        result.insert("RefreshToken".into(), json!(token));
    }
    result.insert("IdToken".into(), json!(id_token));
    Ok(Value::Object(result))
}

/// Which of the two JWTs a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Id,
    Access,
}

/// The verified claims of an ID or access token.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub token_use: TokenUse,
    /// The user's immutable id.
    pub sub: String,
    /// `cognito:username` (ID token) or `username` (access token).
    pub username: String,
    pub user_pool_id: String,
    /// `aud` (ID token) or `client_id` (access token).
    pub client_id: String,
    /// `cognito:groups`, empty when the user is in no group.
    pub groups: Vec<String>,
    /// Only ID tokens carry the email.
    pub email: Option<String>,
    pub issuer: String,
    pub exp: i64,
    pub iat: i64,
    /// Every claim as signed, for handlers that build API Gateway's `authorizer.jwt.claims`.
    pub raw: Map<String, Value>,
}

/// Checks signature, key id, issuer shape, expiry (on `now_ms`) and `token_use`. The caller
/// checks that the issuer's pool exists and, if it cares, the audience.
pub(crate) fn verify(
    key: &SigningKey,
    token: &str,
    now_ms: i64,
) -> std::result::Result<Claims, VerifyError> {
    let raw = key.verify_signature(token)?;
    let get = |name: &str| {
        raw.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let iss = get("iss");
    let user_pool_id = iss
        .rsplit_once('/')
        .map(|(_, id)| id.to_string())
        .filter(|id| ids::is_pool_id(id) && issuer(id) == iss)
        .ok_or_else(|| VerifyError::UnknownIssuer(iss.clone()))?;
    let exp = raw
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| VerifyError::Malformed("no exp".into()))?;
    if exp.saturating_mul(1000) <= now_ms {
        return Err(VerifyError::Expired);
    }
    let iat = raw.get("iat").and_then(Value::as_i64).unwrap_or_default();
    let (token_use, username, client_id) = match get("token_use").as_str() {
        "id" => (TokenUse::Id, get("cognito:username"), get("aud")),
        "access" => (TokenUse::Access, get("username"), get("client_id")),
        other => return Err(VerifyError::BadTokenUse(other.to_string())),
    };
    let groups = crate::tokens::groups_claim(raw.get("cognito:groups"));
    Ok(Claims {
        token_use,
        sub: get("sub"),
        username,
        user_pool_id,
        client_id,
        groups,
        email: raw.get("email").and_then(Value::as_str).map(str::to_string),
        issuer: iss,
        exp,
        iat,
        raw,
    })
}

/// Maps an issuer as a template names it for AWS (`https://cognito-idp.<region>.amazonaws.com/
/// <poolId>`, say in an HTTP API's JWT authorizer) to the issuer of this identity provider's
/// tokens for the same pool. Any other issuer is returned unchanged.
pub fn local_issuer(configured: &str) -> String {
    let trimmed = configured.trim_end_matches('/');
    if let Some((host, pool_id)) = trimmed
        .strip_prefix("https://cognito-idp.")
        .and_then(|rest| rest.split_once('/'))
        && host.ends_with(".amazonaws.com")
        && ids::is_pool_id(pool_id)
    {
        return issuer(pool_id);
    }
    configured.to_string()
}

pub(crate) fn groups_claim(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::local_issuer;

    #[test]
    fn aws_issuers_map_to_local_ones_and_others_stay() {
        let cases = [
            (
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyz",
                "https://cognito-idp.eu-west-1.localhost/eu-west-1_AbC123xyz",
            ),
            (
                "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyz/",
                "https://cognito-idp.us-east-1.localhost/us-east-1_AbC123xyz",
            ),
            ("https://example.com/issuer", "https://example.com/issuer"),
            (
                "https://cognito-idp.us-east-1.localhost/us-east-1_AbC123xyz",
                "https://cognito-idp.us-east-1.localhost/us-east-1_AbC123xyz",
            ),
        ];
        for (configured, expected) in cases {
            assert_eq!(local_issuer(configured), expected, "{configured}");
        }
    }
}
