//! Pool, client, group and user management, and template loading.

use presso_cognito::{
    ClientSpec, IdentityProvider, ManualClock, PoolSpec, Storage, UserSpec, derive_client_id,
    derive_pool_id,
};
use serde_json::json;

use crate::support::{EMAIL, env, options, type_of};

#[test]
fn created_pools_and_clients_have_aws_shaped_ids_and_descriptions() {
    let env = env();
    let pool = env.call(
        "CreateUserPool",
        json!({ "PoolName": "scratch", "UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"] }),
    )["UserPool"]
        .clone();
    let id = pool["Id"].as_str().unwrap();
    let (region, suffix) = id.split_once('_').unwrap();
    assert_eq!(region, "us-east-1");
    assert_eq!(suffix.len(), 9);
    assert!(suffix.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(pool["Name"], "scratch");
    assert_eq!(
        pool["Arn"],
        format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{id}")
    );
    assert_eq!(pool["UsernameAttributes"], json!(["email"]));
    assert!(pool["CreationDate"].is_f64());

    let described = env.call("DescribeUserPool", json!({ "UserPoolId": id }));
    assert_eq!(described["UserPool"]["Id"], id);
    assert_eq!(described["UserPool"]["EstimatedNumberOfUsers"], 0);

    let listed = env.call("ListUserPools", json!({ "MaxResults": 60 }));
    let ids: Vec<&str> = listed["UserPools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["Id"].as_str())
        .collect();
    assert!(ids.contains(&id) && ids.contains(&env.pool_id.as_str()));
    let page = env.call("ListUserPools", json!({ "MaxResults": 1 }));
    assert_eq!(page["UserPools"].as_array().unwrap().len(), 1);
    let rest = env.call(
        "ListUserPools",
        json!({ "MaxResults": 1, "NextToken": page["NextToken"] }),
    );
    assert_eq!(rest["UserPools"].as_array().unwrap().len(), 1);

    let client = env.call(
        "CreateUserPoolClient",
        json!({ "UserPoolId": id, "ClientName": "app", "ExplicitAuthFlows": ["ALLOW_USER_AUTH"] }),
    )["UserPoolClient"]
        .clone();
    let client_id = client["ClientId"].as_str().unwrap();
    assert_eq!(client_id.len(), 26);
    assert!(
        client_id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert_eq!(client["ExplicitAuthFlows"], json!(["ALLOW_USER_AUTH"]));
    let described = env.call(
        "DescribeUserPoolClient",
        json!({ "UserPoolId": id, "ClientId": client_id }),
    );
    assert_eq!(described["UserPoolClient"]["ClientName"], "app");

    let e = env.fail(
        "DescribeUserPoolClient",
        json!({ "UserPoolId": env.pool_id, "ClientId": client_id }),
    );
    assert_eq!(type_of(&e), "ResourceNotFoundException");
    let e = env.fail(
        "DescribeUserPool",
        json!({ "UserPoolId": "us-east-1_missing00" }),
    );
    assert_eq!(type_of(&e), "ResourceNotFoundException");
    let e = env.fail(
        "CreateUserPoolClient",
        json!({ "UserPoolId": id, "ClientName": "s", "GenerateSecret": true }),
    );
    assert_eq!(type_of(&e), "InvalidParameterException");
}

#[test]
fn groups_are_created_once_listed_and_joined() {
    let env = env();
    let g = env.call(
        "CreateGroup",
        json!({ "UserPoolId": env.pool_id, "GroupName": "barista", "Description": "Makes coffee", "Precedence": 2 }),
    );
    assert_eq!(g["Group"]["GroupName"], "barista");
    assert_eq!(g["Group"]["Precedence"], 2);
    let e = env.fail(
        "CreateGroup",
        json!({ "UserPoolId": env.pool_id, "GroupName": "barista" }),
    );
    assert_eq!(type_of(&e), "GroupExistsException");
    let got = env.call(
        "GetGroup",
        json!({ "UserPoolId": env.pool_id, "GroupName": "barista" }),
    );
    assert_eq!(got["Group"]["Description"], "Makes coffee");

    let listed = env.call("ListGroups", json!({ "UserPoolId": env.pool_id }));
    let names: Vec<&str> = listed["Groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["GroupName"].as_str())
        .collect();
    assert_eq!(names, ["admin", "barista"]);

    env.signed_up(EMAIL);
    env.call(
        "AdminAddUserToGroup",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL, "GroupName": "admin" }),
    );
    // Adding twice is harmless, as at AWS.
    env.call(
        "AdminAddUserToGroup",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL, "GroupName": "admin" }),
    );
    let mine = env.call(
        "AdminListGroupsForUser",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL }),
    );
    assert_eq!(mine["Groups"].as_array().unwrap().len(), 1);
    assert_eq!(mine["Groups"][0]["GroupName"], "admin");

    let e = env.fail(
        "AdminAddUserToGroup",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL, "GroupName": "nope" }),
    );
    assert_eq!(type_of(&e), "ResourceNotFoundException");
    let e = env.fail(
        "AdminAddUserToGroup",
        json!({ "UserPoolId": env.pool_id, "Username": "ghost@example.com", "GroupName": "admin" }),
    );
    assert_eq!(type_of(&e), "UserNotFoundException");

    env.call(
        "AdminRemoveUserFromGroup",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL, "GroupName": "admin" }),
    );
    let mine = env.call(
        "AdminListGroupsForUser",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL }),
    );
    assert_eq!(mine["Groups"], json!([]));
}

#[test]
fn users_can_be_read_listed_filtered_and_deleted() {
    let env = env();
    env.signed_up(EMAIL);
    env.sign_up("bob@example.com");
    env.robot("robot@example.com", "Robot-pass1");

    let ada = env.call(
        "AdminGetUser",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL }),
    );
    assert_eq!(ada["UserStatus"], "CONFIRMED");
    assert_eq!(ada["Enabled"], true);
    assert!(
        ada["UserAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["Name"] == "given_name")
    );
    // The sub works as a username too.
    let by_sub = env.call(
        "AdminGetUser",
        json!({ "UserPoolId": env.pool_id, "Username": ada["Username"] }),
    );
    assert_eq!(by_sub["Username"], ada["Username"]);
    let bob = env.call(
        "AdminGetUser",
        json!({ "UserPoolId": env.pool_id, "Username": "bob@example.com" }),
    );
    assert_eq!(bob["UserStatus"], "UNCONFIRMED");

    let all = env.call("ListUsers", json!({ "UserPoolId": env.pool_id }));
    assert_eq!(all["Users"].as_array().unwrap().len(), 3);
    let cases = [
        (r#"email = "ada@example.com""#, 1),
        (r#"email ^= "b""#, 1),
        (r#"cognito:user_status = "UNCONFIRMED""#, 1),
        (r#"status = "Enabled""#, 3),
        (r#"given_name = "nobody""#, 0),
    ];
    for (filter, expected) in cases {
        let r = env.call(
            "ListUsers",
            json!({ "UserPoolId": env.pool_id, "Filter": filter }),
        );
        assert_eq!(r["Users"].as_array().unwrap().len(), expected, "{filter}");
    }
    let e = env.fail(
        "ListUsers",
        json!({ "UserPoolId": env.pool_id, "Filter": "email is ada" }),
    );
    assert_eq!(type_of(&e), "InvalidParameterException");
    let only = env.call(
        "ListUsers",
        json!({ "UserPoolId": env.pool_id, "Filter": r#"email = "ada@example.com""#, "AttributesToGet": ["email"] }),
    );
    assert_eq!(
        only["Users"][0]["Attributes"],
        json!([{ "Name": "email", "Value": EMAIL }])
    );
    let page = env.call(
        "ListUsers",
        json!({ "UserPoolId": env.pool_id, "Limit": 2 }),
    );
    assert_eq!(page["Users"].as_array().unwrap().len(), 2);
    assert!(page["PaginationToken"].is_string());

    env.call(
        "AdminDeleteUser",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL }),
    );
    let e = env.fail(
        "AdminGetUser",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL }),
    );
    assert_eq!(type_of(&e), "UserNotFoundException");
    let e = env.fail(
        "AdminDeleteUser",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL }),
    );
    assert_eq!(type_of(&e), "UserNotFoundException");
    // The address is free again.
    env.signed_up(EMAIL);
}

#[test]
fn admin_created_users_start_in_force_change_password() {
    let env = env();
    let r = env.call(
        "AdminCreateUser",
        json!({ "UserPoolId": env.pool_id, "Username": "new@example.com", "MessageAction": "SUPPRESS" }),
    );
    assert_eq!(r["User"]["UserStatus"], "FORCE_CHANGE_PASSWORD");
    assert!(
        r["User"]["Attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["Name"] == "email")
    );
    let e = env.fail(
        "AdminCreateUser",
        json!({ "UserPoolId": env.pool_id, "Username": "new@example.com", "MessageAction": "SUPPRESS" }),
    );
    assert_eq!(type_of(&e), "UsernameExistsException");
    let e = env.fail(
        "AdminSetUserPassword",
        json!({ "UserPoolId": env.pool_id, "Username": "new@example.com", "Password": "weak", "Permanent": true }),
    );
    assert_eq!(type_of(&e), "InvalidPasswordException");
    let e = env.fail(
        "AdminSetUserPassword",
        json!({ "UserPoolId": env.pool_id, "Username": "ghost@example.com", "Password": "Strong-pass1", "Permanent": true }),
    );
    assert_eq!(type_of(&e), "UserNotFoundException");
}

#[test]
fn template_loading_is_idempotent_and_ids_are_deterministic() {
    let clock = ManualClock::starting_now();
    let idp = IdentityProvider::open(Storage::InMemory, options(&clock)).unwrap();
    let (pool_id, client_id) = crate::support::provision(&idp);
    assert_eq!(
        pool_id,
        derive_pool_id("us-east-1", "ServerlesspressoUserPool")
    );
    assert_eq!(client_id, derive_client_id(&pool_id, "web"));
    let user = UserSpec {
        user_pool_id: pool_id.clone(),
        username: "barista@example.com".into(),
        attributes: vec![("given_name".into(), "Bea".into())],
        password: None,
        groups: vec!["admin".into()],
    };
    let first = idp.ensure_user(&user).unwrap();
    // Loading the same template again changes nothing and keeps the user.
    assert_eq!(
        crate::support::provision(&idp),
        (pool_id.clone(), client_id.clone())
    );
    assert_eq!(idp.ensure_user(&user).unwrap(), first);

    let r = idp
        .call(
            "AdminGetUser",
            json!({ "UserPoolId": pool_id, "Username": "barista@example.com" }),
        )
        .unwrap();
    assert_eq!(r["UserStatus"], "CONFIRMED");
    let groups = idp
        .call(
            "AdminListGroupsForUser",
            json!({ "UserPoolId": pool_id, "Username": first }),
        )
        .unwrap();
    assert_eq!(groups["Groups"][0]["GroupName"], "admin");

    // Given ids are kept as given.
    let given = idp
        .ensure_user_pool(&PoolSpec {
            id: Some("eu-west-1_Given1234".into()),
            name: "p".into(),
            properties: json!({}),
        })
        .unwrap();
    assert_eq!(given, "eu-west-1_Given1234");
    assert_eq!(
        idp.issuer(&given),
        "https://cognito-idp.eu-west-1.localhost/eu-west-1_Given1234"
    );
    let c = idp
        .ensure_user_pool_client(&ClientSpec {
            user_pool_id: given.clone(),
            client_id: Some("abcdefghijklmnopqrstuvwxyz".into()),
            name: "c".into(),
            properties: json!({}),
        })
        .unwrap();
    assert_eq!(c, "abcdefghijklmnopqrstuvwxyz");
    assert!(
        idp.ensure_user_pool(&PoolSpec {
            id: Some("bad id".into()),
            ..PoolSpec::default()
        })
        .is_err()
    );
    let e = idp
        .ensure_user(&UserSpec {
            user_pool_id: pool_id,
            username: "x@example.com".into(),
            groups: vec!["nope".into()],
            ..UserSpec::default()
        })
        .unwrap_err();
    assert_eq!(type_of(&e), "ResourceNotFoundException");
}

#[test]
fn every_code_lands_in_the_outbox_and_the_sink() {
    use std::sync::{Arc, Mutex};
    let clock = ManualClock::starting_now();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink_seen = Arc::clone(&seen);
    let mut opts = options(&clock);
    opts.code_sink = Arc::new(move |m: &presso_cognito::CodeMessage| {
        sink_seen
            .lock()
            .unwrap()
            .push(format!("{}:{}", m.to, m.code));
    });
    let idp = IdentityProvider::open(Storage::InMemory, opts).unwrap();
    let (_, client_id) = crate::support::provision(&idp);
    for email in ["a@example.com", "B@Example.com"] {
        idp.call(
            "SignUp",
            json!({ "ClientId": client_id, "Username": email }),
        )
        .unwrap();
    }
    let all = idp.outbox(10).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].to, "a@example.com");
    let latest = idp.outbox_latest("b@example.com").unwrap().unwrap();
    assert_eq!(
        seen.lock().unwrap().last().unwrap(),
        &format!("B@Example.com:{}", latest.code)
    );
    assert!(idp.outbox_latest("nobody@example.com").unwrap().is_none());
}

#[test]
fn every_listed_operation_is_answered() {
    let env = env();
    let wrong_types = json!({
        "ClientId": 7, "UserPoolId": [], "Username": {}, "AuthFlow": true, "AuthParameters": "x",
        "ChallengeResponses": 1, "Session": 2, "AccessToken": null, "UserAttributes": "email",
        "MaxResults": "ten", "Limit": -1, "GroupName": 3.5, "Filter": "=", "Password": 12345678
    });
    let bodies = [
        json!({}),
        json!(null),
        json!([1, 2]),
        json!("text"),
        wrong_types,
    ];
    for op in presso_cognito::OPERATIONS {
        // Malformed bodies are wrong for every operation, but they must be refused as bad
        // requests, never as an unknown operation, an internal error or a panic.
        for body in &bodies {
            if let Err(e) = env.idp.call(op, body.clone()) {
                let t = type_of(&e);
                assert!(
                    t != "UnknownOperationException" && t != "InternalErrorException",
                    "{op} with {body}: {e}"
                );
            }
        }
    }
}

#[test]
fn clients_are_listed_and_groups_deleted() {
    let env = env();
    let r = env.call(
        "ListUserPoolClients",
        json!({ "UserPoolId": env.pool_id, "MaxResults": 10 }),
    );
    assert_eq!(
        r["UserPoolClients"],
        json!([{ "ClientId": env.client_id, "UserPoolId": env.pool_id, "ClientName": "web" }])
    );
    env.signed_up(EMAIL);
    env.call(
        "AdminAddUserToGroup",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL, "GroupName": "admin" }),
    );
    env.call(
        "DeleteGroup",
        json!({ "UserPoolId": env.pool_id, "GroupName": "admin" }),
    );
    let mine = env.call(
        "AdminListGroupsForUser",
        json!({ "UserPoolId": env.pool_id, "Username": EMAIL }),
    );
    assert_eq!(mine["Groups"], json!([]));
    let e = env.fail(
        "DeleteGroup",
        json!({ "UserPoolId": env.pool_id, "GroupName": "admin" }),
    );
    assert_eq!(type_of(&e), "ResourceNotFoundException");
}
