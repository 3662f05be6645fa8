//! Reading the fixture templates under `tests/fixtures/`: every construct, every resource type
//! and every failure mode with its message.

use std::path::{Path, PathBuf};

use presso_template::{Options, Stack, TemplateError, load, parse, parse_overrides};
use serde_json::json;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn options(overrides: &[&str]) -> Options {
    Options {
        region: "eu-west-1".into(),
        account_id: "123456789012".into(),
        stack_name: "cafe".into(),
        parameter_overrides: parse_overrides(overrides).unwrap(),
        public_url: Some("http://127.0.0.1:8080".into()),
    }
}

fn app(overrides: &[&str]) -> Stack {
    load(&fixtures().join("app.yaml"), &options(overrides)).unwrap()
}

#[test]
fn every_intrinsic_and_pseudo_parameter_resolves() {
    let stack = load(&fixtures().join("intrinsics.yaml"), &options(&[])).unwrap();
    let f = &stack.functions[0];
    let env = |k: &str| f.environment.get(k).map(String::as_str);
    let arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/cafe-orders-dev";
    assert_eq!(env("FROM_GLOBALS"), Some("global"));
    assert_eq!(env("OVERRIDDEN"), Some("local"));
    assert_eq!(env("REF_PARAM"), Some("dev"));
    assert_eq!(env("REF_TABLE"), Some("cafe-orders-dev"));
    assert_eq!(env("GETATT_LONG"), Some(arn));
    assert_eq!(env("GETATT_SHORT"), Some(arn));
    assert_eq!(
        env("SUB_PSEUDO"),
        Some("eu-west-1/123456789012/aws/amazonaws.com")
    );
    assert_eq!(env("SUB_ATTR").unwrap(), format!("arn={arn}"));
    assert_eq!(env("SUB_VARS"), Some("dev-two"));
    assert_eq!(env("SUB_LITERAL"), Some("${NotAVar} dev"));
    assert_eq!(env("JOIN"), Some("a+dev"));
    assert_eq!(env("IF_TRUE"), Some("yes"));
    assert_eq!(env("IF_NOVALUE"), None);
    assert_eq!(env("SELECT"), Some("b"));
    assert_eq!(env("SELECT_SPLIT"), Some("z"));
    assert_eq!(env("FIND"), Some("1"));
    assert_eq!(env("AND"), Some("true"));
    assert_eq!(env("OR"), Some("false"));
    assert_eq!(env("NUMBER"), Some("10"));
    assert!(
        env("STACK_ID")
            .unwrap()
            .starts_with("arn:aws:cloudformation:eu-west-1:123456789012:stack/cafe/")
    );
    assert_eq!(f.timeout_seconds, Some(9));
    assert_eq!(f.crate_name, "presso-fn-test");
}

#[test]
fn parameter_overrides_change_conditions_and_values() {
    let stack = load(
        &fixtures().join("intrinsics.yaml"),
        &options(&["Stage=prod Zones=x,y"]),
    )
    .unwrap();
    let env = &stack.functions[0].environment;
    assert_eq!(env["REF_TABLE"], "cafe-orders-prod");
    assert_eq!(env["JOIN"], "a+prod+p");
    assert_eq!(env["IF_NOVALUE"], "present");
    assert_eq!(env["SELECT"], "y");
    assert_eq!(env["FIND"], "3");
    assert_eq!(env["OR"], "true");
}

#[test]
fn tables_become_create_table_requests() {
    let stack = app(&["AdminEmail=a@example.com"]);
    assert_eq!(
        stack.tables.len(),
        1,
        "the Extras condition leaves ExtraTable out"
    );
    let t = &stack.tables[0];
    assert_eq!(t.name, "cafe-OrderTable");
    assert_eq!(
        t.arn,
        "arn:aws:dynamodb:eu-west-1:123456789012:table/cafe-OrderTable"
    );
    assert_eq!(t.create_request["TableName"], "cafe-OrderTable");
    assert_eq!(
        t.create_request["GlobalSecondaryIndexes"][0]["IndexName"],
        "GSI1"
    );
    assert_eq!(t.create_request["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        t.time_to_live,
        Some(json!({"AttributeName": "ttl", "Enabled": true}))
    );
    let with_extras = app(&["AdminEmail=a@example.com", "WithExtras=yes"]);
    assert_eq!(with_extras.tables.len(), 2);
}

#[test]
fn buses_rules_and_sam_event_rules_name_their_targets() {
    let stack = app(&["AdminEmail=a@example.com"]);
    assert_eq!(stack.event_buses[0].name, "Serverlesspresso");
    assert_eq!(
        stack.event_buses[0].arn,
        "arn:aws:events:eu-west-1:123456789012:event-bus/Serverlesspresso"
    );
    let publisher = "arn:aws:lambda:eu-west-1:123456789012:function:cafe-PublisherFn";
    let log = stack
        .rules
        .iter()
        .find(|r| r.logical_id == "LogRule")
        .unwrap();
    assert_eq!(log.event_bus_name, "Serverlesspresso");
    assert_eq!(log.targets[0].arn, publisher);
    assert_eq!(log.targets[0].input_path.as_deref(), Some("$.detail"));
    assert_eq!(log.state, "ENABLED");

    let start = stack
        .rules
        .iter()
        .find(|r| r.logical_id == "OrderProcessorStart")
        .unwrap();
    assert_eq!(
        start.event_pattern,
        Some(json!({"detail-type": ["Validator.NewOrder"]}))
    );
    assert_eq!(start.targets[0].arn, stack.state_machines[0].arn);
    assert_eq!(
        start.targets[0].id,
        "OrderProcessorStartStepFunctionsTarget"
    );

    let changed = stack
        .rules
        .iter()
        .find(|r| r.logical_id == "PublisherFnChanged")
        .unwrap();
    assert_eq!(changed.targets[0].arn, publisher);
    assert_eq!(changed.event_bus_name, "Serverlesspresso");
    assert_eq!(stack.rules.len(), 3);
}

#[test]
fn state_machine_definitions_are_read_beside_the_template_and_substituted() {
    let stack = app(&["AdminEmail=a@example.com"]);
    let sm = &stack.state_machines[0];
    assert_eq!(
        sm.arn,
        "arn:aws:states:eu-west-1:123456789012:stateMachine:cafe-OrderProcessor"
    );
    assert_eq!(sm.kind, "STANDARD");
    let def: serde_json::Value = serde_json::from_str(&sm.definition).unwrap();
    assert_eq!(
        def["States"]["Put"]["Parameters"]["TableName"],
        "cafe-OrderTable"
    );
    assert_eq!(
        def["States"]["Notify"]["Parameters"]["FunctionName"],
        "arn:aws:lambda:eu-west-1:123456789012:function:cafe-PublisherFn"
    );
}

#[test]
fn functions_map_to_crates_and_routes_take_the_default_authorizer() {
    let stack = app(&["AdminEmail=a@example.com"]);
    let orders = stack.function("cafe-OrderFn").unwrap();
    assert_eq!(orders.crate_name, "presso-fn-orders");
    assert_eq!(orders.environment["TABLE_NAME"], "cafe-OrderTable");
    assert_eq!(orders.environment["BUS_NAME"], "Serverlesspresso");
    assert_eq!(
        orders.environment["ROLE"], "Role.Arn",
        "a skipped resource's attribute is a placeholder"
    );
    let submit = &orders
        .http_routes
        .iter()
        .find(|r| r.event_name == "Submit")
        .unwrap();
    assert_eq!(submit.route_key(), "POST /api/orders");
    assert_eq!(submit.authorizer.as_deref(), Some("Cognito"));
    let menu = &orders
        .http_routes
        .iter()
        .find(|r| r.event_name == "Menu")
        .unwrap();
    assert_eq!(menu.route_key(), "GET /api/menu/{eventId}");
    assert_eq!(menu.authorizer, None, "Authorizer: NONE opens the route");

    let config = stack.function("ConfigFn").unwrap();
    assert_eq!(
        config.http_routes[0].api_logical_id,
        presso_template::IMPLICIT_HTTP_API
    );
    assert_eq!(config.http_routes[0].authorizer, None);
}

#[test]
fn http_apis_carry_jwt_authorizers_and_cors() {
    let stack = app(&["AdminEmail=a@example.com"]);
    let api = stack
        .http_apis
        .iter()
        .find(|a| a.logical_id == "Api")
        .unwrap();
    let pool = &stack.user_pools[0];
    let client = &stack.user_pool_clients[0];
    let jwt = &api.authorizers["Cognito"];
    assert_eq!(
        jwt.issuer,
        format!("https://cognito-idp.eu-west-1.amazonaws.com/{}", pool.id)
    );
    assert_eq!(jwt.audience, vec![client.id.clone()]);
    assert_eq!(jwt.identity_source, "$request.header.Authorization");
    let cors = api.cors.as_ref().unwrap();
    assert_eq!(cors.allow_methods, vec!["GET", "POST"]);
    assert_eq!(cors.max_age, Some(600));
    let implicit = stack
        .http_apis
        .iter()
        .find(|a| a.logical_id == presso_template::IMPLICIT_HTTP_API)
        .unwrap();
    assert!(
        implicit.cors.is_some(),
        "the implicit API takes Globals.HttpApi"
    );
    assert_ne!(implicit.id, api.id);
}

#[test]
fn cognito_resources_resolve_to_stable_ids() {
    let stack = app(&["AdminEmail=barista@example.com"]);
    let pool = &stack.user_pools[0];
    assert_eq!(pool.name, "presso-users");
    assert!(pool.id.starts_with("eu-west-1_") && pool.id.len() == "eu-west-1_".len() + 9);
    assert_eq!(pool.properties["UsernameAttributes"], json!(["email"]));
    assert!(pool.properties.get("UserPoolName").is_none());
    let client = &stack.user_pool_clients[0];
    assert_eq!(client.user_pool_id, pool.id);
    assert_eq!(client.name, "presso-apps");
    assert_eq!(client.id.len(), 26);
    assert_eq!(client.properties["ExplicitAuthFlows"][0], "ALLOW_USER_AUTH");
    let group = &stack.user_pool_groups[0];
    assert_eq!((group.name.as_str(), group.precedence), ("admin", Some(1)));
    let user = &stack.user_pool_users[0];
    assert_eq!(user.username, "barista@example.com");
    assert_eq!(
        user.attributes,
        vec![("email".to_string(), "barista@example.com".to_string())]
    );
    let attach = &stack.user_to_group[0];
    assert_eq!(
        (attach.username.as_str(), attach.group_name.as_str()),
        ("barista@example.com", "admin")
    );
    let again = app(&["AdminEmail=barista@example.com"]);
    assert_eq!(again.user_pools[0].id, pool.id);
    assert_eq!(again.user_pool_clients[0].id, client.id);
}

#[test]
fn unknown_types_and_event_types_are_warnings_not_errors() {
    let stack = app(&["AdminEmail=a@example.com"]);
    let warnings: Vec<String> = stack.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("Resources.Role: type \"AWS::IAM::Role\"")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w
                .starts_with("Resources.PublisherFn.Properties.Events.Legacy: event type \"SQS\"")),
        "{warnings:?}"
    );
}

#[test]
fn json_templates_are_read_too() {
    let stack = load(&fixtures().join("app.json"), &options(&[])).unwrap();
    assert_eq!(stack.tables[0].name, "cafe-t");
}

#[test]
fn every_failure_names_its_place() {
    let text = std::fs::read_to_string(fixtures().join("errors.txt")).unwrap();
    let mut cases = 0;
    for case in text.split("\n--- ").skip(1) {
        let (name, rest) = case.split_once('\n').unwrap();
        let (body, expected) = rest.rsplit_once("=> ").unwrap();
        let expected = expected.trim();
        let overrides: &[&str] = if name.contains("override") {
            &["Nope=1"]
        } else {
            &[]
        };
        let result = parse(body, &fixtures(), &options(overrides));
        let message = match result {
            Ok(_) => panic!("case {name:?} loaded, expected {expected:?}"),
            Err(e @ TemplateError::Invalid { .. } | e @ TemplateError::Unsupported { .. }) => {
                e.to_string()
            }
            Err(e) => panic!("case {name:?}: unexpected kind of error {e}"),
        };
        assert!(
            message.starts_with(expected),
            "case {name:?}:\n got  {message}\n want {expected}"
        );
        cases += 1;
    }
    assert_eq!(cases, 13);
}

#[test]
fn malformed_yaml_is_a_syntax_error() {
    let err = parse("Resources: [unclosed", &fixtures(), &options(&[])).unwrap_err();
    assert!(matches!(err, TemplateError::Syntax { .. }), "{err}");
}
