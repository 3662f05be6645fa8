//! Sign-up, confirmation, passwordless sign-in, passwords, limits and expiry.

use serde_json::json;

use crate::support::{EMAIL, env, payload, type_of};

#[test]
fn sign_up_sends_a_six_digit_code_and_reports_the_delivery() {
    let env = env();
    let r = env.sign_up(EMAIL);
    assert_eq!(r["UserConfirmed"], false);
    assert_eq!(r["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL");
    assert_eq!(r["CodeDeliveryDetails"]["Destination"], "a***@e***");
    assert_eq!(r["CodeDeliveryDetails"]["AttributeName"], "email");
    assert!(r["UserSub"].as_str().is_some_and(|s| s.len() == 36));
    let sent = env.idp.outbox_latest(EMAIL).unwrap().unwrap();
    assert_eq!(sent.to, EMAIL);
    assert_eq!(sent.code.len(), 6);
    assert!(sent.code.bytes().all(|b| b.is_ascii_digit()));
    let json = serde_json::to_value(&sent).unwrap();
    assert!(json["sentAt"].as_str().is_some_and(|s| s.contains('T')));
    assert_eq!(json["to"], EMAIL);
}

#[test]
fn the_confirmation_session_signs_in_without_another_code() {
    let env = env();
    let session = env.signed_up(EMAIL);
    let codes_before = env.idp.outbox(100).unwrap().len();
    let r = env.call(
        "InitiateAuth",
        json!({
            "AuthFlow": "USER_AUTH",
            "ClientId": env.client_id,
            "Session": session,
            "AuthParameters": { "USERNAME": EMAIL }
        }),
    );
    let tokens = &r["AuthenticationResult"];
    assert_eq!(tokens["TokenType"], "Bearer");
    assert_eq!(tokens["ExpiresIn"], 3600);
    assert!(tokens["RefreshToken"].is_string());
    let id = payload(tokens["IdToken"].as_str().unwrap());
    assert_eq!(id["email"], EMAIL);
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["given_name"], "Ada");
    assert_eq!(
        env.idp.outbox(100).unwrap().len(),
        codes_before,
        "no second code is sent"
    );

    // The session is single-use.
    let again = env.fail(
        "InitiateAuth",
        json!({
            "AuthFlow": "USER_AUTH",
            "ClientId": env.client_id,
            "Session": session,
            "AuthParameters": { "USERNAME": EMAIL }
        }),
    );
    assert_eq!(type_of(&again), "NotAuthorizedException");
}

#[test]
fn a_returning_user_signs_in_with_an_emailed_eight_digit_code() {
    let env = env();
    env.signed_up(EMAIL);
    let session = env.start_otp(EMAIL);
    let sent = env.idp.outbox_latest(EMAIL).unwrap().unwrap();
    assert_eq!(sent.code.len(), 8);
    assert_eq!(serde_json::to_value(&sent).unwrap()["purpose"], "EMAIL_OTP");
    let r = env.answer_otp(EMAIL, &session, &sent.code).unwrap();
    assert_eq!(r["ChallengeParameters"], json!({}));
    assert!(r["AuthenticationResult"]["AccessToken"].is_string());
}

#[test]
fn the_otp_challenge_reports_where_the_code_went() {
    let env = env();
    env.signed_up(EMAIL);
    let r = env.call(
        "InitiateAuth",
        json!({
            "AuthFlow": "USER_AUTH",
            "ClientId": env.client_id,
            "AuthParameters": { "USERNAME": EMAIL, "PREFERRED_CHALLENGE": "EMAIL_OTP" }
        }),
    );
    assert_eq!(
        r["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"],
        "EMAIL"
    );
    assert_eq!(
        r["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"],
        "a***@e***"
    );
    assert!(r["Session"].as_str().is_some_and(|s| s.len() >= 20));
}

#[test]
fn without_a_preferred_challenge_the_user_selects_one() {
    let env = env();
    env.signed_up(EMAIL);
    let r = env.call(
        "InitiateAuth",
        json!({ "AuthFlow": "USER_AUTH", "ClientId": env.client_id, "AuthParameters": { "USERNAME": EMAIL } }),
    );
    assert_eq!(r["ChallengeName"], "SELECT_CHALLENGE");
    assert_eq!(r["AvailableChallenges"], json!(["EMAIL_OTP"]));
    let otp = env.call(
        "RespondToAuthChallenge",
        json!({
            "ClientId": env.client_id,
            "ChallengeName": "SELECT_CHALLENGE",
            "Session": r["Session"],
            "ChallengeResponses": { "USERNAME": EMAIL, "ANSWER": "EMAIL_OTP" }
        }),
    );
    assert_eq!(otp["ChallengeName"], "EMAIL_OTP");
    let code = env.latest_code(EMAIL);
    let done = env
        .answer_otp(EMAIL, otp["Session"].as_str().unwrap(), &code)
        .unwrap();
    assert!(done["AuthenticationResult"]["IdToken"].is_string());
}

#[test]
fn a_wrong_otp_is_a_code_mismatch_and_the_third_ends_the_session() {
    let env = env();
    env.signed_up(EMAIL);
    let session = env.start_otp(EMAIL);
    let code = env.latest_code(EMAIL);
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for _ in 0..2 {
        let e = env.answer_otp(EMAIL, &session, wrong).unwrap_err();
        assert_eq!(type_of(&e), "CodeMismatchException");
    }
    let third = env.answer_otp(EMAIL, &session, wrong).unwrap_err();
    assert_eq!(type_of(&third), "NotAuthorizedException");
    // Even the right code cannot revive the session.
    let late = env.answer_otp(EMAIL, &session, &code).unwrap_err();
    assert_eq!(type_of(&late), "NotAuthorizedException");
}

#[test]
fn an_otp_expires_with_its_three_minute_session() {
    let env = env();
    env.signed_up(EMAIL);
    let session = env.start_otp(EMAIL);
    let code = env.latest_code(EMAIL);
    env.clock.advance_secs(181);
    let e = env.answer_otp(EMAIL, &session, &code).unwrap_err();
    assert_eq!(type_of(&e), "NotAuthorizedException");
    assert!(e.message().contains("expired"), "{}", e.message());
}

#[test]
fn an_otp_works_once() {
    let env = env();
    env.signed_up(EMAIL);
    let session = env.start_otp(EMAIL);
    let code = env.latest_code(EMAIL);
    env.answer_otp(EMAIL, &session, &code).unwrap();
    let e = env.answer_otp(EMAIL, &session, &code).unwrap_err();
    assert_eq!(type_of(&e), "NotAuthorizedException");
}

#[test]
fn five_failed_sign_ins_lock_the_user_out_for_a_while() {
    let env = env();
    env.signed_up(EMAIL);
    // Five OTP sessions with wrong codes (each session allows three).
    let mut failures = 0;
    while failures < 5 {
        let session = env.start_otp(EMAIL);
        for _ in 0..2 {
            if failures == 5 {
                break;
            }
            let e = env.answer_otp(EMAIL, &session, "not-the-code").unwrap_err();
            assert_eq!(type_of(&e), "CodeMismatchException");
            failures += 1;
        }
    }
    let e = env.fail(
        "InitiateAuth",
        json!({ "AuthFlow": "USER_AUTH", "ClientId": env.client_id,
                "AuthParameters": { "USERNAME": EMAIL, "PREFERRED_CHALLENGE": "EMAIL_OTP" } }),
    );
    assert_eq!(type_of(&e), "NotAuthorizedException");
    assert_eq!(e.message(), "Password attempts exceeded");
    // The lockout is short at first; after it the right code works again.
    env.clock.advance_secs(2);
    let tokens = env.sign_in(EMAIL);
    assert!(tokens["AccessToken"].is_string());
}

#[test]
fn the_sign_up_code_expires_after_24_hours() {
    let env = env();
    env.sign_up(EMAIL);
    let code = env.latest_code(EMAIL);
    env.clock.advance_secs(24 * 3600 + 1);
    let e = env.fail(
        "ConfirmSignUp",
        json!({ "ClientId": env.client_id, "Username": EMAIL, "ConfirmationCode": code }),
    );
    assert_eq!(type_of(&e), "ExpiredCodeException");
}

#[test]
fn repeated_wrong_sign_up_codes_hit_the_attempt_limit() {
    let env = env();
    env.sign_up(EMAIL);
    let code = env.latest_code(EMAIL);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let e = env.fail(
            "ConfirmSignUp",
            json!({ "ClientId": env.client_id, "Username": EMAIL, "ConfirmationCode": wrong }),
        );
        assert_eq!(type_of(&e), "CodeMismatchException");
    }
    let e = env.fail(
        "ConfirmSignUp",
        json!({ "ClientId": env.client_id, "Username": EMAIL, "ConfirmationCode": code }),
    );
    assert_eq!(type_of(&e), "LimitExceededException");
    let e = env.fail(
        "ResendConfirmationCode",
        json!({ "ClientId": env.client_id, "Username": EMAIL }),
    );
    assert_eq!(type_of(&e), "LimitExceededException");
    // After the lock a new code confirms the account.
    env.clock.advance_secs(15 * 60 + 1);
    env.call(
        "ResendConfirmationCode",
        json!({ "ClientId": env.client_id, "Username": EMAIL }),
    );
    let fresh = env.latest_code(EMAIL);
    env.call(
        "ConfirmSignUp",
        json!({ "ClientId": env.client_id, "Username": EMAIL, "ConfirmationCode": fresh }),
    );
}

#[test]
fn a_confirmation_code_cannot_be_used_twice() {
    let env = env();
    env.sign_up(EMAIL);
    let code = env.latest_code(EMAIL);
    let body = json!({ "ClientId": env.client_id, "Username": EMAIL, "ConfirmationCode": code });
    env.call("ConfirmSignUp", body.clone());
    let e = env.fail("ConfirmSignUp", body);
    assert_eq!(type_of(&e), "NotAuthorizedException");
    assert_eq!(
        e.message(),
        "User cannot be confirmed. Current status is CONFIRMED"
    );
}

#[test]
fn a_resent_code_replaces_the_old_one() {
    let env = env();
    env.sign_up(EMAIL);
    let first = env.latest_code(EMAIL);
    let r = env.call(
        "ResendConfirmationCode",
        json!({ "ClientId": env.client_id, "Username": EMAIL }),
    );
    assert_eq!(r["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL");
    let second = env.latest_code(EMAIL);
    if first != second {
        let e = env.fail(
            "ConfirmSignUp",
            json!({ "ClientId": env.client_id, "Username": EMAIL, "ConfirmationCode": first }),
        );
        assert_eq!(type_of(&e), "CodeMismatchException");
    }
    env.call(
        "ConfirmSignUp",
        json!({ "ClientId": env.client_id, "Username": EMAIL, "ConfirmationCode": second }),
    );
}

#[test]
fn errors_carry_aws_types_for_each_misuse() {
    let env = env();
    env.sign_up("pending@example.com");
    env.signed_up(EMAIL);
    let cases = [
        (
            "signing up twice",
            "SignUp",
            json!({ "ClientId": env.client_id, "Username": EMAIL }),
            "UsernameExistsException",
        ),
        (
            "a username that is not an email",
            "SignUp",
            json!({ "ClientId": env.client_id, "Username": "ada" }),
            "InvalidParameterException",
        ),
        (
            "an unknown client",
            "SignUp",
            json!({ "ClientId": "nosuchclient", "Username": "x@example.com" }),
            "ResourceNotFoundException",
        ),
        (
            "a weak password",
            "SignUp",
            json!({ "ClientId": env.client_id, "Username": "w@example.com", "Password": "short" }),
            "InvalidPasswordException",
        ),
        (
            "an attribute outside the schema",
            "SignUp",
            json!({ "ClientId": env.client_id, "Username": "s@example.com",
                    "UserAttributes": [{ "Name": "shoe_size", "Value": "9" }] }),
            "InvalidParameterException",
        ),
        (
            "signing in as nobody",
            "InitiateAuth",
            json!({ "AuthFlow": "USER_AUTH", "ClientId": env.client_id,
                    "AuthParameters": { "USERNAME": "nobody@example.com" } }),
            "UserNotFoundException",
        ),
        (
            "signing in unconfirmed",
            "InitiateAuth",
            json!({ "AuthFlow": "USER_AUTH", "ClientId": env.client_id,
                    "AuthParameters": { "USERNAME": "pending@example.com", "PREFERRED_CHALLENGE": "EMAIL_OTP" } }),
            "UserNotConfirmedException",
        ),
        (
            "confirming nobody",
            "ConfirmSignUp",
            json!({ "ClientId": env.client_id, "Username": "nobody@example.com", "ConfirmationCode": "123456" }),
            "UserNotFoundException",
        ),
        (
            "a made-up session",
            "RespondToAuthChallenge",
            json!({ "ClientId": env.client_id, "ChallengeName": "EMAIL_OTP", "Session": "x".repeat(40),
                    "ChallengeResponses": { "USERNAME": EMAIL, "EMAIL_OTP_CODE": "12345678" } }),
            "NotAuthorizedException",
        ),
        (
            "a missing username",
            "InitiateAuth",
            json!({ "AuthFlow": "USER_AUTH", "ClientId": env.client_id, "AuthParameters": {} }),
            "InvalidParameterException",
        ),
        (
            "an unknown flow",
            "InitiateAuth",
            json!({ "AuthFlow": "MAGIC", "ClientId": env.client_id, "AuthParameters": {} }),
            "InvalidParameterException",
        ),
        (
            "a bad refresh token",
            "InitiateAuth",
            json!({ "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": env.client_id,
                    "AuthParameters": { "REFRESH_TOKEN": "nope" } }),
            "NotAuthorizedException",
        ),
        (
            "a garbage access token",
            "GetUser",
            json!({ "AccessToken": "a.b.c" }),
            "NotAuthorizedException",
        ),
        (
            "an unknown operation",
            "ForgetEverything",
            json!({}),
            "UnknownOperationException",
        ),
    ];
    for (what, op, body, expected) in cases {
        let e = env.fail(op, body);
        assert_eq!(type_of(&e), expected, "{what}: {e}");
        assert_eq!(e.to_json()["__type"], expected);
        assert!(!e.message().is_empty(), "{what}");
    }
}

#[test]
fn the_robot_signs_in_with_a_password_and_is_locked_out_after_five_wrong_ones() {
    let env = env();
    env.robot("robot@example.com", "Robot-pass1");
    let r = env
        .admin_password_auth("robot@example.com", "Robot-pass1")
        .unwrap();
    assert!(r["AuthenticationResult"]["IdToken"].is_string());
    for _ in 0..5 {
        let e = env
            .admin_password_auth("robot@example.com", "wrong-pass")
            .unwrap_err();
        assert_eq!(e.message(), "Incorrect username or password.");
    }
    let e = env
        .admin_password_auth("robot@example.com", "Robot-pass1")
        .unwrap_err();
    assert_eq!(e.message(), "Password attempts exceeded");
    env.clock.advance_secs(1);
    env.admin_password_auth("robot@example.com", "Robot-pass1")
        .unwrap();
}

#[test]
fn a_temporary_password_demands_a_new_one() {
    let env = env();
    env.call(
        "AdminCreateUser",
        json!({ "UserPoolId": env.pool_id, "Username": "new@example.com",
                "TemporaryPassword": "Temp-pass1", "MessageAction": "SUPPRESS" }),
    );
    let r = env
        .admin_password_auth("new@example.com", "Temp-pass1")
        .unwrap();
    assert_eq!(r["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let done = env.call(
        "AdminRespondToAuthChallenge",
        json!({
            "UserPoolId": env.pool_id,
            "ClientId": env.client_id,
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": r["Session"],
            "ChallengeResponses": { "USERNAME": "new@example.com", "NEW_PASSWORD": "Final-pass1" }
        }),
    );
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());
    env.admin_password_auth("new@example.com", "Final-pass1")
        .unwrap();
}

#[test]
fn user_password_auth_needs_the_flow_enabled_on_the_client() {
    let env = env();
    env.robot("robot@example.com", "Robot-pass1");
    let ok = env.call(
        "InitiateAuth",
        json!({ "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": env.client_id,
                "AuthParameters": { "USERNAME": "robot@example.com", "PASSWORD": "Robot-pass1" } }),
    );
    assert!(ok["AuthenticationResult"]["AccessToken"].is_string());

    let narrow = env
        .idp
        .ensure_user_pool_client(&presso_cognito::ClientSpec {
            user_pool_id: env.pool_id.clone(),
            client_id: None,
            name: "otp-only".into(),
            properties: json!({ "ExplicitAuthFlows": ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"] }),
        })
        .unwrap();
    let e = env.fail(
        "InitiateAuth",
        json!({ "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": narrow,
                "AuthParameters": { "USERNAME": "robot@example.com", "PASSWORD": "Robot-pass1" } }),
    );
    assert_eq!(type_of(&e), "InvalidParameterException");
    assert_eq!(
        e.message(),
        "USER_PASSWORD_AUTH flow not enabled for this client"
    );
}
