//! EventBridge through the Rust SDK and the `aws` CLI: buses, rules, targets, PutEvents,
//! InputTransformer, the log target, dead letters and TestEventPattern.

mod support;

use serde_json::{Value, json};
use support::{aws, client, eventually, get_json, spawn_presso};

const BUS: &str = "Serverlesspresso";
const LOG_GROUP: &str = "/aws/events/serverlesspresso";

fn log_arn(group: &str) -> String {
    format!("arn:aws:logs:us-east-1:123456789012:log-group:{group}")
}

fn order_entry(
    detail_type: &str,
    drink: &str,
) -> aws_sdk_eventbridge::types::PutEventsRequestEntry {
    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .event_bus_name(BUS)
        .source("awsserverlessda.serverlesspresso")
        .detail_type(detail_type)
        .detail(json!({"eventId": "default", "drink": drink, "orderId": "o-1"}).to_string())
        .build()
}

async fn log_events(endpoint: &str, group: &str) -> Vec<Value> {
    let body = get_json(&format!("{endpoint}/_presso/logs{group}")).await;
    body["events"].as_array().cloned().unwrap_or_default()
}

async fn bus_with_rule(c: &aws_sdk_eventbridge::Client, pattern: Value) {
    c.create_event_bus().name(BUS).send().await.unwrap();
    c.put_rule()
        .name("orders")
        .event_bus_name(BUS)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn matching_events_reach_the_log_target_and_others_do_not() {
    let presso = spawn_presso().await;
    let c = client(&presso.endpoint);
    bus_with_rule(
        &c,
        json!({"source": ["awsserverlessda.serverlesspresso"], "detail-type": [{"prefix": "OrderManager."}]}),
    )
    .await;
    c.put_targets()
        .rule("orders")
        .event_bus_name(BUS)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("log")
                .arn(log_arn(LOG_GROUP))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let out = c
        .put_events()
        .entries(order_entry("Validator.NewOrder", "Latte"))
        .entries(order_entry("OrderManager.OrderCompleted", "Latte"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_entry_count(), 0);
    let completed_id = out.entries()[1].event_id().unwrap().to_string();
    let events = eventually("the matching event is logged", || async {
        let e = log_events(&presso.endpoint, LOG_GROUP).await;
        (!e.is_empty()).then_some(e)
    })
    .await;
    // A second matching event proves the first non-matching one was not merely late.
    c.put_events()
        .entries(order_entry("OrderManager.OrderCancelled", "Mocha"))
        .send()
        .await
        .unwrap();
    let events_after = eventually("the second matching event is logged", || async {
        let e = log_events(&presso.endpoint, LOG_GROUP).await;
        (e.len() >= 2).then_some(e)
    })
    .await;
    assert_eq!(events_after.len(), 2);
    let logged: Value = serde_json::from_str(events[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(logged["id"], completed_id.as_str());
    assert_eq!(logged["detail-type"], "OrderManager.OrderCompleted");
    assert_eq!(logged["source"], "awsserverlessda.serverlesspresso");
    assert_eq!(logged["detail"]["drink"], "Latte");
    for field in ["version", "account", "time", "region", "resources"] {
        assert!(logged.get(field).is_some(), "envelope has {field}");
    }
}

#[tokio::test]
async fn an_input_transformer_shapes_what_the_log_receives() {
    let presso = spawn_presso().await;
    let c = client(&presso.endpoint);
    bus_with_rule(&c, json!({"detail": {"drink": ["Latte"]}})).await;
    let transformer = aws_sdk_eventbridge::types::InputTransformer::builder()
        .input_paths_map("drink", "$.detail.drink")
        .input_paths_map("order", "$.detail.orderId")
        .input_template(r#"{"message": "order <order>: one <drink>", "drink": <drink>}"#)
        .build()
        .unwrap();
    c.put_targets()
        .rule("orders")
        .event_bus_name(BUS)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("log")
                .arn(log_arn("transformed"))
                .input_transformer(transformer)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    c.put_events()
        .entries(order_entry("Validator.NewOrder", "Latte"))
        .send()
        .await
        .unwrap();
    let events = eventually("the transformed event is logged", || async {
        let e = log_events(&presso.endpoint, "/transformed").await;
        (!e.is_empty()).then_some(e)
    })
    .await;
    let logged: Value = serde_json::from_str(events[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(
        logged,
        json!({"message": "order o-1: one Latte", "drink": "Latte"})
    );
}

#[tokio::test]
async fn a_delivery_to_a_function_presso_does_not_host_ends_in_the_dead_letters() {
    let presso = spawn_presso().await;
    let c = client(&presso.endpoint);
    bus_with_rule(&c, json!({"source": ["awsserverlessda.serverlesspresso"]})).await;
    c.put_targets()
        .rule("orders")
        .event_bus_name(BUS)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("fn")
                .arn("arn:aws:lambda:us-east-1:123456789012:function:nowhere")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let out = c
        .put_events()
        .entries(order_entry("Validator.NewOrder", "Latte"))
        .send()
        .await
        .unwrap();
    let id = out.entries()[0].event_id().unwrap().to_string();
    let dead = eventually("the failed delivery is dead-lettered", || async {
        let d = get_json(&format!("{}/_presso/dead-letters", presso.endpoint)).await;
        d.as_array().filter(|d| !d.is_empty()).cloned()
    })
    .await;
    assert_eq!(dead[0]["eventId"], id.as_str());
    assert_eq!(dead[0]["targetId"], "fn");
    assert!(dead[0]["error"].as_str().unwrap().contains("nowhere"));
}

#[tokio::test]
async fn rules_and_targets_are_managed_with_aws_errors() {
    let presso = spawn_presso().await;
    let c = client(&presso.endpoint);
    let err = c
        .describe_rule()
        .name("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = c
        .put_rule()
        .name("bad")
        .event_pattern(r#"{"source": "not-a-list"}"#)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_event_pattern_exception(), "{err:?}");
    c.create_event_bus().name(BUS).send().await.unwrap();
    let err = c
        .create_event_bus()
        .name(BUS)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_already_exists_exception(), "{err:?}");
    for i in 0..3 {
        c.put_rule()
            .name(format!("r{i}"))
            .event_bus_name(BUS)
            .event_pattern(r#"{"source": ["x"]}"#)
            .send()
            .await
            .unwrap();
    }
    let first = c
        .list_rules()
        .event_bus_name(BUS)
        .name_prefix("r")
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.rules().len(), 2);
    let rest = c
        .list_rules()
        .event_bus_name(BUS)
        .name_prefix("r")
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.rules()[0].name(), Some("r2"));
    assert!(rest.next_token().is_none());
    c.disable_rule()
        .name("r1")
        .event_bus_name(BUS)
        .send()
        .await
        .unwrap();
    let r1 = c
        .describe_rule()
        .name("r1")
        .event_bus_name(BUS)
        .send()
        .await
        .unwrap();
    assert_eq!(r1.state().map(|s| s.as_str()), Some("DISABLED"));
    assert_eq!(
        r1.arn(),
        Some("arn:aws:events:us-east-1:123456789012:rule/Serverlesspresso/r1")
    );
    let buses = c.list_event_buses().send().await.unwrap();
    let names: Vec<_> = buses
        .event_buses()
        .iter()
        .filter_map(|b| b.name())
        .collect();
    assert_eq!(names, ["Serverlesspresso", "default"]);
}

#[tokio::test]
async fn the_aws_cli_puts_events_and_tests_patterns() {
    let presso = spawn_presso().await;
    let endpoint = presso.endpoint.clone();
    let out = tokio::task::spawn_blocking(move || {
        let put = aws(
            &endpoint,
            &[
                "events",
                "put-events",
                "--entries",
                r#"[{"Source": "awsserverlessda.serverlesspresso", "DetailType": "Validator.NewOrder", "Detail": "{\"eventId\": \"default\"}"}]"#,
            ],
        );
        let event = json!({"id": "1", "account": "123456789012", "source": "awsserverlessda.serverlesspresso",
            "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
            "detail-type": "Validator.NewOrder", "detail": {"eventId": "default"}})
        .to_string();
        let yes = aws(
            &endpoint,
            &[
                "events",
                "test-event-pattern",
                "--event-pattern",
                r#"{"detail": {"eventId": ["default"]}}"#,
                "--event",
                &event,
            ],
        );
        let no = aws(
            &endpoint,
            &[
                "events",
                "test-event-pattern",
                "--event-pattern",
                r#"{"detail": {"eventId": ["other"]}}"#,
                "--event",
                &event,
            ],
        );
        (put, yes, no)
    })
    .await
    .unwrap();
    let put: Value = serde_json::from_str(&out.0).unwrap();
    assert_eq!(put["FailedEntryCount"], 0);
    assert!(put["Entries"][0]["EventId"].is_string());
    assert_eq!(
        serde_json::from_str::<Value>(&out.1).unwrap()["Result"],
        true
    );
    assert_eq!(
        serde_json::from_str::<Value>(&out.2).unwrap()["Result"],
        false
    );
}

/// One Step Functions call as raw JSON 1.0; panics unless it succeeds.
async fn sfn(endpoint: &str, op: &str, body: Value) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .header("x-amz-target", format!("AWSStepFunctions.{op}"))
        .header("content-type", "application/x-amz-json-1.0")
        .body(body.to_string())
        .send()
        .await
        .expect("POST");
    let status = resp.status();
    let value: Value = resp.json().await.expect("JSON");
    assert!(status.is_success(), "{op}: {status} {value}");
    value
}

#[tokio::test]
async fn a_state_machine_target_starts_an_execution_with_the_transformed_event() {
    let presso = spawn_presso().await;
    let created = sfn(
        &presso.endpoint,
        "CreateStateMachine",
        json!({
            "name": "OrderProcessor",
            "roleArn": "arn:aws:iam::123456789012:role/presso",
            "definition": json!({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": true}}}).to_string(),
        }),
    )
    .await;
    let machine = created["stateMachineArn"].as_str().unwrap().to_string();
    let c = client(&presso.endpoint);
    bus_with_rule(&c, json!({"detail-type": ["Validator.NewOrder"]})).await;
    c.put_targets()
        .rule("orders")
        .event_bus_name(BUS)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("workflow")
                .arn(&machine)
                .input_path("$.detail")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    c.put_events()
        .entries(order_entry("Validator.NewOrder", "Latte"))
        .send()
        .await
        .unwrap();
    let execution = eventually("the rule starts an execution", || async {
        let listed = sfn(
            &presso.endpoint,
            "ListExecutions",
            json!({"stateMachineArn": machine}),
        )
        .await;
        listed["executions"]
            .as_array()
            .and_then(|e| e.first().cloned())
    })
    .await;
    let described = sfn(
        &presso.endpoint,
        "DescribeExecution",
        json!({"executionArn": execution["executionArn"]}),
    )
    .await;
    let input: Value = serde_json::from_str(described["input"].as_str().unwrap()).unwrap();
    assert_eq!(
        input,
        json!({"eventId": "default", "drink": "Latte", "orderId": "o-1"})
    );
}
