//! The authorizer on the committed fixtures (`events/mqtt-authorizer/`) and on tokens signed
//! here with a fresh RSA key.

use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use presso_fn_common::testing::fixture;
use presso_fn_mqtt_authorizer::{AuthorizerRequest, Deps, handle};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";

struct Keys {
    encoding: EncodingKey,
    jwks: JwkSet,
}

fn keys() -> Keys {
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("a key");
    let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let public = key.to_public_key();
    let jwks: JwkSet = serde_json::from_value(json!({"keys": [{
        "kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
        "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be())
    }]}))
    .unwrap();
    let der = key.to_pkcs1_der().unwrap();
    Keys {
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        jwks,
    }
}

fn deps(keys: &Keys) -> Deps {
    Deps::with_keys(
        ISSUER.to_owned(),
        vec!["exampleclientid".to_owned()],
        "arn:aws:iot:us-east-1:123456789012".to_owned(),
        keys.jwks.clone(),
    )
}

fn token(keys: &Keys, claims: Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("k1".to_owned());
    jsonwebtoken::encode(&header, &claims, &keys.encoding).unwrap()
}

fn claims(groups: Value) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({"sub": "c0ffee00-0000-4000-8000-000000000001", "iss": ISSUER, "aud": "exampleclientid",
           "token_use": "id", "exp": now + 3600, "iat": now, "cognito:groups": groups})
}

fn with_password(token: &str) -> AuthorizerRequest {
    let mut raw: Value = serde_json::from_str(&fixture("mqtt-authorizer", "bad-token")).unwrap();
    raw["protocolData"]["mqtt"]["password"] = base64::engine::general_purpose::STANDARD
        .encode(token)
        .into();
    serde_json::from_value(raw).unwrap()
}

async fn answer(deps: &Deps, request: AuthorizerRequest) -> Value {
    handle(
        deps,
        lambda_runtime::LambdaEvent::new(request, Default::default()),
    )
    .await
    .unwrap()
}

fn policy(answer: &Value) -> Value {
    serde_json::from_str(answer["policyDocuments"][0].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_customer_token_grants_the_config_topics_and_their_own_user_topic_never_publish() {
    let keys = keys();
    let deps = deps(&keys);
    let a = answer(&deps, with_password(&token(&keys, claims(json!([]))))).await;
    assert_eq!(a["isAuthenticated"], true, "{a}");
    let p = policy(&a).to_string();
    assert!(p.contains("topicfilter/serverlesspresso-config-*"), "{p}");
    assert!(p.contains("topicfilter/serverlesspresso-user-c0ffee00-0000-4000-8000-000000000001"));
    assert!(
        !p.contains("serverlesspresso-admin-"),
        "customers get no admin topics"
    );
    assert!(
        p.contains("\"iot:Publish\""),
        "publish is denied explicitly: {p}"
    );

    let admin = answer(
        &deps,
        with_password(&token(&keys, claims(json!(["admin"])))),
    )
    .await;
    assert!(
        policy(&admin)
            .to_string()
            .contains("serverlesspresso-admin-*")
    );
}

#[tokio::test]
async fn no_password_is_anonymous_with_the_public_topics_only() {
    let keys = keys();
    let request: AuthorizerRequest =
        serde_json::from_str(&fixture("mqtt-authorizer", "anonymous")).unwrap();
    let a = answer(&deps(&keys), request).await;
    assert_eq!(a["isAuthenticated"], true);
    let p = policy(&a).to_string();
    assert!(p.contains("serverlesspresso-config-*"));
    assert!(!p.contains("serverlesspresso-user-"));
}

#[tokio::test]
async fn a_bad_forged_expired_or_foreign_token_is_refused() {
    let keys = keys();
    let deps = deps(&keys);
    let request: AuthorizerRequest =
        serde_json::from_str(&fixture("mqtt-authorizer", "bad-token")).unwrap();
    assert_eq!(answer(&deps, request).await["isAuthenticated"], false);

    let other = self::keys();
    let forged = token(&other, claims(json!(["admin"])));
    assert_eq!(
        answer(&deps, with_password(&forged)).await["isAuthenticated"],
        false
    );

    let mut expired = claims(json!([]));
    expired["exp"] = json!(1_000_000);
    let t = token(&keys, expired);
    assert_eq!(
        answer(&deps, with_password(&t)).await["isAuthenticated"],
        false
    );

    let mut foreign = claims(json!([]));
    foreign["aud"] = json!("someone-else");
    let t = token(&keys, foreign);
    assert_eq!(
        answer(&deps, with_password(&t)).await["isAuthenticated"],
        false
    );
}
