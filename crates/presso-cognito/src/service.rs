//! [`IdentityProvider`]: opens the store, runs one operation per call in one transaction, and
//! answers the host's questions about keys, tokens and the outbox.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::clock::{Clock, SystemClock};
use crate::cx::{Cx, issuer};
use crate::error::{CognitoError, ErrorType, VerifyError};
use crate::keys::{KeyError, SigningKey};
use crate::outbox::{CodeMessage, CodeSink, LogSink};
use crate::tokens::Claims;
use crate::{admin, auth, ids, store, tokens};

const KEY_META: &str = "signing_key_pkcs1_der";
const VERIFIED_CACHE_MAX: usize = 4096;

/// Where the identity provider keeps its state.
#[derive(Debug, Clone)]
pub enum Storage {
    /// A SQLite file (created if missing), e.g. `<data-dir>/cognito.sqlite`.
    File(PathBuf),
    /// Gone when the process ends (`presso serve --in-memory`, tests).
    InMemory,
}

impl Storage {
    /// `<data_dir>/cognito.sqlite`.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::File(data_dir.join("cognito.sqlite"))
    }
}

/// How the host wires the identity provider in.
#[derive(Clone)]
pub struct Options {
    /// Region for pools created without an explicit id (default `us-east-1`).
    pub region: String,
    pub clock: Arc<dyn Clock>,
    pub code_sink: Arc<dyn CodeSink>,
    /// A key to use when the store holds none yet (tests share one to skip key generation).
    /// A store that already holds a key keeps it.
    pub signing_key: Option<SigningKey>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            clock: Arc::new(SystemClock),
            code_sink: Arc::new(LogSink),
            signing_key: None,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create the data directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the cognito store: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A user pool to exist after start-up, as a template declares it.
#[derive(Debug, Clone, Default)]
pub struct PoolSpec {
    /// The pool id; `None` derives one from the region and the name ([`crate::derive_pool_id`]).
    pub id: Option<String>,
    pub name: String,
    /// Settings in `CreateUserPool`'s request shape: `UsernameAttributes`, `AliasAttributes`,
    /// `AutoVerifiedAttributes`, `Policies.PasswordPolicy`,
    /// `Policies.SignInPolicy.AllowedFirstAuthFactors`, `UserPoolTier`, ... (CloudFormation
    /// names them the same, apart from `UserPoolName`, which goes in `name`).
    pub properties: Value,
}

/// An app client to exist after start-up.
#[derive(Debug, Clone, Default)]
pub struct ClientSpec {
    pub user_pool_id: String,
    /// The client id; `None` derives one from the pool and the name ([`crate::derive_client_id`]).
    pub client_id: Option<String>,
    pub name: String,
    /// Settings in `CreateUserPoolClient`'s request shape: `ExplicitAuthFlows`,
    /// `AccessTokenValidity`, `IdTokenValidity`, `RefreshTokenValidity`, `TokenValidityUnits`,
    /// `AuthSessionValidity`, `PreventUserExistenceErrors`, ...
    pub properties: Value,
}

/// A user to exist after start-up (the first barista, the robot).
#[derive(Debug, Clone, Default)]
pub struct UserSpec {
    pub user_pool_id: String,
    /// The username, or the email in pools that sign in with email.
    pub username: String,
    /// Extra attributes (`given_name`, ...). `email_verified` defaults to `true`.
    pub attributes: Vec<(String, String)>,
    /// A permanent password; without one the user signs in with `EMAIL_OTP` (if the pool
    /// allows it) or must first be given one.
    pub password: Option<String>,
    /// Groups that must already exist.
    pub groups: Vec<String>,
}

/// The identity provider: every pool, client, group and user of one data directory.
pub struct IdentityProvider {
    conn: Mutex<Connection>,
    /// Tokens whose signature already checked out. Every API request and MQTT connect of a
    /// signed-in user presents the same token, and an RSA check costs far more than a lookup;
    /// expiry and the pool are still checked on every call.
    verified: Mutex<HashMap<String, Claims>>,
    key: SigningKey,
    region: String,
    clock: Arc<dyn Clock>,
    sink: Arc<dyn CodeSink>,
}

impl std::fmt::Debug for IdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("region", &self.region)
            .field("kid", &self.key.kid())
            .finish_non_exhaustive()
    }
}

/// The `X-Amz-Target` prefix of this service (JSON 1.1).
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// The content type of requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Every operation [`IdentityProvider::call`] answers.
pub const OPERATIONS: &[&str] = &[
    "AdminAddUserToGroup",
    "AdminConfirmSignUp",
    "AdminCreateUser",
    "AdminDeleteUser",
    "AdminDisableUser",
    "AdminEnableUser",
    "AdminGetUser",
    "AdminInitiateAuth",
    "AdminListGroupsForUser",
    "AdminRemoveUserFromGroup",
    "AdminRespondToAuthChallenge",
    "AdminSetUserPassword",
    "AdminUserGlobalSignOut",
    "ConfirmSignUp",
    "CreateGroup",
    "CreateUserPool",
    "CreateUserPoolClient",
    "DeleteGroup",
    "DescribeUserPool",
    "DescribeUserPoolClient",
    "GetGroup",
    "GetUser",
    "GlobalSignOut",
    "InitiateAuth",
    "ListGroups",
    "ListUserPoolClients",
    "ListUserPools",
    "ListUsers",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "RevokeToken",
    "SignUp",
];

impl IdentityProvider {
    /// Opens (or creates) the store. A new store gets `options.signing_key`, or a freshly
    /// generated key, and keeps it from then on.
    pub fn open(storage: Storage, options: Options) -> Result<Self, OpenError> {
        let (conn, durable) = match &storage {
            Storage::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| OpenError::Dir {
                        path: dir.to_path_buf(),
                        source,
                    })?;
                }
                (Connection::open(path)?, true)
            }
            Storage::InMemory => (Connection::open_in_memory()?, false),
        };
        store::init(&conn, durable)?;
        let key = match store::meta_get(&conn, KEY_META)? {
            Some(der) => SigningKey::from_pkcs1_der(&der)?,
            None => {
                let key = match options.signing_key {
                    Some(k) => k,
                    None => SigningKey::generate()?,
                };
                store::meta_put(&conn, KEY_META, &key.to_pkcs1_der())?;
                key
            }
        };
        Ok(Self {
            conn: Mutex::new(conn),
            verified: Mutex::new(HashMap::new()),
            key,
            region: options.region,
            clock: options.clock,
            sink: options.code_sink,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere cannot leave SQLite half-written (transactions roll back), so a
        // poisoned lock is still safe to use.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn run<T>(
        &self,
        f: impl FnOnce(&mut Cx<'_, '_>) -> Result<T, CognitoError>,
    ) -> Result<T, CognitoError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut cx = Cx {
            tx: &tx,
            now: self.clock.now_millis(),
            key: &self.key,
            region: &self.region,
            outbox: Vec::new(),
        };
        let result = f(&mut cx);
        let outbox = std::mem::take(&mut cx.outbox);
        match &result {
            // Failed attempts are state too (attempt counters, lockouts), so domain errors
            // commit; only an internal failure rolls back.
            Err(e) if e.kind() == ErrorType::InternalErrorException => {
                drop(tx);
                return result;
            }
            _ => tx.commit()?,
        }
        drop(conn);
        for message in &outbox {
            self.sink.deliver(message);
        }
        result
    }

    /// Runs one operation of the `AWSCognitoIdentityProviderService` JSON 1.1 protocol:
    /// `op` is the part of `X-Amz-Target` after the dot, `body` the request JSON. Returns the
    /// response JSON or the error AWS would answer.
    pub fn call(&self, op: &str, body: Value) -> Result<Value, CognitoError> {
        let body = if body.is_null() { json!({}) } else { body };
        if !body.is_object() {
            return Err(CognitoError::new(
                ErrorType::InvalidParameterException,
                "The request body must be a JSON object.",
            ));
        }
        let handler: fn(&mut Cx<'_, '_>, &Value) -> Result<Value, CognitoError> = match op {
            "AdminAddUserToGroup" => admin::admin_add_user_to_group,
            "AdminConfirmSignUp" => auth::admin_confirm_sign_up,
            "AdminCreateUser" => admin::admin_create_user,
            "AdminDeleteUser" => admin::admin_delete_user,
            "AdminDisableUser" => admin::admin_disable_user,
            "AdminEnableUser" => admin::admin_enable_user,
            "AdminGetUser" => admin::admin_get_user,
            "AdminInitiateAuth" => auth::admin_initiate_auth,
            "AdminListGroupsForUser" => admin::admin_list_groups_for_user,
            "AdminRemoveUserFromGroup" => admin::admin_remove_user_from_group,
            "AdminRespondToAuthChallenge" => auth::admin_respond_to_auth_challenge,
            "AdminSetUserPassword" => admin::admin_set_user_password,
            "AdminUserGlobalSignOut" => auth::admin_user_global_sign_out,
            "ConfirmSignUp" => auth::confirm_sign_up,
            "CreateGroup" => admin::create_group,
            "CreateUserPool" => admin::create_user_pool,
            "CreateUserPoolClient" => admin::create_user_pool_client,
            "DeleteGroup" => admin::delete_group,
            "DescribeUserPool" => admin::describe_user_pool,
            "DescribeUserPoolClient" => admin::describe_user_pool_client,
            "GetGroup" => admin::get_group,
            "GetUser" => auth::get_user,
            "GlobalSignOut" => auth::global_sign_out,
            "InitiateAuth" => auth::initiate_auth,
            "ListGroups" => admin::list_groups,
            "ListUserPoolClients" => admin::list_user_pool_clients,
            "ListUserPools" => admin::list_user_pools,
            "ListUsers" => admin::list_users,
            "ResendConfirmationCode" => auth::resend_confirmation_code,
            "RespondToAuthChallenge" => auth::respond_to_auth_challenge,
            "RevokeToken" => auth::revoke_token,
            "SignUp" => auth::sign_up,
            _ => {
                return Err(CognitoError::new(
                    ErrorType::UnknownOperationException,
                    format!("The operation {op} is not supported by this local identity provider."),
                ));
            }
        };
        let result = self.run(|cx| handler(cx, &body));
        if let Err(e) = &result {
            tracing::debug!(
                op,
                error_type = e.type_name(),
                message = e.message(),
                "cognito call failed"
            );
        }
        result
    }

    /// The whole JSON 1.1 exchange for a host: `target` is the `X-Amz-Target` header, `body`
    /// the raw request body. Returns the HTTP status and the JSON to send with
    /// [`CONTENT_TYPE`] (on errors `{"__type", "message"}`; AWS also sets the
    /// `x-amzn-ErrorType` header to the `__type`).
    pub fn handle(&self, target: &str, body: &[u8]) -> (u16, Value) {
        let outcome = match target.strip_prefix(TARGET_PREFIX) {
            None => Err(CognitoError::new(
                ErrorType::UnknownOperationException,
                format!(
                    "{target} is not an operation of {}",
                    TARGET_PREFIX.trim_end_matches('.')
                ),
            )),
            Some(op) => {
                let parsed = if body.iter().all(u8::is_ascii_whitespace) {
                    Ok(json!({}))
                } else {
                    serde_json::from_slice::<Value>(body).map_err(|e| {
                        CognitoError::new(
                            ErrorType::SerializationException,
                            format!("The request body is not JSON: {e}"),
                        )
                    })
                };
                parsed.and_then(|v| self.call(op, v))
            }
        };
        match outcome {
            Ok(v) => (200, v),
            Err(e) => (e.http_status(), e.to_json()),
        }
    }

    // ----- template loading -----

    /// Makes sure the pool exists with these settings; returns its id. Users, groups and
    /// clients of an existing pool are kept.
    pub fn ensure_user_pool(&self, spec: &PoolSpec) -> Result<String, CognitoError> {
        let id = match &spec.id {
            Some(id) if ids::is_pool_id(id) => id.clone(),
            Some(id) => return Err(CognitoError::invalid(format!("{id} is not a user pool id"))),
            None => ids::derive_pool_id(&self.region, &spec.name),
        };
        self.run(|cx| admin::put_pool(cx, id, &spec.name, &spec.properties).map(|p| p.id))
    }

    /// Makes sure the app client exists with these settings; returns its id.
    pub fn ensure_user_pool_client(&self, spec: &ClientSpec) -> Result<String, CognitoError> {
        let id = spec
            .client_id
            .clone()
            .unwrap_or_else(|| ids::derive_client_id(&spec.user_pool_id, &spec.name));
        self.run(|cx| {
            let pool = cx.pool(&spec.user_pool_id)?;
            admin::put_client(cx, &pool, id, &spec.name, &spec.properties).map(|c| c.id)
        })
    }

    /// Makes sure the group exists (description and precedence are updated).
    pub fn ensure_group(
        &self,
        user_pool_id: &str,
        group_name: &str,
        description: Option<&str>,
        precedence: Option<i64>,
    ) -> Result<(), CognitoError> {
        let mut body = json!({});
        if let Some(d) = description {
            body["Description"] = json!(d);
        }
        if let Some(p) = precedence {
            body["Precedence"] = json!(p);
        }
        self.run(|cx| {
            let pool = cx.pool(user_pool_id)?;
            admin::put_group(cx, &pool, group_name, &body, false).map(|_| ())
        })
    }

    /// Makes sure the user exists, confirmed, in the given groups; returns the stored username
    /// (the `sub` in pools that sign in with email). An existing user keeps its password.
    pub fn ensure_user(&self, spec: &UserSpec) -> Result<String, CognitoError> {
        self.run(|cx| {
            let pool = cx.pool(&spec.user_pool_id)?;
            admin::ensure_user(
                cx,
                &pool,
                &spec.username,
                spec.attributes.clone(),
                spec.password.as_deref(),
                &spec.groups,
            )
            .map(|u| u.username)
        })
    }

    // ----- keys and tokens -----

    /// The JWKS document (`{"keys": [...]}`) that verifies every token this provider signs.
    pub fn jwks(&self) -> Value {
        self.key.jwks()
    }

    /// The JWKS of one pool, or `None` if the pool does not exist (the host answers 404).
    /// presso serves it at `/<poolId>/.well-known/jwks.json`.
    pub fn pool_jwks(&self, user_pool_id: &str) -> Result<Option<Value>, CognitoError> {
        Ok(self.pool_exists(user_pool_id)?.then(|| self.key.jwks()))
    }

    pub fn pool_exists(&self, user_pool_id: &str) -> Result<bool, CognitoError> {
        let conn = self.lock();
        let found: Option<i64> = rusqlite::OptionalExtension::optional(conn.query_row(
            "SELECT 1 FROM pools WHERE id = ?1",
            [user_pool_id],
            |r| r.get(0),
        ))?;
        Ok(found.is_some())
    }

    /// The `iss` of a pool's tokens: `https://cognito-idp.<region>.localhost/<poolId>`. It names
    /// no port, so tokens stay valid when presso restarts on another one.
    pub fn issuer(&self, user_pool_id: &str) -> String {
        issuer(user_pool_id)
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Verifies an ID or access token as API Gateway's JWT authorizer would (signature, key,
    /// issuer of an existing pool, expiry on the injected clock). Audience is the caller's to
    /// check against `Claims::client_id`.
    pub fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let now = self.clock.now_millis();
        let cached = self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(token)
            .cloned();
        let claims = match cached {
            Some(claims) if claims.exp.saturating_mul(1000) > now => claims,
            Some(_) => return Err(VerifyError::Expired),
            None => {
                let claims = tokens::verify(&self.key, token, now)?;
                let mut cache = self
                    .verified
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if cache.len() >= VERIFIED_CACHE_MAX {
                    // Crude but bounded: the working set of live tokens refills it quickly.
                    cache.clear();
                }
                cache.insert(token.to_string(), claims.clone());
                claims
            }
        };
        match self.pool_exists(&claims.user_pool_id) {
            Ok(true) => Ok(claims),
            _ => Err(VerifyError::UnknownIssuer(claims.issuer)),
        }
    }

    // ----- dev outbox -----

    /// The newest code sent to `email` (case-insensitive).
    pub fn outbox_latest(&self, email: &str) -> Result<Option<CodeMessage>, CognitoError> {
        store::outbox_latest(&self.lock(), email)
    }

    /// The newest `limit` codes, oldest first.
    pub fn outbox(&self, limit: usize) -> Result<Vec<CodeMessage>, CognitoError> {
        store::outbox_recent(&self.lock(), i64::try_from(limit).unwrap_or(i64::MAX))
    }

    pub fn now_millis(&self) -> i64 {
        self.clock.now_millis()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_provider_can_be_shared_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<IdentityProvider>();
    }

    #[test]
    fn the_host_exchange_answers_json_errors_with_aws_types() {
        let idp = IdentityProvider::open(
            Storage::InMemory,
            Options {
                signing_key: Some(test_key()),
                ..Options::default()
            },
        )
        .unwrap();
        let cases: [(&str, &[u8], u16, &str); 4] = [
            (
                "AWSCognitoIdentityProviderService.ListUserPools",
                b"{\"MaxResults\": 5}",
                200,
                "",
            ),
            (
                "AWSCognitoIdentityProviderService.ListUserPools",
                b"{not json",
                400,
                "SerializationException",
            ),
            (
                "AWSCognitoIdentityProviderService.Nope",
                b"{}",
                400,
                "UnknownOperationException",
            ),
            (
                "DynamoDB_20120810.ListTables",
                b"{}",
                400,
                "UnknownOperationException",
            ),
        ];
        for (target, body, status, error) in cases {
            let (got_status, json) = idp.handle(target, body);
            assert_eq!(got_status, status, "{target}");
            if error.is_empty() {
                assert_eq!(json["UserPools"], json!([]));
            } else {
                assert_eq!(json["__type"], error, "{target}");
            }
        }
    }

    /// Unit tests only need some key; a small one keeps debug builds quick.
    fn test_key() -> SigningKey {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        static KEY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let der = KEY.get_or_init(|| {
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
            key.to_pkcs1_der().unwrap().as_bytes().to_vec()
        });
        SigningKey::from_pkcs1_der(der).unwrap()
    }

    #[test]
    fn every_listed_operation_is_named_once_and_in_order() {
        let mut sorted = OPERATIONS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, OPERATIONS);
    }
}
