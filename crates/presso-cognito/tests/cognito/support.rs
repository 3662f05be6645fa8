//! Shared set-up: one RSA key per test binary, a pool like the app's, and call helpers.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use presso_cognito::{
    ClientSpec, CognitoError, IdentityProvider, ManualClock, Options, PoolSpec, SigningKey, Storage,
};
use serde_json::{Value, json};

pub const EMAIL: &str = "ada@example.com";

/// Generating a key is slow in debug builds, and nextest runs each test in its own process:
/// the first test generates a key and leaves it in the target's scratch directory for the rest.
pub fn shared_key() -> SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let path =
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("presso-cognito-test-key.der");
        if let Some(key) = std::fs::read(&path)
            .ok()
            .and_then(|der| SigningKey::from_pkcs1_der(&der).ok())
        {
            return key;
        }
        let key = SigningKey::generate().expect("key generation");
        // Write then rename, so a concurrent test never reads half a key.
        let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
        if std::fs::write(&tmp, key.to_pkcs1_der()).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
        key
    })
    .clone()
}

pub struct Env {
    pub idp: IdentityProvider,
    pub clock: ManualClock,
    pub pool_id: String,
    pub client_id: String,
}

pub fn options(clock: &ManualClock) -> Options {
    Options {
        clock: Arc::new(clock.clone()),
        signing_key: Some(shared_key()),
        ..Options::default()
    }
}

/// The app's pool: email is the username, passwordless `EMAIL_OTP` or a password, group
/// `admin`, and a public client allowing the flows the apps, robot and tests use.
pub fn provision(idp: &IdentityProvider) -> (String, String) {
    let pool_id = idp
        .ensure_user_pool(&PoolSpec {
            id: None,
            name: "ServerlesspressoUserPool".into(),
            properties: json!({
                "UsernameAttributes": ["email"],
                "AutoVerifiedAttributes": ["email"],
                "UserPoolTier": "ESSENTIALS",
                "Policies": {
                    "PasswordPolicy": { "MinimumLength": 8 },
                    "SignInPolicy": { "AllowedFirstAuthFactors": ["EMAIL_OTP", "PASSWORD"] }
                }
            }),
        })
        .expect("pool");
    let client_id = idp
        .ensure_user_pool_client(&ClientSpec {
            user_pool_id: pool_id.clone(),
            client_id: None,
            name: "web".into(),
            properties: json!({
                "ExplicitAuthFlows": [
                    "ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH",
                    "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"
                ]
            }),
        })
        .expect("client");
    idp.ensure_group(&pool_id, "admin", Some("Baristas"), None)
        .expect("group");
    (pool_id, client_id)
}

pub fn env() -> Env {
    let clock = ManualClock::starting_now();
    let idp = IdentityProvider::open(Storage::InMemory, options(&clock)).expect("open");
    let (pool_id, client_id) = provision(&idp);
    Env {
        idp,
        clock,
        pool_id,
        client_id,
    }
}

impl Env {
    pub fn call(&self, op: &str, body: Value) -> Value {
        match self.idp.call(op, body) {
            Ok(v) => v,
            Err(e) => panic!("{op} failed: {e}"),
        }
    }

    pub fn fail(&self, op: &str, body: Value) -> CognitoError {
        match self.idp.call(op, body) {
            Ok(v) => panic!("{op} unexpectedly succeeded: {v}"),
            Err(e) => e,
        }
    }

    pub fn latest_code(&self, email: &str) -> String {
        self.idp
            .outbox_latest(email)
            .expect("outbox")
            .expect("a code was sent")
            .code
    }

    pub fn sign_up(&self, email: &str) -> Value {
        self.call(
            "SignUp",
            json!({
                "ClientId": self.client_id,
                "Username": email,
                "UserAttributes": [
                    { "Name": "email", "Value": email },
                    { "Name": "given_name", "Value": "Ada" }
                ]
            }),
        )
    }

    /// Signs up and confirms; returns the session ConfirmSignUp hands out.
    pub fn signed_up(&self, email: &str) -> String {
        self.sign_up(email);
        let code = self.latest_code(email);
        let confirmed = self.call(
            "ConfirmSignUp",
            json!({ "ClientId": self.client_id, "Username": email, "ConfirmationCode": code }),
        );
        confirmed["Session"].as_str().expect("session").to_string()
    }

    /// Starts `USER_AUTH` with `EMAIL_OTP`; returns the challenge session.
    pub fn start_otp(&self, email: &str) -> String {
        let r = self.call(
            "InitiateAuth",
            json!({
                "AuthFlow": "USER_AUTH",
                "ClientId": self.client_id,
                "AuthParameters": { "USERNAME": email, "PREFERRED_CHALLENGE": "EMAIL_OTP" }
            }),
        );
        assert_eq!(r["ChallengeName"], "EMAIL_OTP");
        r["Session"].as_str().expect("session").to_string()
    }

    pub fn answer_otp(
        &self,
        email: &str,
        session: &str,
        code: &str,
    ) -> Result<Value, CognitoError> {
        self.idp.call(
            "RespondToAuthChallenge",
            json!({
                "ClientId": self.client_id,
                "ChallengeName": "EMAIL_OTP",
                "Session": session,
                "ChallengeResponses": { "USERNAME": email, "EMAIL_OTP_CODE": code }
            }),
        )
    }

    /// A signed-in user's `AuthenticationResult`, through the OTP flow.
    pub fn sign_in(&self, email: &str) -> Value {
        let session = self.start_otp(email);
        let code = self.latest_code(email);
        self.answer_otp(email, &session, &code)
            .expect("otp accepted")["AuthenticationResult"]
            .clone()
    }

    pub fn robot(&self, email: &str, password: &str) {
        self.call(
            "AdminCreateUser",
            json!({
                "UserPoolId": self.pool_id,
                "Username": email,
                "MessageAction": "SUPPRESS",
                "UserAttributes": [{ "Name": "email", "Value": email }, { "Name": "email_verified", "Value": "true" }]
            }),
        );
        self.call(
            "AdminSetUserPassword",
            json!({ "UserPoolId": self.pool_id, "Username": email, "Password": password, "Permanent": true }),
        );
    }

    pub fn admin_password_auth(&self, email: &str, password: &str) -> Result<Value, CognitoError> {
        self.idp.call(
            "AdminInitiateAuth",
            json!({
                "UserPoolId": self.pool_id,
                "ClientId": self.client_id,
                "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                "AuthParameters": { "USERNAME": email, "PASSWORD": password }
            }),
        )
    }
}

pub fn type_of(e: &CognitoError) -> &'static str {
    e.type_name()
}

/// Decodes a JWT payload without checking anything (for asserting on claims).
pub fn payload(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .expect("a JWT")
        .claims
}
