//! The app under `presso serve --template`: the fixture template applied, its functions hosted
//! behind the emulated HTTP API, its chain of bus, rules and targets run end to end, the apps
//! and `/config.json` served, and all of it surviving a restart unchanged.

mod support;

use presso_local::Storage;
use serde_json::{Value, json};
use support::*;

const TABLE: &str = "presso-OrdersTable";

fn template() -> std::path::PathBuf {
    fixture("app/template.yaml")
}

async fn client_ids(url: &str) -> (String, String, String) {
    let config: Value = reqwest::get(format!("{url}/config.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pool = config["userPoolId"].as_str().unwrap().to_string();
    let (_, clients) = aws(
        url,
        "AWSCognitoIdentityProviderService.ListUserPoolClients",
        json!({"UserPoolId": pool, "MaxResults": 10}),
    )
    .await;
    let id_of = |name: &str| {
        clients["UserPoolClients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["ClientName"] == name)
            .map(|c| c["ClientId"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no client {name}: {clients}"))
    };
    (pool.clone(), id_of("test-apps"), id_of("other"))
}

#[tokio::test]
async fn a_signed_in_order_runs_the_chain_to_an_item_in_the_table() {
    let presso = start(config(&template(), Storage::InMemory)).await;
    let (_, client, _) = client_ids(&presso.url).await;
    let token = sign_in(&presso.url, &client, "ada@example.com").await;
    let http = reqwest::Client::new();
    let me: Value = http
        .get(format!("{}/api/whoami/me", presso.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let topic = format!(
        "serverlesspresso-user-{}",
        me["claims"]["sub"].as_str().unwrap()
    );
    let (_mqtt_client, mut mqtt) = subscribe(&presso.url, &token, &topic).await;
    let resp = http
        .post(format!("{}/api/orders", presso.url))
        .bearer_auth(&token)
        .json(&json!({"orderId": "o-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202, "{:?}", resp.text().await);
    let detail: Value = resp.json().await.unwrap();
    let sub = detail["user"].as_str().unwrap().to_string();
    assert!(
        !sub.is_empty(),
        "the function read the caller's sub from the context"
    );

    // HTTP function → PutEvents → rule (InputPath $.detail) → event function → PutItem.
    let item = wait_for_item(&presso.url, TABLE, "store#o-1").await;
    assert_eq!(item["user"]["S"], sub);
    // ... and the event function's IoT Publish reaches the customer's MQTT subscription.
    let message = next_publish(&mut mqtt).await;
    assert_eq!(message.topic, topic);
    let payload: Value = serde_json::from_slice(&message.payload).unwrap();
    assert_eq!(
        payload,
        json!({"type": "Test.Stored", "detail": {"orderId": "o-1"}})
    );
    // HTTP function → PutEvents → rule → state machine → dynamodb:putItem task.
    let item = wait_for_item(&presso.url, TABLE, "workflow#o-1").await;
    assert_eq!(item["user"]["S"], sub);
    presso.stop().await;
}

#[tokio::test]
async fn without_a_valid_token_the_api_answers_401_as_api_gateway_does() {
    let presso = start(config(&template(), Storage::InMemory)).await;
    let (_, client, other) = client_ids(&presso.url).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/orders", presso.url);
    let no_token = http.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(no_token.status(), 401);
    assert_eq!(
        no_token.json::<Value>().await.unwrap(),
        json!({"message": "Unauthorized"})
    );

    let garbage = http
        .post(&url)
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 401);

    // A token of the pool, but for a client the authorizer's audience does not name.
    let wrong_audience = sign_in(&presso.url, &other, "eve@example.com").await;
    let resp = http
        .post(&url)
        .bearer_auth(&wrong_audience)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // The right client's token passes, with or without the Bearer prefix.
    let token = sign_in(&presso.url, &client, "eve@example.com").await;
    let resp = http
        .get(format!("{}/api/whoami/x", presso.url))
        .header("authorization", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let open = http
        .get(format!("{}/api/env", presso.url))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 200, "Authorizer: NONE needs no token");
    let unknown = http
        .get(format!("{}/api/nothing-here", presso.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        json!({"message": "Not Found"})
    );
    presso.stop().await;
}

#[tokio::test]
async fn a_route_with_authorization_scopes_takes_an_access_token_and_refuses_an_id_token() {
    let presso = start(config(&template(), Storage::InMemory)).await;
    let (_, client, _) = client_ids(&presso.url).await;
    let (id_token, access_token) = sign_in_tokens(&presso.url, &client, "sam@example.com").await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/whoami/admin", presso.url);
    // An ID token carries no `scope`: API Gateway answers 403, not 401.
    let with_id = http.get(&url).bearer_auth(&id_token).send().await.unwrap();
    assert_eq!(with_id.status(), 403);
    assert_eq!(
        with_id.json::<Value>().await.unwrap(),
        json!({"message": "Forbidden"})
    );
    let with_access = http
        .get(&url)
        .bearer_auth(&access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_access.status(), 200);
    let body: Value = with_access.json().await.unwrap();
    assert_eq!(body["claims"]["token_use"], "access", "{body}");
    assert_eq!(
        body["claims"]["scope"], "aws.cognito.signin.user.admin",
        "{body}"
    );
    // The route without scopes next to it still takes the ID token.
    let unscoped = http
        .get(format!("{}/api/whoami/other", presso.url))
        .bearer_auth(&id_token)
        .send()
        .await
        .unwrap();
    assert_eq!(unscoped.status(), 200);
    presso.stop().await;
}

#[tokio::test]
async fn handlers_see_the_api_gateway_v2_context_with_flattened_claims() {
    let presso = start(config(&template(), Storage::InMemory)).await;
    let (_, client, _) = client_ids(&presso.url).await;
    // The template's barista is in `admin` and `barista`; give them a password to sign in.
    let token = sign_in(&presso.url, &client, "barista@example.com").await;
    let resp: Value = reqwest::Client::new()
        .get(format!("{}/api/whoami/espresso", presso.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let groups = resp["claims"]["cognito:groups"].as_str().unwrap();
    assert!(
        groups == "[admin barista]" || groups == "[barista admin]",
        "{groups}"
    );
    assert_eq!(resp["claims"]["email"], "barista@example.com");
    assert!(
        resp["claims"]["exp"].as_str().is_some(),
        "numbers arrive as strings"
    );
    let ctx = &resp["context"];
    assert_eq!(ctx["stage"], "$default");
    assert_eq!(ctx["routeKey"], "GET /api/whoami/{thing}");
    assert_eq!(ctx["http"]["method"], "GET");
    assert_eq!(ctx["http"]["path"], "/api/whoami/espresso");
    assert_eq!(ctx["accountId"], "000000000000");
    assert_eq!(resp["pathParameters"]["thing"], "espresso");
    presso.stop().await;
}

#[tokio::test]
async fn functions_get_the_template_environment_and_presso_as_their_endpoint() {
    let presso = start(config(&template(), Storage::InMemory)).await;
    let env: Value = reqwest::get(format!("{}/api/env", presso.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(env["TABLE_NAME"], TABLE, "Globals.Function's variables");
    assert_eq!(env["BUS_NAME"], "TestBus");
    assert_eq!(env["AWS_ENDPOINT_URL"], presso.url);
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "presso-OrdersFn");
    presso.stop().await;
}

#[tokio::test]
async fn cors_is_answered_as_the_template_declares() {
    let presso = start(config(&template(), Storage::InMemory)).await;
    let resp = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/orders", presso.url),
        )
        .header("origin", "https://cafe.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://cafe.example"
    );
    let methods = resp.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(methods.contains("POST"), "{methods}");
    let other = reqwest::Client::new()
        .get(format!("{}/api/env", presso.url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    presso.stop().await;
}

#[tokio::test]
async fn bodies_over_ten_megabytes_are_refused() {
    let presso = start(config(&template(), Storage::InMemory)).await;
    let resp = reqwest::Client::new()
        .get(format!("{}/api/env", presso.url))
        .body(vec![b'x'; 10 * 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    presso.stop().await;
}

#[tokio::test]
async fn the_apps_and_config_json_are_served() {
    let presso = start(config(&template(), Storage::InMemory)).await;
    let (pool, client, _) = client_ids(&presso.url).await;
    let config: Value = reqwest::get(format!("{}/config.json", presso.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let host = presso.url.strip_prefix("http://").unwrap();
    assert_eq!(
        config,
        json!({
            "region": "us-east-1",
            "userPoolId": pool,
            "userPoolClientId": client,
            "cognitoEndpoint": presso.url,
            "apiBase": "/api",
            "mqttUrl": format!("ws://{host}/mqtt"),
            "mqttAuth": "jwt",
            "defaultEventId": "default",
            "orderAppUrl": format!("{}/order/", presso.url),
        })
    );
    for app in ["display", "barista", "order"] {
        let page = reqwest::get(format!("{}/{app}/", presso.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(app), "{app}: {page}");
        let deep = reqwest::get(format!("{}/{app}/orders/42", presso.url))
            .await
            .unwrap();
        assert_eq!(deep.status(), 200, "{app} falls back to its index.html");
        assert!(deep.text().await.unwrap().contains(app));
    }
    let css = reqwest::get(format!("{}/assets/app.css", presso.url))
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    presso.stop().await;
}

#[tokio::test]
async fn a_restart_keeps_every_item_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::Dir(dir.path().to_path_buf());
    let presso = start(config(&template(), storage.clone())).await;
    let (pool, client, _) = client_ids(&presso.url).await;
    let token = sign_in(&presso.url, &client, "ada@example.com").await;
    let (s, _) = aws(
        &presso.url,
        "DynamoDB_20120810.PutItem",
        json!({"TableName": TABLE, "Item": {"PK": {"S": "kept"}}}),
    )
    .await;
    assert_eq!(s, 200);
    let (_, rules_before) = aws(
        &presso.url,
        "AWSEvents.ListRules",
        json!({"EventBusName": "TestBus"}),
    )
    .await;
    let (_, machines_before) =
        aws(&presso.url, "AWSStepFunctions.ListStateMachines", json!({})).await;
    let (_, tables_before) = aws(&presso.url, "DynamoDB_20120810.ListTables", json!({})).await;
    presso.stop().await;

    let again = start(config(&template(), storage)).await;
    let (pool2, client2, _) = client_ids(&again.url).await;
    assert_eq!(
        (pool2, client2),
        (pool, client.clone()),
        "ids are stable across starts"
    );
    wait_for_item(&again.url, TABLE, "kept").await;
    let (_, rules_after) = aws(
        &again.url,
        "AWSEvents.ListRules",
        json!({"EventBusName": "TestBus"}),
    )
    .await;
    assert_eq!(rules_after, rules_before);
    let (_, machines_after) =
        aws(&again.url, "AWSStepFunctions.ListStateMachines", json!({})).await;
    assert_eq!(machines_after, machines_before);
    assert_eq!(machines_after["stateMachines"].as_array().unwrap().len(), 1);
    let (_, tables_after) = aws(&again.url, "DynamoDB_20120810.ListTables", json!({})).await;
    assert_eq!(tables_after, tables_before);
    // The token from before the restart still passes the authorizer (the issuer names no port).
    let resp = reqwest::Client::new()
        .get(format!("{}/api/whoami/x", again.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    again.stop().await;
}

#[tokio::test]
async fn an_unknown_crate_fails_start_up_naming_it() {
    let mut config = config(&template(), Storage::InMemory);
    config.functions = presso_local::app::FunctionRegistry::new()
        .http("test-orders", |_env| async { Ok(axum::Router::new()) });
    let err = try_start(config).await.err().expect("start-up fails");
    let message = err.to_string();
    assert!(message.contains("test-store"), "{message}");
    assert!(message.contains("StoreFn"), "{message}");
}

#[tokio::test]
async fn an_unsupported_construct_fails_start_up_naming_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("template.yaml");
    std::fs::write(
        &path,
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema: []\n      TableName: !ImportValue shared\n",
    )
    .unwrap();
    let err = try_start(config(&path, Storage::InMemory))
        .await
        .err()
        .expect("start-up fails");
    assert!(
        err.to_string()
            .contains("Resources.T.Properties.TableName: Fn::ImportValue is not supported"),
        "{err}"
    );
}

#[tokio::test]
async fn the_app_crates_are_hosted_by_name() {
    let registry = presso_local::app::builtin_functions();
    let env: presso_local::app::Env = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "presso"),
        ("AWS_SECRET_ACCESS_KEY", "presso"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for name in [
        "presso-fn-config",
        "presso-fn-order-manager",
        "presso-fn-validator",
    ] {
        let hosted = registry.build("Fn", name, env.clone()).await.expect(name);
        assert!(
            matches!(hosted, presso_local::app::Hosted::Http(_)),
            "{name}"
        );
    }
    for name in [
        "presso-fn-journey",
        "presso-fn-order-timeouts",
        "presso-fn-publisher",
        "presso-fn-waiting-completion",
        "presso-fn-workflow-started",
    ] {
        let hosted = registry.build("Fn", name, env.clone()).await.expect(name);
        let presso_local::app::Hosted::Event(handler) = hosted else {
            panic!("{name} is an event function");
        };
        let err = handler(json!({"not": "an event"})).await.unwrap_err();
        assert!(err.contains("not an EventBridge event"), "{name}: {err}");
    }
    let err = registry
        .build("Fn", "presso-fn-nope", Default::default())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("presso-fn-nope"), "{err}");
}

#[tokio::test]
async fn a_route_over_presso_s_own_endpoints_fails_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("template.yaml");
    let template = |route: &str| {
        format!(
            "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: crates/test-orders\n      Events:\n        Get: {{Type: HttpApi, Properties: {{Path: {route}, Method: get}}}}\n"
        )
    };
    std::fs::write(&path, template("/_presso/outbox")).unwrap();
    let err = try_start(config(&path, Storage::InMemory))
        .await
        .err()
        .expect("start-up fails");
    assert!(
        err.to_string()
            .contains("GET /_presso/outbox (function Fn) collides with presso's own dev endpoints"),
        "{err}"
    );

    // `/config.json` is the one route presso answers itself instead (as design.md says).
    std::fs::write(&path, template("/config.json")).unwrap();
    let presso = start(config(&path, Storage::InMemory)).await;
    let config: Value = reqwest::get(format!("{}/config.json", presso.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["apiBase"], "/api");
    presso.stop().await;
}

#[tokio::test]
async fn the_project_s_template_starts_with_the_built_in_functions_and_answers_its_routes() {
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    let mut config = config(&project, Storage::InMemory);
    config.functions = presso_local::app::builtin_functions();
    config.parameter_overrides = vec![
        "AdminEmail=barista@example.com".to_string(),
        "SesIdentityArn=arn:aws:ses:us-east-1:000000000000:identity/example.com".to_string(),
        "SesFromAddress=coffee@example.com".to_string(),
    ];
    let presso = start(config).await;
    // A route with a path parameter reaches its function with exactly that parameter: the
    // function answers in its own words about the event the path named.
    let response = reqwest::get(format!("{}/api/events/no-such-event/config", presso.url))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "event_not_found", "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("no-such-event"),
        "{body}"
    );
    let anonymous = reqwest::get(format!("{}/api/myOrders", presso.url))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // A fresh start answers for event `default` with the reference's menu.
    let seeded: Value = reqwest::get(format!("{}/api/events/default/config", presso.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seeded["eventId"], "default", "{seeded}");
    assert!(
        seeded["menu"]["drinks"]
            .as_array()
            .is_some_and(|d| d.len() >= 4),
        "{seeded}"
    );
}

/// Runs one execution of `definition` to its end; answers DescribeExecution.
async fn run_to_end(url: &str, name: &str, definition: Value) -> Value {
    let (s, created) = aws(
        url,
        "AWSStepFunctions.CreateStateMachine",
        json!({
            "name": name,
            "definition": definition.to_string(),
            "roleArn": "arn:aws:iam::000000000000:role/presso",
        }),
    )
    .await;
    assert_eq!(s, 200, "{created}");
    let (s, started) = aws(
        url,
        "AWSStepFunctions.StartExecution",
        json!({"stateMachineArn": created["stateMachineArn"], "input": "{}"}),
    )
    .await;
    assert_eq!(s, 200, "{started}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, described) = aws(
            url,
            "AWSStepFunctions.DescribeExecution",
            json!({"executionArn": started["executionArn"]}),
        )
        .await;
        if described["status"] != "RUNNING" {
            return described;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running: {described}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn lambda_invoke_tasks_run_the_functions_presso_hosts() {
    let presso = start(config(&template(), Storage::InMemory)).await;
    let task = |function: &str| {
        json!({
            "StartAt": "Store",
            "States": {"Store": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": function,
                    "Payload": {"orderId": "sm-1", "user": "u-1"}
                },
                "End": true
            }}
        })
    };
    let done = run_to_end(
        &presso.url,
        "invoke-by-arn",
        task("arn:aws:lambda:us-east-1:000000000000:function:presso-StoreFn"),
    )
    .await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["StatusCode"], 200, "{output}");
    assert_eq!(output["Payload"], json!({"stored": "sm-1"}), "{output}");
    let item = wait_for_item(&presso.url, TABLE, "store#sm-1").await;
    assert_eq!(item["user"]["S"], "u-1");

    // A bare function ARN as the resource: the payload is the task's input, the output the
    // function's result.
    let bare = run_to_end(
        &presso.url,
        "invoke-bare",
        json!({
            "StartAt": "Store",
            "States": {"Store": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:000000000000:function:presso-StoreFn",
                "Parameters": {"orderId": "sm-2", "user": "u-2"},
                "End": true
            }}
        }),
    )
    .await;
    assert_eq!(bare["status"], "SUCCEEDED", "{bare}");
    assert_eq!(bare["output"], json!({"stored": "sm-2"}).to_string());

    // A function presso does not host fails the task as Lambda answers for a missing one.
    let missing = run_to_end(&presso.url, "invoke-missing", task("presso-NoSuchFn")).await;
    assert_eq!(missing["status"], "FAILED", "{missing}");
    assert_eq!(
        missing["error"], "Lambda.ResourceNotFoundException",
        "{missing}"
    );
    presso.stop().await;
}
