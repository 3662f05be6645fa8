//! Sign-up and sign-in: `SignUp`, `ConfirmSignUp`, `ResendConfirmationCode`, `InitiateAuth`,
//! `AdminInitiateAuth`, `RespondToAuthChallenge`, `AdminRespondToAuthChallenge`, `GetUser`,
//! `RevokeToken`, `GlobalSignOut`, `AdminUserGlobalSignOut`. Signing out or revoking a refresh
//! token also ends the access tokens of that sign-in for the Cognito API (`GetUser`), as at AWS;
//! JWT verification by other services stays stateless, as it is at AWS.
//!
//! Limits, as AWS documents them: a sign-up code lives 24 hours and allows 5 wrong tries, then
//! `LimitExceededException` for 15 minutes; an `EMAIL_OTP` session lives the client's
//! `AuthSessionValidity` (3 minutes by default) and allows 3 wrong codes; 5 failed sign-ins in a
//! row lock the user out for 2^(n-5) seconds (at most 15 minutes) with `NotAuthorizedException:
//! Password attempts exceeded`. Codes and sessions are single-use.

use serde_json::{Map, Value, json};

use crate::cx::{
    ClientSettings, Cx, DAY_MS, MINUTE_MS, PoolSettings, Result, attribute_list,
    check_attribute_names, code_delivery, hash_password, map_str, opt_str, password_matches,
    req_str, str_map,
};
use crate::error::{CognitoError, ErrorType};
use crate::ids;
use crate::outbox::CodePurpose;
use crate::store::{self, ClientRow, PoolRow, SessionRow, SignupCode, UserRow};
use crate::tokens::{self, AuthEvent, TokenUse};

const SIGNUP_CODE_DIGITS: usize = 6;
/// Cognito's sign-in codes for `EMAIL_OTP` are 8 digits.
const OTP_DIGITS: usize = 8;
const SIGNUP_CODE_TTL_MS: i64 = DAY_MS;
const SIGNUP_CODE_MAX_WRONG: i64 = 5;
const SIGNUP_CODE_LOCK_MS: i64 = 15 * MINUTE_MS;
const OTP_MAX_WRONG: i64 = 3;
const LOCKOUT_AFTER: i64 = 5;
const LOCKOUT_MAX_MS: i64 = 15 * MINUTE_MS;
const LOCKOUT_FORGET_MS: i64 = 15 * MINUTE_MS;

const KIND_CONFIRMED: &str = "SIGN_UP_CONFIRMED";
const KIND_SELECT: &str = "SELECT_CHALLENGE";
const KIND_OTP: &str = "EMAIL_OTP";
const KIND_NEW_PASSWORD: &str = "NEW_PASSWORD_REQUIRED";

fn incorrect() -> CognitoError {
    CognitoError::not_authorized("Incorrect username or password.")
}

fn invalid_session() -> CognitoError {
    CognitoError::not_authorized("Invalid session for the user.")
}

// ----- sign-up -----

pub(crate) fn sign_up(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let (_client, pool) = cx.client(req_str(body, "ClientId")?)?;
    let given = req_str(body, "Username")?;
    let password = opt_str(body, "Password");
    let mut attrs = attribute_list(body, "UserAttributes")?;
    check_attribute_names(&attrs)?;
    let settings = PoolSettings::of(&pool);

    let username = if settings.email_is_username() {
        if !given.contains('@') {
            return Err(CognitoError::invalid("Username should be an email."));
        }
        attrs.retain(|(n, _)| n != "email");
        attrs.insert(0, ("email".into(), given.to_string()));
        None
    } else {
        Some(given.to_string())
    };
    let email = attrs
        .iter()
        .find(|(n, _)| n == "email")
        .map(|(_, v)| v.clone());

    if let Some(name) = &username {
        if cx.find_user(&pool, name)?.is_some() {
            return Err(CognitoError::new(
                ErrorType::UsernameExistsException,
                "User already exists",
            ));
        }
    } else if let Some(e) = &email
        && store::user_by_email(cx.tx, &pool.id, e)?.is_some()
    {
        return Err(CognitoError::new(
            ErrorType::UsernameExistsException,
            "An account with the given email already exists.",
        ));
    }
    match password {
        Some(p) => settings.check_password(p)?,
        None if !settings.allows_factor("EMAIL_OTP") => {
            return Err(CognitoError::invalid(
                "A password is required: this user pool allows no passwordless sign-in.",
            ));
        }
        None => {}
    }

    let sub = ids::uuid();
    let username = username.unwrap_or_else(|| sub.clone());
    let mut attributes = Map::new();
    attributes.insert("sub".into(), json!(sub));
    for (n, v) in attrs {
        if n != "email_verified" && n != "phone_number_verified" {
            attributes.insert(n, json!(v));
        }
    }
    let user = UserRow {
        pool_id: pool.id.clone(),
        username: username.clone(),
        sub: sub.clone(),
        email: email.clone(),
        status: "UNCONFIRMED".into(),
        enabled: true,
        password: password.map(hash_password),
        attributes,
        created: cx.now,
        modified: cx.now,
        failures: 0,
        last_failure: 0,
        locked_until: 0,
    };
    store::user_put(cx.tx, &user)?;

    let mut out = Map::new();
    out.insert("UserConfirmed".into(), json!(false));
    out.insert("UserSub".into(), json!(sub));
    if let Some(e) = &email {
        issue_signup_code(cx, &pool.id, &username, e, 0)?;
        out.insert("CodeDeliveryDetails".into(), code_delivery(e));
    }
    // ConfirmSignUp hands out the session that signs in; this one only mirrors AWS's shape.
    out.insert("Session".into(), json!(ids::opaque(96)));
    Ok(Value::Object(out))
}

fn issue_signup_code(
    cx: &mut Cx<'_, '_>,
    pool_id: &str,
    username: &str,
    email: &str,
    locked_until: i64,
) -> Result<()> {
    let code = ids::numeric_code(SIGNUP_CODE_DIGITS);
    store::signup_code_put(
        cx.tx,
        pool_id,
        username,
        &SignupCode {
            code: code.clone(),
            expires: cx.now + SIGNUP_CODE_TTL_MS,
            attempts: 0,
            locked_until,
        },
    )?;
    cx.send_code(pool_id, email, &code, CodePurpose::SignUp)
}

fn confirm_lookup_error() -> CognitoError {
    CognitoError::new(
        ErrorType::UserNotFoundException,
        "Username/client id combination not found.",
    )
}

fn attempt_limit() -> CognitoError {
    CognitoError::new(
        ErrorType::LimitExceededException,
        "Attempt limit exceeded, please try after some time.",
    )
}

pub(crate) fn confirm_sign_up(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let (client, pool) = cx.client(req_str(body, "ClientId")?)?;
    let name = req_str(body, "Username")?;
    let given = req_str(body, "ConfirmationCode")?;
    let mut user = cx
        .find_user(&pool, name)?
        .ok_or_else(confirm_lookup_error)?;
    if user.status != "UNCONFIRMED" {
        return Err(CognitoError::not_authorized(format!(
            "User cannot be confirmed. Current status is {}",
            user.status
        )));
    }
    let Some(mut code) = store::signup_code_get(cx.tx, &pool.id, &user.username)? else {
        return Err(CognitoError::new(
            ErrorType::ExpiredCodeException,
            "Invalid code provided, please request a code again.",
        ));
    };
    if code.locked_until > cx.now {
        return Err(attempt_limit());
    }
    if code.expires <= cx.now {
        return Err(CognitoError::new(
            ErrorType::ExpiredCodeException,
            "Invalid code provided, please request a code again.",
        ));
    }
    if code.code != given {
        code.attempts += 1;
        if code.attempts >= SIGNUP_CODE_MAX_WRONG {
            // The code is spent: after the lock the user asks for a new one.
            code.locked_until = cx.now + SIGNUP_CODE_LOCK_MS;
            code.expires = cx.now;
        }
        store::signup_code_put(cx.tx, &pool.id, &user.username, &code)?;
        return Err(CognitoError::new(
            ErrorType::CodeMismatchException,
            "Invalid verification code provided, please try again.",
        ));
    }
    store::signup_code_delete(cx.tx, &pool.id, &user.username)?;
    user.status = "CONFIRMED".into();
    if user.email.is_some() && PoolSettings::of(&pool).auto_verifies_email() {
        user.attributes
            .insert("email_verified".into(), json!("true"));
    }
    user.modified = cx.now;
    store::user_put(cx.tx, &user)?;

    let session = new_session(cx, &client, &user, KIND_CONFIRMED, None)?;
    Ok(json!({ "Session": session }))
}

pub(crate) fn resend_confirmation_code(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let (_client, pool) = cx.client(req_str(body, "ClientId")?)?;
    let user = cx
        .find_user(&pool, req_str(body, "Username")?)?
        .ok_or_else(confirm_lookup_error)?;
    if user.status != "UNCONFIRMED" {
        return Err(CognitoError::invalid("User is already confirmed."));
    }
    let Some(email) = user.email.clone() else {
        return Err(CognitoError::invalid(
            "Cannot resend codes. Auto verification not turned on.",
        ));
    };
    let locked_until =
        store::signup_code_get(cx.tx, &pool.id, &user.username)?.map_or(0, |c| c.locked_until);
    if locked_until > cx.now {
        return Err(attempt_limit());
    }
    issue_signup_code(cx, &pool.id, &user.username, &email, 0)?;
    Ok(json!({ "CodeDeliveryDetails": code_delivery(&email) }))
}

pub(crate) fn admin_confirm_sign_up(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let mut user = cx.user(&pool, req_str(body, "Username")?)?;
    if user.status != "UNCONFIRMED" {
        return Err(CognitoError::not_authorized(format!(
            "User cannot be confirmed. Current status is {}",
            user.status
        )));
    }
    store::signup_code_delete(cx.tx, &pool.id, &user.username)?;
    user.status = "CONFIRMED".into();
    user.modified = cx.now;
    store::user_put(cx.tx, &user)?;
    Ok(json!({}))
}

// ----- sessions -----

fn new_session(
    cx: &mut Cx<'_, '_>,
    client: &ClientRow,
    user: &UserRow,
    kind: &str,
    code: Option<String>,
) -> Result<String> {
    let settings = ClientSettings::of(client);
    // Expired sessions are useless; dropping them here keeps the table small.
    store::session_sweep(cx.tx, cx.now - DAY_MS)?;
    let id = ids::opaque(96);
    store::session_put(
        cx.tx,
        &SessionRow {
            id: id.clone(),
            pool_id: client.pool_id.clone(),
            client_id: client.id.clone(),
            username: user.username.clone(),
            kind: kind.to_string(),
            code,
            expires: cx.now + settings.auth_session_ms,
            attempts: 0,
        },
    )?;
    Ok(id)
}

/// The live session of this client, or `NotAuthorizedException` as AWS answers.
fn take_session(cx: &Cx<'_, '_>, client: &ClientRow, id: &str) -> Result<SessionRow> {
    let session = store::session_get(cx.tx, id)?.ok_or_else(invalid_session)?;
    if session.client_id != client.id {
        return Err(invalid_session());
    }
    if session.expires <= cx.now {
        return Err(CognitoError::not_authorized(
            "Invalid session for the user, session is expired.",
        ));
    }
    Ok(session)
}

// ----- lockout -----

fn check_lockout(cx: &Cx<'_, '_>, user: &UserRow) -> Result<()> {
    if user.locked_until > cx.now {
        return Err(CognitoError::not_authorized("Password attempts exceeded"));
    }
    Ok(())
}

fn record_failure(cx: &Cx<'_, '_>, user: &mut UserRow) -> Result<()> {
    if cx.now - user.last_failure > LOCKOUT_FORGET_MS {
        user.failures = 0;
    }
    user.failures += 1;
    user.last_failure = cx.now;
    if user.failures >= LOCKOUT_AFTER {
        let exponent = u32::try_from(user.failures - LOCKOUT_AFTER)
            .unwrap_or(u32::MAX)
            .min(20);
        user.locked_until = cx.now + (1000_i64 << exponent).min(LOCKOUT_MAX_MS);
    }
    store::user_put(cx.tx, user)
}

fn record_success(cx: &Cx<'_, '_>, user: &mut UserRow) -> Result<()> {
    if user.failures != 0 || user.locked_until != 0 {
        user.failures = 0;
        user.locked_until = 0;
        store::user_put(cx.tx, user)?;
    }
    Ok(())
}

// ----- sign-in -----

struct Caller<'a> {
    client: ClientRow,
    pool: PoolRow,
    admin: bool,
    flow: &'a str,
}

pub(crate) fn initiate_auth(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let (client, pool) = cx.client(req_str(body, "ClientId")?)?;
    let flow = req_str(body, "AuthFlow")?;
    run_flow(
        cx,
        Caller {
            client,
            pool,
            admin: false,
            flow,
        },
        body,
    )
}

pub(crate) fn admin_initiate_auth(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let (client, pool) =
        cx.pool_client(req_str(body, "UserPoolId")?, req_str(body, "ClientId")?)?;
    let flow = req_str(body, "AuthFlow")?;
    run_flow(
        cx,
        Caller {
            client,
            pool,
            admin: true,
            flow,
        },
        body,
    )
}

fn run_flow(cx: &mut Cx<'_, '_>, caller: Caller<'_>, body: &Value) -> Result<Value> {
    let params = str_map(body, "AuthParameters");
    let settings = ClientSettings::of(&caller.client);
    let flow = caller.flow;
    let known_here = match flow {
        "USER_AUTH" | "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => true,
        "USER_PASSWORD_AUTH" => !caller.admin,
        "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => caller.admin,
        "USER_SRP_AUTH" | "CUSTOM_AUTH" => {
            return Err(CognitoError::invalid(format!(
                "{flow} is not supported by this local identity provider; use USER_AUTH, \
                 USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH."
            )));
        }
        _ => false,
    };
    if !known_here {
        return Err(CognitoError::invalid(format!(
            "1 validation error detected: Value '{flow}' at 'authFlow' failed to satisfy constraint: \
             Member must satisfy enum value set"
        )));
    }
    if !settings.allows(flow) {
        return Err(CognitoError::invalid(format!(
            "{flow} flow not enabled for this client"
        )));
    }
    match flow {
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => refresh(cx, &caller, &params),
        "USER_AUTH" => user_auth(cx, &caller, &settings, &params, opt_str(body, "Session")),
        _ => {
            let name = map_str(&params, "USERNAME")
                .ok_or_else(|| CognitoError::invalid("Missing required parameter USERNAME"))?;
            let password = map_str(&params, "PASSWORD")
                .ok_or_else(|| CognitoError::invalid("Missing required parameter PASSWORD"))?;
            let user = signin_user(cx, &caller, &settings, name)?;
            password_sign_in(cx, &caller, user, password)
        }
    }
}

/// The user who is signing in, with AWS's answers for unknown and disabled users.
fn signin_user(
    cx: &Cx<'_, '_>,
    caller: &Caller<'_>,
    settings: &ClientSettings,
    name: &str,
) -> Result<UserRow> {
    let Some(user) = cx.find_user(&caller.pool, name)? else {
        return Err(if settings.prevent_user_existence_errors {
            incorrect()
        } else {
            CognitoError::user_not_found()
        });
    };
    if !user.enabled {
        return Err(CognitoError::not_authorized("User is disabled."));
    }
    check_lockout(cx, &user)?;
    Ok(user)
}

fn password_sign_in(
    cx: &mut Cx<'_, '_>,
    caller: &Caller<'_>,
    mut user: UserRow,
    password: &str,
) -> Result<Value> {
    let ok = user
        .password
        .as_deref()
        .is_some_and(|stored| password_matches(stored, password));
    if !ok {
        record_failure(cx, &mut user)?;
        return Err(incorrect());
    }
    record_success(cx, &mut user)?;
    match user.status.as_str() {
        "UNCONFIRMED" => Err(CognitoError::new(
            ErrorType::UserNotConfirmedException,
            "User is not confirmed.",
        )),
        "RESET_REQUIRED" => Err(CognitoError::new(
            ErrorType::PasswordResetRequiredException,
            "Password reset required for the user",
        )),
        "FORCE_CHANGE_PASSWORD" => {
            let session = new_session(cx, &caller.client, &user, KIND_NEW_PASSWORD, None)?;
            let visible: Map<String, Value> = user
                .attributes
                .iter()
                .filter(|(k, _)| k.as_str() != "sub" && !k.ends_with("_verified"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(json!({
                "ChallengeName": "NEW_PASSWORD_REQUIRED",
                "Session": session,
                "ChallengeParameters": {
                    "USER_ID_FOR_SRP": user.username,
                    "requiredAttributes": "[]",
                    "userAttributes": Value::Object(visible).to_string(),
                },
            }))
        }
        _ => signed_in(cx, caller, &user),
    }
}

fn signed_in(cx: &mut Cx<'_, '_>, caller: &Caller<'_>, user: &UserRow) -> Result<Value> {
    let event = AuthEvent::fresh(cx.now);
    let result = tokens::issue(cx, &caller.pool, &caller.client, user, &event, true)?;
    Ok(json!({ "ChallengeParameters": {}, "AuthenticationResult": result }))
}

/// The first factors this user can answer, in the pool's order.
fn available_challenges(pool: &PoolRow, user: &UserRow) -> Vec<&'static str> {
    let settings = PoolSettings::of(pool);
    let mut out = Vec::new();
    for factor in &settings.first_factors {
        match factor.as_str() {
            "EMAIL_OTP" if user.email.is_some() => out.push("EMAIL_OTP"),
            "PASSWORD" if user.password.is_some() => {
                out.push("PASSWORD");
                out.push("PASSWORD_SRP");
            }
            _ => {}
        }
    }
    out
}

fn user_auth(
    cx: &mut Cx<'_, '_>,
    caller: &Caller<'_>,
    settings: &ClientSettings,
    params: &Map<String, Value>,
    session: Option<&str>,
) -> Result<Value> {
    let name = map_str(params, "USERNAME")
        .ok_or_else(|| CognitoError::invalid("Missing required parameter USERNAME"))?;
    let user = signin_user(cx, caller, settings, name)?;

    if let Some(id) = session {
        // The session from ConfirmSignUp: the confirmation code was the first factor.
        let s = take_session(cx, &caller.client, id)?;
        if s.kind != KIND_CONFIRMED || s.username != user.username {
            return Err(invalid_session());
        }
        store::session_delete(cx.tx, id)?;
        return signed_in(cx, caller, &user);
    }
    if user.status == "UNCONFIRMED" {
        return Err(CognitoError::new(
            ErrorType::UserNotConfirmedException,
            "User is not confirmed.",
        ));
    }
    let available = available_challenges(&caller.pool, &user);
    match map_str(params, "PREFERRED_CHALLENGE") {
        Some("EMAIL_OTP") if available.contains(&"EMAIL_OTP") => start_email_otp(cx, caller, &user),
        Some("PASSWORD")
            if available.contains(&"PASSWORD") && map_str(params, "PASSWORD").is_some() =>
        {
            let password = map_str(params, "PASSWORD").unwrap_or_default().to_string();
            password_sign_in(cx, caller, user, &password)
        }
        _ => {
            if available.is_empty() {
                return Err(CognitoError::not_authorized(
                    "This user has no sign-in method the user pool allows.",
                ));
            }
            let session = new_session(cx, &caller.client, &user, KIND_SELECT, None)?;
            Ok(json!({
                "ChallengeName": "SELECT_CHALLENGE",
                "Session": session,
                "ChallengeParameters": {},
                "AvailableChallenges": available,
            }))
        }
    }
}

fn start_email_otp(cx: &mut Cx<'_, '_>, caller: &Caller<'_>, user: &UserRow) -> Result<Value> {
    let Some(email) = user.email.clone() else {
        return Err(CognitoError::invalid(
            "The user has no email address for EMAIL_OTP.",
        ));
    };
    let code = ids::numeric_code(OTP_DIGITS);
    let session = new_session(cx, &caller.client, user, KIND_OTP, Some(code.clone()))?;
    cx.send_code(&caller.pool.id, &email, &code, CodePurpose::EmailOtp)?;
    Ok(json!({
        "ChallengeName": "EMAIL_OTP",
        "Session": session,
        "ChallengeParameters": {
            "CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
            "CODE_DELIVERY_DESTINATION": crate::cx::mask_email(&email),
        },
    }))
}

pub(crate) fn respond_to_auth_challenge(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let (client, pool) = cx.client(req_str(body, "ClientId")?)?;
    respond(
        cx,
        Caller {
            client,
            pool,
            admin: false,
            flow: "",
        },
        body,
    )
}

pub(crate) fn admin_respond_to_auth_challenge(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let (client, pool) =
        cx.pool_client(req_str(body, "UserPoolId")?, req_str(body, "ClientId")?)?;
    respond(
        cx,
        Caller {
            client,
            pool,
            admin: true,
            flow: "",
        },
        body,
    )
}

fn respond(cx: &mut Cx<'_, '_>, caller: Caller<'_>, body: &Value) -> Result<Value> {
    let challenge = req_str(body, "ChallengeName")?;
    let responses = str_map(body, "ChallengeResponses");
    let session_id = opt_str(body, "Session")
        .ok_or_else(|| CognitoError::invalid("Missing required parameter Session"))?;
    let name = map_str(&responses, "USERNAME")
        .ok_or_else(|| CognitoError::invalid("Missing required parameter USERNAME"))?;
    let mut session = take_session(cx, &caller.client, session_id)?;
    let mut user = store::user_by_username(cx.tx, &caller.pool.id, &session.username)?
        .ok_or_else(CognitoError::user_not_found)?;
    let same_user = cx
        .find_user(&caller.pool, name)?
        .is_some_and(|u| u.username == user.username);
    if !same_user {
        return Err(invalid_session());
    }
    if !user.enabled {
        return Err(CognitoError::not_authorized("User is disabled."));
    }
    let expected = if session.kind == KIND_CONFIRMED {
        ""
    } else {
        session.kind.as_str()
    };
    if challenge != expected {
        return Err(CognitoError::invalid(format!(
            "Invalid challenge name {challenge}: this session expects {expected}"
        )));
    }
    match challenge {
        KIND_SELECT => {
            let answer = map_str(&responses, "ANSWER")
                .ok_or_else(|| CognitoError::invalid("Missing required parameter ANSWER"))?;
            let available = available_challenges(&caller.pool, &user);
            if !available.contains(&answer) {
                return Err(CognitoError::invalid(format!(
                    "The challenge {answer} is not available to this user."
                )));
            }
            store::session_delete(cx.tx, &session.id)?;
            match answer {
                "EMAIL_OTP" => start_email_otp(cx, &caller, &user),
                "PASSWORD" => {
                    check_lockout(cx, &user)?;
                    let password = map_str(&responses, "PASSWORD")
                        .ok_or_else(|| {
                            CognitoError::invalid("Missing required parameter PASSWORD")
                        })?
                        .to_string();
                    password_sign_in(cx, &caller, user, &password)
                }
                _ => Err(CognitoError::invalid(format!(
                    "{answer} is not supported by this local identity provider."
                ))),
            }
        }
        KIND_OTP => {
            let given = map_str(&responses, "EMAIL_OTP_CODE").ok_or_else(|| {
                CognitoError::invalid("Missing required parameter EMAIL_OTP_CODE")
            })?;
            check_lockout(cx, &user)?;
            if session.code.as_deref() != Some(given) {
                record_failure(cx, &mut user)?;
                session.attempts += 1;
                if session.attempts >= OTP_MAX_WRONG {
                    store::session_delete(cx.tx, &session.id)?;
                    return Err(invalid_session());
                }
                store::session_put(cx.tx, &session)?;
                return Err(CognitoError::new(
                    ErrorType::CodeMismatchException,
                    "Invalid code or auth state for the user.",
                ));
            }
            store::session_delete(cx.tx, &session.id)?;
            record_success(cx, &mut user)?;
            signed_in(cx, &caller, &user)
        }
        KIND_NEW_PASSWORD => {
            let new_password = map_str(&responses, "NEW_PASSWORD")
                .ok_or_else(|| CognitoError::invalid("Missing required parameter NEW_PASSWORD"))?;
            PoolSettings::of(&caller.pool).check_password(new_password)?;
            store::session_delete(cx.tx, &session.id)?;
            user.password = Some(hash_password(new_password));
            user.status = "CONFIRMED".into();
            user.modified = cx.now;
            store::user_put(cx.tx, &user)?;
            signed_in(cx, &caller, &user)
        }
        other => Err(CognitoError::invalid(format!(
            "{other} is not supported by this local identity provider."
        ))),
    }
}

fn refresh(cx: &mut Cx<'_, '_>, caller: &Caller<'_>, params: &Map<String, Value>) -> Result<Value> {
    let token = map_str(params, "REFRESH_TOKEN")
        .ok_or_else(|| CognitoError::invalid("Missing required parameter REFRESH_TOKEN"))?;
    let invalid = || CognitoError::not_authorized("Invalid Refresh Token");
    let row = store::refresh_get(cx.tx, token)?.ok_or_else(invalid)?;
    if row.client_id != caller.client.id {
        return Err(invalid());
    }
    if row.expires <= cx.now {
        return Err(CognitoError::not_authorized("Refresh Token has expired"));
    }
    let user =
        store::user_by_username(cx.tx, &caller.pool.id, &row.username)?.ok_or_else(invalid)?;
    if !user.enabled {
        return Err(CognitoError::not_authorized("User is disabled."));
    }
    let event = AuthEvent {
        auth_time: row.auth_time,
        origin_jti: row.origin_jti.clone(),
        event_id: row.event_id.clone(),
    };
    let result = tokens::issue(cx, &caller.pool, &caller.client, &user, &event, false)?;
    Ok(json!({ "ChallengeParameters": {}, "AuthenticationResult": result }))
}

// ----- token calls -----

pub(crate) fn get_user(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let token = req_str(body, "AccessToken")?;
    let user = access_token_user(cx, token)?;
    Ok(json!({
        "Username": user.username,
        "UserAttributes": crate::admin::attributes_json(&user, None),
    }))
}

pub(crate) fn revoke_token(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let token = req_str(body, "Token")?;
    let client_id = req_str(body, "ClientId")?;
    let (client, _pool) = cx.client(client_id)?;
    if let Some(row) = store::refresh_get(cx.tx, token)? {
        if row.client_id != client.id {
            return Err(CognitoError::new(
                ErrorType::NotAuthorizedException,
                "Invalid Refresh Token",
            ));
        }
        store::refresh_delete(cx.tx, token)?;
    }
    Ok(json!({}))
}

/// The owner of a live access token: signed by us, unexpired, of an existing pool, its sign-in
/// not revoked, the user present and enabled.
fn access_token_user(cx: &Cx<'_, '_>, token: &str) -> Result<UserRow> {
    let claims = tokens::verify(cx.key, token, cx.now)?;
    if claims.token_use != TokenUse::Access {
        return Err(CognitoError::not_authorized("Invalid Access Token"));
    }
    let pool = store::pool_get(cx.tx, &claims.user_pool_id)?
        .ok_or_else(|| CognitoError::not_authorized("Invalid Access Token"))?;
    let user = store::user_by_username(cx.tx, &pool.id, &claims.username)?
        .ok_or_else(CognitoError::user_not_found)?;
    let origin = claims
        .raw
        .get("origin_jti")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !store::sign_in_is_live(cx.tx, origin, cx.now)? {
        return Err(CognitoError::not_authorized(
            "Access Token has been revoked",
        ));
    }
    if !user.enabled {
        return Err(CognitoError::not_authorized("User is disabled."));
    }
    Ok(user)
}

pub(crate) fn global_sign_out(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let user = access_token_user(cx, req_str(body, "AccessToken")?)?;
    store::refresh_delete_for_user(cx.tx, &user.pool_id, &user.username)?;
    Ok(json!({}))
}

pub(crate) fn admin_user_global_sign_out(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let user = cx.user(&pool, req_str(body, "Username")?)?;
    store::refresh_delete_for_user(cx.tx, &pool.id, &user.username)?;
    Ok(json!({}))
}
