//! Sign-in through the Rust SDK and the `aws` CLI: sign-up, the code from the dev outbox,
//! email-code sign-in, tokens verified against the served JWKS, and AWS's errors for wrong,
//! reused and expired codes.

mod support;

use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, ChallengeNameType};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use support::{advance_clock, aws, call, client, latest_code, provision, spawn_presso};

const EMAIL: &str = "ada@example.com";

async fn sign_up(c: &aws_sdk_cognitoidentityprovider::Client, client_id: &str, email: &str) {
    c.sign_up()
        .client_id(client_id)
        .username(email)
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value(email)
                .build()
                .unwrap(),
        )
        .user_attributes(
            AttributeType::builder()
                .name("given_name")
                .value("Ada")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

fn code_of(message: &Value) -> String {
    message["code"].as_str().expect("a code").to_string()
}

async fn start_email_otp(
    c: &aws_sdk_cognitoidentityprovider::Client,
    client_id: &str,
    email: &str,
) -> String {
    let started = c
        .initiate_auth()
        .auth_flow(AuthFlowType::UserAuth)
        .client_id(client_id)
        .auth_parameters("USERNAME", email)
        .auth_parameters("PREFERRED_CHALLENGE", "EMAIL_OTP")
        .send()
        .await
        .unwrap();
    assert_eq!(started.challenge_name(), Some(&ChallengeNameType::EmailOtp));
    started.session().expect("a session").to_string()
}

#[tokio::test]
async fn a_new_user_signs_up_and_signs_in_with_emailed_codes_and_the_jwks_verifies_the_tokens() {
    let presso = spawn_presso().await;
    let (pool_id, client_id) = provision(&presso.endpoint).await;
    let c = client(&presso.endpoint);
    sign_up(&c, &client_id, EMAIL).await;
    let message = latest_code(&presso.endpoint, EMAIL).await;
    assert_eq!(message["to"], EMAIL);
    assert!(message["sentAt"].is_string());
    c.confirm_sign_up()
        .client_id(&client_id)
        .username(EMAIL)
        .confirmation_code(code_of(&message))
        .send()
        .await
        .unwrap();
    let session = start_email_otp(&c, &client_id, EMAIL).await;
    let otp = code_of(&latest_code(&presso.endpoint, EMAIL).await);
    let answered = c
        .respond_to_auth_challenge()
        .client_id(&client_id)
        .challenge_name(ChallengeNameType::EmailOtp)
        .session(session)
        .challenge_responses("USERNAME", EMAIL)
        .challenge_responses("EMAIL_OTP_CODE", otp)
        .send()
        .await
        .unwrap();
    let tokens = answered.authentication_result().expect("tokens");
    let id_token = tokens.id_token().unwrap();

    let jwks: JwkSet = reqwest::get(format!(
        "{}/{pool_id}/.well-known/jwks.json",
        presso.endpoint
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let key = DecodingKey::from_jwk(jwks.find(&header.kid.unwrap()).expect("kid in JWKS")).unwrap();
    let region = pool_id.split('_').next().unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[format!("https://cognito-idp.{region}.localhost/{pool_id}")]);
    validation.set_audience(&[&client_id]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .expect("the ID token verifies against the served JWKS")
        .claims;
    assert_eq!(claims["email"], EMAIL);
    assert_eq!(claims["given_name"], "Ada");
    assert_eq!(claims["token_use"], "id");

    let me = c
        .get_user()
        .access_token(tokens.access_token().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        me.user_attributes()
            .iter()
            .any(|a| a.name() == "email" && a.value() == Some(EMAIL))
    );
    // The outbox lists both codes.
    let outbox: Value = reqwest::get(format!("{}/_presso/outbox", presso.endpoint))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(outbox.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn wrong_reused_and_expired_codes_fail_with_aws_errors() {
    let presso = spawn_presso().await;
    let (_pool_id, client_id) = provision(&presso.endpoint).await;
    let c = client(&presso.endpoint);
    sign_up(&c, &client_id, EMAIL).await;
    let code = code_of(&latest_code(&presso.endpoint, EMAIL).await);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let err = c
        .confirm_sign_up()
        .client_id(&client_id)
        .username(EMAIL)
        .confirmation_code(wrong)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_code_mismatch_exception(), "{err:?}");
    c.confirm_sign_up()
        .client_id(&client_id)
        .username(EMAIL)
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();

    // An email code works once.
    let session = start_email_otp(&c, &client_id, EMAIL).await;
    let otp = code_of(&latest_code(&presso.endpoint, EMAIL).await);
    let answer = |session: String, otp: String| {
        c.respond_to_auth_challenge()
            .client_id(&client_id)
            .challenge_name(ChallengeNameType::EmailOtp)
            .session(session)
            .challenge_responses("USERNAME", EMAIL)
            .challenge_responses("EMAIL_OTP_CODE", otp)
            .send()
    };
    answer(session.clone(), otp.clone()).await.unwrap();
    let err = answer(session, otp).await.unwrap_err().into_service_error();
    assert!(err.is_not_authorized_exception(), "{err:?}");

    // A sign-up code expires after 24 hours on presso's clock.
    sign_up(&c, &client_id, "late@example.com").await;
    let late = code_of(&latest_code(&presso.endpoint, "late@example.com").await);
    advance_clock(&presso.endpoint, 24 * 3600 + 60).await;
    let err = c
        .confirm_sign_up()
        .client_id(&client_id)
        .username("late@example.com")
        .confirmation_code(late)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_expired_code_exception(), "{err:?}");
}

#[tokio::test]
async fn an_unknown_pool_has_no_jwks_and_an_unknown_user_gets_no_code() {
    let presso = spawn_presso().await;
    let resp = reqwest::get(format!(
        "{}/us-east-1_nothere/.well-known/jwks.json",
        presso.endpoint
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = reqwest::get(format!(
        "{}/_presso/outbox/nobody@example.com/latest",
        presso.endpoint
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn the_aws_cli_signs_a_robot_in_with_initiate_auth() {
    let presso = spawn_presso().await;
    let (pool_id, client_id) = provision(&presso.endpoint).await;
    call(
        &presso.endpoint,
        "AdminCreateUser",
        json!({"UserPoolId": pool_id, "Username": "robot@example.com", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "robot@example.com"}]}),
    )
    .await;
    call(
        &presso.endpoint,
        "AdminSetUserPassword",
        json!({"UserPoolId": pool_id, "Username": "robot@example.com", "Password": "Correct-Horse-1", "Permanent": true}),
    )
    .await;
    let endpoint = presso.endpoint.clone();
    let out = tokio::task::spawn_blocking(move || {
        aws(
            &endpoint,
            &[
                "cognito-idp",
                "initiate-auth",
                "--auth-flow",
                "USER_PASSWORD_AUTH",
                "--client-id",
                &client_id,
                "--auth-parameters",
                "USERNAME=robot@example.com,PASSWORD=Correct-Horse-1",
            ],
        )
    })
    .await
    .unwrap();
    let out: Value = serde_json::from_str(&out).unwrap();
    assert!(out["AuthenticationResult"]["IdToken"].is_string(), "{out}");
    assert!(
        out["AuthenticationResult"]["AccessToken"].is_string(),
        "{out}"
    );
}
