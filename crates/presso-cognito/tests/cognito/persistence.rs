//! What survives closing and reopening the data directory.

use presso_cognito::{IdentityProvider, ManualClock, Options, Storage};
use serde_json::json;

use crate::support::{EMAIL, Env, options, provision};

fn open(dir: &std::path::Path, clock: &ManualClock) -> Env {
    let idp = IdentityProvider::open(Storage::in_data_dir(dir), options(clock)).expect("open");
    let (pool_id, client_id) = provision(&idp);
    Env {
        idp,
        clock: clock.clone(),
        pool_id,
        client_id,
    }
}

#[test]
fn users_tokens_keys_and_codes_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_now();
    let (tokens, kid, pending_code) = {
        let env = open(dir.path(), &clock);
        env.signed_up(EMAIL);
        env.call(
            "AdminAddUserToGroup",
            json!({ "UserPoolId": env.pool_id, "Username": EMAIL, "GroupName": "admin" }),
        );
        env.sign_up("later@example.com");
        let tokens = env.sign_in(EMAIL);
        (
            tokens,
            env.idp.signing_key().kid().to_string(),
            env.latest_code("later@example.com"),
        )
    };
    assert!(dir.path().join("cognito.sqlite").exists());

    // Reopened without a key on offer: the stored key must be the one used.
    let idp = IdentityProvider::open(
        Storage::in_data_dir(dir.path()),
        Options {
            clock: std::sync::Arc::new(clock.clone()),
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(idp.signing_key().kid(), kid);
    let claims = idp.verify(tokens["AccessToken"].as_str().unwrap()).unwrap();
    assert_eq!(claims.groups, vec!["admin"]);
    let (pool_id, client_id) = provision(&idp);
    let env = Env {
        idp,
        clock,
        pool_id,
        client_id,
    };

    let refreshed = env.call(
        "InitiateAuth",
        json!({ "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": env.client_id,
                "AuthParameters": { "REFRESH_TOKEN": tokens["RefreshToken"] } }),
    );
    assert!(refreshed["AuthenticationResult"]["IdToken"].is_string());
    env.call(
        "ConfirmSignUp",
        json!({ "ClientId": env.client_id, "Username": "later@example.com", "ConfirmationCode": pending_code }),
    );
    assert_eq!(env.idp.outbox(100).unwrap().len(), 3);
    env.sign_in(EMAIL);
}
