//! What every operation works with: one transaction, "now", the signing key, and the codes to
//! deliver once the transaction commits; plus the request-field and settings helpers the
//! operations share.

use rusqlite::Transaction;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::{CognitoError, ErrorType};
use crate::ids;
use crate::keys::SigningKey;
use crate::outbox::{CodeMessage, CodePurpose};
use crate::store::{self, ClientRow, PoolRow, UserRow};

pub(crate) type Result<T> = std::result::Result<T, CognitoError>;

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// The public issuer host. It names no port, so tokens survive a restart on another port.
pub(crate) fn issuer(pool_id: &str) -> String {
    format!(
        "https://cognito-idp.{}.localhost/{pool_id}",
        ids::region_of(pool_id)
    )
}

pub(crate) struct Cx<'t, 'c> {
    pub tx: &'t Transaction<'c>,
    pub now: i64,
    pub key: &'t SigningKey,
    pub region: &'t str,
    pub outbox: Vec<CodeMessage>,
}

impl Cx<'_, '_> {
    pub fn pool(&self, pool_id: &str) -> Result<PoolRow> {
        store::pool_get(self.tx, pool_id)?.ok_or_else(|| CognitoError::pool_not_found(pool_id))
    }

    pub fn client(&self, client_id: &str) -> Result<(ClientRow, PoolRow)> {
        let client = store::client_get(self.tx, client_id)?
            .ok_or_else(|| CognitoError::client_not_found(client_id))?;
        let pool = self.pool(&client.pool_id)?;
        Ok((client, pool))
    }

    /// The client, checked to belong to the pool (admin calls name both).
    pub fn pool_client(&self, pool_id: &str, client_id: &str) -> Result<(ClientRow, PoolRow)> {
        let pool = self.pool(pool_id)?;
        match store::client_get(self.tx, client_id)? {
            Some(c) if c.pool_id == pool.id => Ok((c, pool)),
            _ => Err(CognitoError::client_not_found(client_id)),
        }
    }

    /// Finds a user by what they type to sign in: the username, or the email where the pool
    /// signs in with email, or the `sub`.
    pub fn find_user(&self, pool: &PoolRow, name: &str) -> Result<Option<UserRow>> {
        if let Some(u) = store::user_by_username(self.tx, &pool.id, name)? {
            return Ok(Some(u));
        }
        if PoolSettings::of(pool).email_signs_in()
            && name.contains('@')
            && let Some(u) = store::user_by_email(self.tx, &pool.id, name)?
        {
            return Ok(Some(u));
        }
        store::user_by_sub(self.tx, &pool.id, name)
    }

    pub fn user(&self, pool: &PoolRow, name: &str) -> Result<UserRow> {
        self.find_user(pool, name)?
            .ok_or_else(CognitoError::user_not_found)
    }

    /// Stores a code in the outbox and queues it for the code sink.
    pub fn send_code(
        &mut self,
        pool_id: &str,
        to: &str,
        code: &str,
        purpose: CodePurpose,
    ) -> Result<()> {
        let message = CodeMessage {
            to: to.to_string(),
            code: code.to_string(),
            sent_at: self.now,
            purpose,
            user_pool_id: pool_id.to_string(),
        };
        store::outbox_add(self.tx, &message)?;
        self.outbox.push(message);
        Ok(())
    }
}

// ----- request fields -----

pub(crate) fn req_str<'a>(body: &'a Value, field: &str) -> Result<&'a str> {
    match body.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(CognitoError::invalid(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(field)
        ))),
        Some(_) => Err(CognitoError::invalid(format!("{field} must be a string"))),
    }
}

pub(crate) fn opt_str<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub(crate) fn opt_bool(body: &Value, field: &str) -> Option<bool> {
    body.get(field).and_then(Value::as_bool)
}

pub(crate) fn opt_i64(body: &Value, field: &str) -> Option<i64> {
    body.get(field).and_then(Value::as_i64)
}

/// A string map such as `AuthParameters` or `ChallengeResponses`.
pub(crate) fn str_map(body: &Value, field: &str) -> Map<String, Value> {
    body.get(field)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

pub(crate) fn map_str<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub(crate) fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `[{Name, Value}, ...]` as ordered pairs.
pub(crate) fn attribute_list(body: &Value, field: &str) -> Result<Vec<(String, String)>> {
    let Some(v) = body.get(field) else {
        return Ok(Vec::new());
    };
    let Some(items) = v.as_array() else {
        return Err(CognitoError::invalid(format!("{field} must be a list")));
    };
    items
        .iter()
        .map(|item| {
            let name = item.get("Name").and_then(Value::as_str).ok_or_else(|| {
                CognitoError::invalid(format!("every entry of {field} needs a Name"))
            })?;
            let value = item
                .get("Value")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Ok((name.to_string(), value.to_string()))
        })
        .collect()
}

const STANDARD_ATTRIBUTES: &[&str] = &[
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
];

/// Checks names against Cognito's standard schema (plus `custom:*`).
pub(crate) fn check_attribute_names(attrs: &[(String, String)]) -> Result<()> {
    for (name, _) in attrs {
        let known = STANDARD_ATTRIBUTES.contains(&name.as_str())
            || (name.starts_with("custom:") && name.len() > "custom:".len());
        if !known {
            return Err(CognitoError::invalid(format!(
                "Attributes did not conform to the schema: {name}: Attribute does not exist in the schema."
            )));
        }
    }
    Ok(())
}

pub(crate) fn epoch(ms: i64) -> Value {
    // AWS JSON 1.1 timestamps are seconds since the epoch, as a number.
    #[allow(clippy::cast_precision_loss)]
    let secs = ms as f64 / 1000.0;
    json!(secs)
}

/// `j***@e***`: what AWS shows of the address a code went to.
pub(crate) fn mask_email(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    format!("{}***@{}***", first(local), first(domain))
}

pub(crate) fn code_delivery(email: &str) -> Value {
    json!({
        "Destination": mask_email(email),
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    })
}

/// Offset pagination with an opaque-looking token.
pub(crate) fn paginate<T>(
    items: Vec<T>,
    limit: Option<i64>,
    max: usize,
    token: Option<&str>,
) -> Result<(Vec<T>, Option<String>)> {
    let start = match token {
        Some(t) => t
            .strip_prefix("p")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| CognitoError::invalid("Invalid pagination token"))?,
        None => 0,
    };
    let limit = match limit {
        Some(n) if n < 1 => {
            return Err(CognitoError::invalid(
                "1 validation error detected: limit must be greater than or equal to 1",
            ));
        }
        Some(n) => usize::try_from(n).unwrap_or(max).min(max),
        None => max,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = (start + page.len() < total).then(|| format!("p{}", start + page.len()));
    Ok((page, next))
}

// ----- pool and client settings -----

#[derive(Debug, Clone)]
pub(crate) struct PasswordPolicy {
    pub min_length: usize,
    pub upper: bool,
    pub lower: bool,
    pub numbers: bool,
    pub symbols: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct PoolSettings {
    pub username_attributes: Vec<String>,
    pub alias_attributes: Vec<String>,
    pub auto_verified: Vec<String>,
    pub password: PasswordPolicy,
    pub first_factors: Vec<String>,
}

impl PoolSettings {
    pub fn of(pool: &PoolRow) -> Self {
        let c = Value::Object(pool.config.clone());
        let policy = c.pointer("/Policies/PasswordPolicy");
        let flag = |name: &str| {
            policy
                .and_then(|p| p.get(name))
                .and_then(Value::as_bool)
                .unwrap_or(true)
        };
        let first_factors =
            string_list(c.pointer("/Policies/SignInPolicy/AllowedFirstAuthFactors"));
        Self {
            username_attributes: string_list(c.get("UsernameAttributes")),
            alias_attributes: string_list(c.get("AliasAttributes")),
            auto_verified: string_list(c.get("AutoVerifiedAttributes")),
            password: PasswordPolicy {
                min_length: policy
                    .and_then(|p| p.get("MinimumLength"))
                    .and_then(Value::as_u64)
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(8),
                upper: flag("RequireUppercase"),
                lower: flag("RequireLowercase"),
                numbers: flag("RequireNumbers"),
                symbols: flag("RequireSymbols"),
            },
            first_factors: if first_factors.is_empty() {
                vec!["PASSWORD".to_string()]
            } else {
                first_factors
            },
        }
    }

    pub fn email_is_username(&self) -> bool {
        self.username_attributes.iter().any(|a| a == "email")
    }

    pub fn email_signs_in(&self) -> bool {
        self.email_is_username() || self.alias_attributes.iter().any(|a| a == "email")
    }

    pub fn auto_verifies_email(&self) -> bool {
        self.auto_verified.iter().any(|a| a == "email") || self.email_is_username()
    }

    pub fn allows_factor(&self, factor: &str) -> bool {
        self.first_factors.iter().any(|f| f == factor)
    }

    pub fn check_password(&self, password: &str) -> Result<()> {
        let p = &self.password;
        let fail = |why: &str| {
            Err(CognitoError::new(
                ErrorType::InvalidPasswordException,
                format!("Password did not conform with policy: {why}"),
            ))
        };
        if password.chars().count() < p.min_length {
            return fail("Password not long enough");
        }
        if p.upper && !password.chars().any(char::is_uppercase) {
            return fail("Password must have uppercase characters");
        }
        if p.lower && !password.chars().any(char::is_lowercase) {
            return fail("Password must have lowercase characters");
        }
        if p.numbers && !password.chars().any(|c| c.is_ascii_digit()) {
            return fail("Password must have numeric characters");
        }
        if p.symbols
            && !password
                .chars()
                .any(|c| c.is_ascii_punctuation() || c == ' ')
        {
            return fail("Password must have symbol characters");
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ClientSettings {
    pub explicit_auth_flows: Vec<String>,
    pub id_token_ms: i64,
    pub access_token_ms: i64,
    pub refresh_token_ms: i64,
    pub auth_session_ms: i64,
    pub prevent_user_existence_errors: bool,
}

fn unit_ms(unit: Option<&str>, default: i64) -> i64 {
    match unit {
        Some("seconds") => 1000,
        Some("minutes") => MINUTE_MS,
        Some("hours") => HOUR_MS,
        Some("days") => DAY_MS,
        _ => default,
    }
}

impl ClientSettings {
    pub fn of(client: &ClientRow) -> Self {
        let c = Value::Object(client.config.clone());
        let units = c.get("TokenValidityUnits");
        let unit = |name: &str| units.and_then(|u| u.get(name)).and_then(Value::as_str);
        let validity = |field: &str, unit_name: &str, default_unit: i64, default: i64| {
            c.get(field)
                .and_then(Value::as_i64)
                .filter(|n| *n > 0)
                .map_or(default, |n| {
                    n.saturating_mul(unit_ms(unit(unit_name), default_unit))
                })
        };
        let mut flows = string_list(c.get("ExplicitAuthFlows"));
        if flows.is_empty() {
            // AWS's defaults when a client names no flows.
            flows = [
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_CUSTOM_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ]
            .map(String::from)
            .to_vec();
        }
        Self {
            explicit_auth_flows: flows,
            id_token_ms: validity("IdTokenValidity", "IdToken", HOUR_MS, HOUR_MS),
            access_token_ms: validity("AccessTokenValidity", "AccessToken", HOUR_MS, HOUR_MS),
            refresh_token_ms: validity("RefreshTokenValidity", "RefreshToken", DAY_MS, 30 * DAY_MS),
            auth_session_ms: c
                .get("AuthSessionValidity")
                .and_then(Value::as_i64)
                .filter(|n| (3..=15).contains(n))
                .map_or(3 * MINUTE_MS, |n| n * MINUTE_MS),
            prevent_user_existence_errors: c
                .get("PreventUserExistenceErrors")
                .and_then(Value::as_str)
                == Some("ENABLED"),
        }
    }

    /// Whether the client's `ExplicitAuthFlows` allow `flow` (legacy names included).
    pub fn allows(&self, flow: &str) -> bool {
        let wanted: &[&str] = match flow {
            "USER_AUTH" => &["ALLOW_USER_AUTH"],
            "USER_PASSWORD_AUTH" => &["ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"],
            "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
                &["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"]
            }
            // Refresh is always on at AWS for clients made today.
            "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => return true,
            _ => return false,
        };
        self.explicit_auth_flows
            .iter()
            .any(|f| wanted.contains(&f.as_str()))
    }
}

// ----- passwords -----

const HASH_ROUNDS: usize = 2048;

/// Salted, iterated SHA-256. Local accounts are test fixtures, but a copied data directory
/// should still not hand out passwords in clear text.
pub(crate) fn hash_password(password: &str) -> String {
    let salt = ids::opaque(12);
    format!("{salt}${}", digest_password(&salt, password))
}

fn digest_password(salt: &str, password: &str) -> String {
    let mut h = Sha256::digest(format!("{salt}\0{password}").as_bytes());
    for _ in 0..HASH_ROUNDS {
        let mut next = Sha256::new();
        next.update(h);
        next.update(salt.as_bytes());
        h = next.finalize();
    }
    hex_lower(&h)
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn password_matches(stored: &str, password: &str) -> bool {
    match stored.split_once('$') {
        Some((salt, digest)) => {
            let computed = digest_password(salt, password);
            // Compare without an early exit, so timing says nothing about the prefix.
            computed.len() == digest.len()
                && computed
                    .bytes()
                    .zip(digest.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        }
        None => false,
    }
}

/// A temporary password that satisfies any policy AWS allows.
pub(crate) fn temporary_password() -> String {
    format!("Tmp-{}9a!", ids::opaque(9))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hashes_verify_only_the_original_password() {
        let stored = hash_password("Correct-horse1");
        assert!(password_matches(&stored, "Correct-horse1"));
        assert!(!password_matches(&stored, "correct-horse1"));
        assert!(!password_matches("garbage", "Correct-horse1"));
    }

    #[test]
    fn emails_are_masked_as_aws_masks_them() {
        assert_eq!(mask_email("jane@example.com"), "j***@e***");
    }

    #[test]
    fn pagination_walks_every_item_once() {
        let (first, next) = paginate((0..5).collect(), Some(2), 60, None).unwrap();
        assert_eq!(first, vec![0, 1]);
        let (second, next) = paginate((0..5).collect(), Some(2), 60, next.as_deref()).unwrap();
        assert_eq!(second, vec![2, 3]);
        let (third, next) = paginate((0..5).collect(), Some(2), 60, next.as_deref()).unwrap();
        assert_eq!(third, vec![4]);
        assert!(next.is_none());
        assert!(paginate::<i32>(vec![], None, 60, Some("bogus")).is_err());
    }
}
