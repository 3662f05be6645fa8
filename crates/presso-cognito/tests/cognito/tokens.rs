//! Tokens as a standard verifier sees them: JWKS, RS256, Cognito's claims, refresh, revocation.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use presso_cognito::{TokenUse, VerifyError};
use serde_json::{Value, json};

use crate::support::{EMAIL, env, payload, type_of};

/// Verifies as a third-party service would: key from the JWKS by `kid`, RS256, issuer and
/// audience checked, expiry on the wall clock.
fn standard_verify(jwks: &Value, token: &str, issuer: &str, audience: Option<&str>) -> Value {
    let set: JwkSet = serde_json::from_value(jwks.clone()).expect("a JWKS");
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("a kid");
    let jwk = set.find(&kid).expect("the kid is in the JWKS");
    let key = DecodingKey::from_jwk(jwk).expect("an RSA JWK");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    match audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("the token verifies")
        .claims
}

#[test]
fn tokens_verify_against_the_jwks_with_a_standard_verifier() {
    let env = env();
    env.signed_up(EMAIL);
    let tokens = env.sign_in(EMAIL);
    let jwks = env
        .idp
        .pool_jwks(&env.pool_id)
        .unwrap()
        .expect("the pool has a JWKS");
    let issuer = env.idp.issuer(&env.pool_id);
    assert_eq!(
        issuer,
        format!("https://cognito-idp.us-east-1.localhost/{}", env.pool_id)
    );
    standard_verify(
        &jwks,
        tokens["IdToken"].as_str().unwrap(),
        &issuer,
        Some(&env.client_id),
    );
    standard_verify(
        &jwks,
        tokens["AccessToken"].as_str().unwrap(),
        &issuer,
        None,
    );

    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    assert!(env.idp.pool_jwks("us-east-1_nosuchpool").unwrap().is_none());
}

#[test]
fn id_and_access_tokens_carry_cognitos_claims() {
    let env = env();
    env.signed_up(EMAIL);
    let tokens = env.sign_in(EMAIL);
    let id = payload(tokens["IdToken"].as_str().unwrap());
    let access = payload(tokens["AccessToken"].as_str().unwrap());
    let issuer = env.idp.issuer(&env.pool_id);

    for claim in [
        "sub",
        "email",
        "email_verified",
        "given_name",
        "cognito:username",
        "aud",
        "token_use",
        "auth_time",
        "iss",
        "exp",
        "iat",
        "jti",
        "origin_jti",
        "event_id",
    ] {
        assert!(id.get(claim).is_some(), "ID token lacks {claim}: {id}");
    }
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["aud"], env.client_id);
    assert_eq!(id["iss"], issuer);
    assert_eq!(id["email_verified"], true);
    assert_eq!(
        id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(),
        3600
    );
    // Pools that sign in with email store the sub as the username.
    assert_eq!(id["cognito:username"], id["sub"]);

    for claim in [
        "sub",
        "client_id",
        "token_use",
        "scope",
        "username",
        "iss",
        "exp",
        "iat",
        "jti",
        "auth_time",
        "origin_jti",
        "event_id",
    ] {
        assert!(
            access.get(claim).is_some(),
            "access token lacks {claim}: {access}"
        );
    }
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(access["client_id"], env.client_id);
    assert!(access.get("aud").is_none());
    assert_eq!(access["sub"], id["sub"]);
    assert_eq!(access["origin_jti"], id["origin_jti"]);
    assert_ne!(access["jti"], id["jti"]);
    // No groups, no claim: Cognito leaves cognito:groups out rather than sending [].
    assert!(id.get("cognito:groups").is_none());
}

#[test]
fn group_membership_shows_in_both_tokens_as_an_array() {
    let env = env();
    env.signed_up(EMAIL);
    env.idp
        .ensure_group(&env.pool_id, "barista", None, Some(1))
        .unwrap();
    for group in ["admin", "barista"] {
        env.call(
            "AdminAddUserToGroup",
            json!({ "UserPoolId": env.pool_id, "Username": EMAIL, "GroupName": group }),
        );
    }
    let tokens = env.sign_in(EMAIL);
    let id = payload(tokens["IdToken"].as_str().unwrap());
    let access = payload(tokens["AccessToken"].as_str().unwrap());
    // Precedence first (barista has 1), then groups without one.
    assert_eq!(id["cognito:groups"], json!(["barista", "admin"]));
    assert_eq!(access["cognito:groups"], json!(["barista", "admin"]));
    let claims = env
        .idp
        .verify(tokens["AccessToken"].as_str().unwrap())
        .unwrap();
    assert_eq!(claims.groups, vec!["barista", "admin"]);
}

#[test]
fn verify_returns_the_claims_a_host_authorizes_with() {
    let env = env();
    env.signed_up(EMAIL);
    let tokens = env.sign_in(EMAIL);
    let id = env.idp.verify(tokens["IdToken"].as_str().unwrap()).unwrap();
    assert_eq!(id.token_use, TokenUse::Id);
    assert_eq!(id.client_id, env.client_id);
    assert_eq!(id.user_pool_id, env.pool_id);
    assert_eq!(id.email.as_deref(), Some(EMAIL));
    let access = env
        .idp
        .verify(tokens["AccessToken"].as_str().unwrap())
        .unwrap();
    assert_eq!(access.token_use, TokenUse::Access);
    assert_eq!(access.sub, id.sub);
    assert_eq!(access.username, id.username);
    assert_eq!(access.raw["scope"], "aws.cognito.signin.user.admin");

    // A token verified before is still checked for expiry on every call.
    env.clock.advance_secs(3601);
    let token = tokens["AccessToken"].as_str().unwrap();
    assert_eq!(env.idp.verify(token).unwrap_err(), VerifyError::Expired);
}

#[test]
fn verify_refuses_tampered_expired_and_foreign_tokens() {
    let env = env();
    env.signed_up(EMAIL);
    let tokens = env.sign_in(EMAIL);
    let access = tokens["AccessToken"].as_str().unwrap().to_string();

    let mut parts: Vec<String> = access.split('.').map(str::to_string).collect();
    let mut claims = payload(&access);
    claims["cognito:groups"] = json!(["admin"]);
    use base64::Engine as _;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    let forged = parts.join(".");
    assert_eq!(
        env.idp.verify(&forged).unwrap_err(),
        VerifyError::BadSignature
    );
    assert!(matches!(
        env.idp.verify("not a token"),
        Err(VerifyError::Malformed(_))
    ));

    // A token naming another key id is refused before any signature check.
    let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
    header.kid = Some("someone-else".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_der(&env.idp.signing_key().to_pkcs1_der());
    let other_kid = jsonwebtoken::encode(&header, &payload(&access), &key).unwrap();
    assert_eq!(
        env.idp.verify(&other_kid).unwrap_err(),
        VerifyError::BadSignature
    );

    // A well-signed token from a pool that does not exist here is refused.
    header.kid = Some(env.idp.signing_key().kid().to_string());
    let mut foreign = payload(&access);
    foreign["iss"] = json!("https://cognito-idp.us-east-1.localhost/us-east-1_NotHere00");
    let foreign = jsonwebtoken::encode(&header, &foreign, &key).unwrap();
    assert!(matches!(
        env.idp.verify(&foreign),
        Err(VerifyError::UnknownIssuer(_))
    ));
    let mut real_aws = payload(&access);
    real_aws["iss"] = json!(format!(
        "https://cognito-idp.us-east-1.amazonaws.com/{}",
        env.pool_id
    ));
    let real_aws = jsonwebtoken::encode(&header, &real_aws, &key).unwrap();
    assert!(matches!(
        env.idp.verify(&real_aws),
        Err(VerifyError::UnknownIssuer(_))
    ));

    env.clock.advance_secs(3601);
    assert_eq!(env.idp.verify(&access).unwrap_err(), VerifyError::Expired);
    let e = env.fail("GetUser", json!({ "AccessToken": access }));
    assert_eq!(type_of(&e), "NotAuthorizedException");
    assert_eq!(e.message(), "Access Token has expired");
}

#[test]
fn get_user_returns_the_attributes_of_the_access_token_owner() {
    let env = env();
    env.signed_up(EMAIL);
    let tokens = env.sign_in(EMAIL);
    let r = env.call("GetUser", json!({ "AccessToken": tokens["AccessToken"] }));
    let attrs = r["UserAttributes"].as_array().unwrap();
    assert_eq!(attrs[0]["Name"], "sub");
    let get = |name: &str| {
        attrs
            .iter()
            .find(|a| a["Name"] == name)
            .map(|a| a["Value"].clone())
    };
    assert_eq!(get("email"), Some(json!(EMAIL)));
    assert_eq!(get("given_name"), Some(json!("Ada")));
    assert_eq!(get("email_verified"), Some(json!("true")));
    assert_eq!(r["Username"], attrs[0]["Value"]);
    // An ID token is not an access token.
    let e = env.fail("GetUser", json!({ "AccessToken": tokens["IdToken"] }));
    assert_eq!(type_of(&e), "NotAuthorizedException");
}

#[test]
fn a_refresh_token_renews_tokens_until_it_expires() {
    let env = env();
    env.signed_up(EMAIL);
    let tokens = env.sign_in(EMAIL);
    let first = payload(tokens["IdToken"].as_str().unwrap());
    env.clock.advance_secs(7200);
    let r = env.call(
        "InitiateAuth",
        json!({ "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": env.client_id,
                "AuthParameters": { "REFRESH_TOKEN": tokens["RefreshToken"] } }),
    );
    let renewed = &r["AuthenticationResult"];
    assert!(
        renewed.get("RefreshToken").is_none(),
        "no rotation: the refresh token stays"
    );
    let id = payload(renewed["IdToken"].as_str().unwrap());
    assert_eq!(id["auth_time"], first["auth_time"]);
    assert_eq!(id["origin_jti"], first["origin_jti"]);
    assert!(id["iat"].as_i64().unwrap() >= first["iat"].as_i64().unwrap() + 7200);
    env.idp
        .verify(renewed["AccessToken"].as_str().unwrap())
        .unwrap();

    env.clock.advance_secs(30 * 24 * 3600);
    let e = env.fail(
        "InitiateAuth",
        json!({ "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": env.client_id,
                "AuthParameters": { "REFRESH_TOKEN": tokens["RefreshToken"] } }),
    );
    assert_eq!(type_of(&e), "NotAuthorizedException");
    assert_eq!(e.message(), "Refresh Token has expired");
}

#[test]
fn deleting_a_user_revokes_their_refresh_tokens() {
    let env = env();
    env.signed_up(EMAIL);
    let tokens = env.sign_in(EMAIL);
    env.call(
        "AdminDeleteUser",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL }),
    );
    let e = env.fail(
        "InitiateAuth",
        json!({ "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": env.client_id,
                "AuthParameters": { "REFRESH_TOKEN": tokens["RefreshToken"] } }),
    );
    assert_eq!(type_of(&e), "NotAuthorizedException");
    let e = env.fail("GetUser", json!({ "AccessToken": tokens["AccessToken"] }));
    assert_eq!(type_of(&e), "UserNotFoundException");
}

#[test]
fn revoke_token_ends_a_refresh_token() {
    let env = env();
    env.signed_up(EMAIL);
    let tokens = env.sign_in(EMAIL);
    env.call(
        "RevokeToken",
        json!({ "ClientId": env.client_id, "Token": tokens["RefreshToken"] }),
    );
    let e = env.fail(
        "InitiateAuth",
        json!({ "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": env.client_id,
                "AuthParameters": { "REFRESH_TOKEN": tokens["RefreshToken"] } }),
    );
    assert_eq!(type_of(&e), "NotAuthorizedException");
}

#[test]
fn signing_out_everywhere_ends_refresh_and_access_tokens() {
    let env = env();
    env.signed_up(EMAIL);
    let first = env.sign_in(EMAIL);
    let second = env.sign_in(EMAIL);
    env.call(
        "GlobalSignOut",
        json!({ "AccessToken": first["AccessToken"] }),
    );
    for tokens in [&first, &second] {
        let e = env.fail("GetUser", json!({ "AccessToken": tokens["AccessToken"] }));
        assert_eq!(e.message(), "Access Token has been revoked");
        let e = env.fail(
            "InitiateAuth",
            json!({ "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": env.client_id,
                    "AuthParameters": { "REFRESH_TOKEN": tokens["RefreshToken"] } }),
        );
        assert_eq!(type_of(&e), "NotAuthorizedException");
    }
    // A new sign-in works; the admin variant ends it too.
    let third = env.sign_in(EMAIL);
    env.call("GetUser", json!({ "AccessToken": third["AccessToken"] }));
    env.call(
        "AdminUserGlobalSignOut",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL }),
    );
    let e = env.fail("GetUser", json!({ "AccessToken": third["AccessToken"] }));
    assert_eq!(type_of(&e), "NotAuthorizedException");
}

#[test]
fn a_disabled_user_cannot_sign_in_or_refresh_until_enabled() {
    let env = env();
    env.signed_up(EMAIL);
    let tokens = env.sign_in(EMAIL);
    env.call(
        "AdminDisableUser",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL }),
    );
    let e = env.fail(
        "InitiateAuth",
        json!({ "AuthFlow": "USER_AUTH", "ClientId": env.client_id,
                "AuthParameters": { "USERNAME": EMAIL, "PREFERRED_CHALLENGE": "EMAIL_OTP" } }),
    );
    assert_eq!(e.message(), "User is disabled.");
    let e = env.fail(
        "InitiateAuth",
        json!({ "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": env.client_id,
                "AuthParameters": { "REFRESH_TOKEN": tokens["RefreshToken"] } }),
    );
    assert_eq!(type_of(&e), "NotAuthorizedException");
    let got = env.call(
        "AdminGetUser",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL }),
    );
    assert_eq!(got["Enabled"], false);
    env.call(
        "AdminEnableUser",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL }),
    );
    env.sign_in(EMAIL);
}
