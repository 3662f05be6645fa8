//! Step Functions on `presso serve`, driven as users drive AWS: the Rust SDK, the `aws` CLI,
//! task tokens read from the execution history, and `POST /_presso/clock` to make timeouts
//! happen now.

mod cli;
mod restart;
mod support;

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use serde_json::{Value, json};
use support::{ROLE, aws_json, eventually};

const ORDER_PROCESSOR: &str = include_str!("order-processor.asl.json");

/// The tables the Order Processor reads and writes, with the store open for event `E`.
async fn seed_tables(endpoint: &str, store_open: bool) {
    for table in [
        "serverlesspresso-config-table",
        "serverlesspresso-counting-table",
    ] {
        let (status, body) = aws_json(
            endpoint,
            "DynamoDB_20120810.CreateTable",
            &json!({"TableName": table, "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}]}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    put_item(
        endpoint,
        "serverlesspresso-config-table",
        json!({"PK": {"S": "config-E"}, "storeOpen": {"BOOL": store_open}}),
    )
    .await;
    put_item(
        endpoint,
        "serverlesspresso-counting-table",
        json!({"PK": {"S": "orderID-E"}, "IDvalue": {"N": "0"}}),
    )
    .await;
    // The bus the workflow publishes on (presso's EventBridge, when it answers).
    let _ = aws_json(
        endpoint,
        "AWSEvents.CreateEventBus",
        &json!({"Name": "Serverlesspresso"}),
    )
    .await;
    let _ = aws_json(
        endpoint,
        "AWSEvents.PutRule",
        &json!({"Name": "orders", "EventBusName": "Serverlesspresso",
                "EventPattern": "{\"source\": [\"awsserverlessda.serverlesspresso\"]}"}),
    )
    .await;
}

async fn put_item(endpoint: &str, table: &str, item: Value) {
    let (status, body) = aws_json(
        endpoint,
        "DynamoDB_20120810.PutItem",
        &json!({"TableName": table, "Item": item}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn counter(endpoint: &str) -> String {
    let (_, got) = aws_json(
        endpoint,
        "DynamoDB_20120810.GetItem",
        &json!({"TableName": "serverlesspresso-counting-table", "Key": {"PK": {"S": "orderID-E"}}}),
    )
    .await;
    got["Item"]["IDvalue"]["N"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

async fn create_machine(c: &Client, name: &str, definition: &str) -> String {
    c.create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateStateMachine")
        .state_machine_arn()
        .to_string()
}

async fn start(c: &Client, sm: &str, input: &Value) -> String {
    c.start_execution()
        .state_machine_arn(sm)
        .input(input.to_string())
        .send()
        .await
        .expect("StartExecution")
        .execution_arn()
        .to_string()
}

fn order(order_id: &str) -> Value {
    json!({"detail": {"orderId": order_id, "userId": "customer-1", "bucket": {"eventId": "E"}}})
}

/// The task token of the latest `TaskScheduled` event publishing `detail_type`, read from
/// the history as one does on AWS.
async fn token_for(c: &Client, exec: &str, detail_type: &str) -> String {
    eventually(10, &format!("a {detail_type} task in {exec}"), || async {
        let h = c
            .get_execution_history()
            .execution_arn(exec)
            .reverse_order(true)
            .send()
            .await
            .expect("GetExecutionHistory");
        h.events().iter().find_map(|e| {
            if e.r#type() != &HistoryEventType::TaskScheduled {
                return None;
            }
            let params: Value =
                serde_json::from_str(e.task_scheduled_event_details()?.parameters()).ok()?;
            let entry = &params["Entries"][0];
            (entry["DetailType"] == detail_type)
                .then(|| entry["Detail"]["TaskToken"].as_str().map(str::to_string))
                .flatten()
        })
    })
    .await
}

async fn finished(c: &Client, exec: &str) -> (ExecutionStatus, Value) {
    eventually(10, &format!("{exec} to finish"), || async {
        let d = c
            .describe_execution()
            .execution_arn(exec)
            .send()
            .await
            .expect("DescribeExecution");
        (d.status() != &ExecutionStatus::Running).then(|| {
            (
                d.status().clone(),
                d.output()
                    .and_then(|o| serde_json::from_str(o).ok())
                    .unwrap_or(Value::Null),
            )
        })
    })
    .await
}

/// What a state passed on, from its `StateExited` event.
async fn state_output(c: &Client, exec: &str, state: &str) -> Value {
    let h = c
        .get_execution_history()
        .execution_arn(exec)
        .max_results(1000)
        .send()
        .await
        .expect("GetExecutionHistory");
    h.events()
        .iter()
        .find_map(|e| {
            let d = e.state_exited_event_details()?;
            (d.name() == state).then(|| serde_json::from_str(d.output()?).ok())?
        })
        .unwrap_or_else(|| panic!("{state} never exited in {exec}"))
}

fn detail_types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["DetailType"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_processor_runs_to_completion_driven_by_sdk_and_cli_calls() {
    let presso = support::spawn_presso().await;
    let c = support::client(&presso.endpoint);
    seed_tables(&presso.endpoint, true).await;
    let sm = create_machine(&c, "OrderProcessor", ORDER_PROCESSOR).await;
    let exec = start(&c, &sm, &order("1")).await;

    let started = token_for(&c, &exec, "OrderProcessor.WorkflowStarted").await;
    c.send_task_success()
        .task_token(&started)
        .output("{}")
        .send()
        .await
        .expect("SendTaskSuccess");

    let waiting = token_for(&c, &exec, "OrderProcessor.WaitingCompletion").await;
    let endpoint = presso.endpoint.clone();
    tokio::task::spawn_blocking(move || {
        support::aws_ok(
            &endpoint,
            &[
                "send-task-success",
                "--task-output",
                "{\"orderId\":1}",
                "--task-token",
                &waiting,
            ],
        )
    })
    .await
    .unwrap();

    let (status, output) = finished(&c, &exec).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    assert_eq!(output["FailedEntryCount"], 0, "the last putEvents' result");
    let passed = state_output(&c, &exec, "Pass").await;
    assert_eq!(passed["Order"]["Payload"]["orderNumber"], "1");
    assert_eq!(passed["order"], json!({"orderId": 1}));
    assert_eq!(counter(&presso.endpoint).await, "1");
    let events = support::recorded_events(&presso.endpoint).await;
    assert_eq!(
        detail_types(&events),
        [
            "OrderProcessor.WorkflowStarted",
            "OrderProcessor.WaitingCompletion",
            "OrderProcessor.orderFinished"
        ]
    );
    let detail: Value = serde_json::from_str(events[1]["Detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["orderNumber"], "1");

    // The ListExecutions task saw this execution running.
    let h = c
        .get_execution_history()
        .execution_arn(&exec)
        .max_results(1000)
        .send()
        .await
        .unwrap();
    let listed = h
        .events()
        .iter()
        .find_map(|e| {
            let d = e.task_succeeded_event_details()?;
            (d.resource() == "listExecutions").then(|| d.output().unwrap_or("").to_string())
        })
        .expect("a listExecutions result");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["Executions"][0]["ExecutionArn"], exec.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_who_never_orders_times_out_and_the_spent_token_is_refused() {
    let presso = support::spawn_presso().await;
    let c = support::client(&presso.endpoint);
    seed_tables(&presso.endpoint, true).await;
    let sm = create_machine(&c, "OrderProcessor", ORDER_PROCESSOR).await;
    let exec = start(&c, &sm, &order("7")).await;
    let token = token_for(&c, &exec, "OrderProcessor.WorkflowStarted").await;

    support::advance(&presso.endpoint, 301).await;
    let (status, _) = finished(&c, &exec).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    let caught = state_output(&c, &exec, "Customer timedout").await;
    assert_eq!(caught["cause"], "Customer timedout");
    assert_eq!(caught["comment"]["Error"], "States.Timeout");

    let late = c
        .send_task_success()
        .task_token(&token)
        .output("{}")
        .send()
        .await
        .expect_err("a spent token is refused");
    assert!(late.into_service_error().is_task_timed_out());
    let events = support::recorded_events(&presso.endpoint).await;
    assert_eq!(
        detail_types(&events),
        [
            "OrderProcessor.WorkflowStarted",
            "OrderProcessor.OrderTimeOut"
        ]
    );
    assert_eq!(counter(&presso.endpoint).await, "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_barista_who_never_completes_times_out_after_fifteen_minutes() {
    let presso = support::spawn_presso().await;
    let c = support::client(&presso.endpoint);
    seed_tables(&presso.endpoint, true).await;
    let sm = create_machine(&c, "OrderProcessor", ORDER_PROCESSOR).await;
    let exec = start(&c, &sm, &order("8")).await;
    let token = token_for(&c, &exec, "OrderProcessor.WorkflowStarted").await;
    c.send_task_success()
        .task_token(&token)
        .output("{}")
        .send()
        .await
        .unwrap();
    let waiting = token_for(&c, &exec, "OrderProcessor.WaitingCompletion").await;
    // A heartbeat resets the barista's 15 minutes.
    support::advance(&presso.endpoint, 800).await;
    c.send_task_heartbeat()
        .task_token(&waiting)
        .send()
        .await
        .unwrap();
    support::advance(&presso.endpoint, 800).await;
    let d = c
        .describe_execution()
        .execution_arn(&exec)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status(), &ExecutionStatus::Running);
    support::advance(&presso.endpoint, 101).await;
    let (status, _) = finished(&c, &exec).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    let caught = state_output(&c, &exec, "Barista timedout").await;
    assert_eq!(caught["cause"], "Barista timedout");
    let events = support::recorded_events(&presso.endpoint).await;
    let last: Value =
        serde_json::from_str(events.last().unwrap()["Detail"].as_str().unwrap()).unwrap();
    assert_eq!(last["cause"], "Barista timedout");
    assert_eq!(counter(&presso.endpoint).await, "1");
    let late = c
        .send_task_failure()
        .task_token(&waiting)
        .error("Late")
        .send()
        .await
        .expect_err("a spent token is refused");
    assert!(late.into_service_error().is_task_timed_out());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_shop_sends_shop_unavailable_and_ends() {
    let presso = support::spawn_presso().await;
    let c = support::client(&presso.endpoint);
    seed_tables(&presso.endpoint, false).await;
    let sm = create_machine(&c, "OrderProcessor", ORDER_PROCESSOR).await;
    let exec = start(&c, &sm, &order("9")).await;
    let (status, _) = finished(&c, &exec).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    let events = support::recorded_events(&presso.endpoint).await;
    assert_eq!(detail_types(&events), ["OrderProcessor.ShopUnavailable"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_errors_reach_the_workflow_under_aws_names() {
    let presso = support::spawn_presso().await;
    let c = support::client(&presso.endpoint);
    seed_tables(&presso.endpoint, true).await;
    let def = json!({"StartAt": "Put", "States": {
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem",
                "Parameters": {"TableName": "serverlesspresso-counting-table", "Item": {"PK": {"S": "orderID-E"}},
                               "ConditionExpression": "attribute_not_exists(PK)"},
                "Catch": [{"ErrorEquals": ["DynamoDb.ConditionalCheckFailedException"], "ResultPath": "$.err", "Next": "Caught"}],
                "End": true},
        "Caught": {"Type": "Pass", "End": true}}});
    let sm = create_machine(&c, "Conditional", &def.to_string()).await;
    let exec = start(&c, &sm, &json!({})).await;
    let (status, output) = finished(&c, &exec).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    assert_eq!(
        output["err"]["Error"],
        "DynamoDb.ConditionalCheckFailedException"
    );
    // The optimized integration says `DynamoDB.` (as the order processor's Catch expects).
    let optimized = json!({"StartAt": "Put", "States": {
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "serverlesspresso-counting-table", "Item": {"PK": {"S": "orderID-E"}},
                               "ConditionExpression": "attribute_not_exists(PK)"},
                "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.err", "Next": "Caught"}],
                "End": true},
        "Caught": {"Type": "Pass", "End": true}}});
    let sm = create_machine(&c, "ConditionalOptimized", &optimized.to_string()).await;
    let exec = start(&c, &sm, &json!({})).await;
    let (status, output) = finished(&c, &exec).await;
    assert_eq!(status, ExecutionStatus::Succeeded, "{output}");
    assert_eq!(
        output["err"]["Error"],
        "DynamoDB.ConditionalCheckFailedException"
    );

    let lambda = json!({"StartAt": "Call", "States": {"Call": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "nobody"}, "End": true}}});
    let sm = create_machine(&c, "NoLambda", &lambda.to_string()).await;
    let exec = start(&c, &sm, &json!({})).await;
    let (status, _) = finished(&c, &exec).await;
    assert_eq!(status, ExecutionStatus::Failed);
    let d = c
        .describe_execution()
        .execution_arn(&exec)
        .send()
        .await
        .unwrap();
    assert_eq!(d.error(), Some("Lambda.ResourceNotFoundException"));

    let unknown = json!({"StartAt": "S3", "States": {"S3": {"Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:s3:putObject", "Parameters": {"Bucket": "b", "Key": "k"}, "End": true}}});
    let sm = create_machine(&c, "Unknown", &unknown.to_string()).await;
    let exec = start(&c, &sm, &json!({})).await;
    let (status, _) = finished(&c, &exec).await;
    assert_eq!(
        status,
        ExecutionStatus::Failed,
        "an unknown resource never succeeds"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_executions_and_history_paginate_filter_and_reverse() {
    let presso = support::spawn_presso().await;
    let c = support::client(&presso.endpoint);
    let wait = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "Next": "P"},
        "P": {"Type": "Pass", "End": true}}});
    let sm = create_machine(&c, "Waits", &wait.to_string()).await;
    let mut arns = Vec::new();
    for i in 0..7 {
        arns.push(start(&c, &sm, &json!({"i": i})).await);
    }
    c.stop_execution()
        .execution_arn(&arns[0])
        .error("Stopped")
        .cause("by the test")
        .send()
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = c
            .list_executions()
            .state_machine_arn(&sm)
            .status_filter(ExecutionStatus::Running)
            .max_results(4)
            .set_next_token(next.clone())
            .send()
            .await
            .unwrap();
        seen.extend(
            page.executions()
                .iter()
                .map(|e| e.execution_arn().to_string()),
        );
        next = page.next_token().map(str::to_string);
        if next.is_none() {
            break;
        }
    }
    let mut want: Vec<String> = arns[1..].to_vec();
    want.reverse();
    assert_eq!(seen, want, "newest first, stopped one filtered out");

    support::advance(&presso.endpoint, 60).await;
    let (status, _) = finished(&c, &arns[6]).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    let all = c
        .get_execution_history()
        .execution_arn(&arns[6])
        .send()
        .await
        .unwrap();
    let types: Vec<String> = all
        .events()
        .iter()
        .map(|e| e.r#type().as_str().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    let first = c
        .get_execution_history()
        .execution_arn(&arns[6])
        .reverse_order(true)
        .max_results(2)
        .include_execution_data(false)
        .send()
        .await
        .unwrap();
    assert_eq!(first.events().len(), 2);
    assert_eq!(
        first.events()[0].r#type(),
        &HistoryEventType::ExecutionSucceeded
    );
    assert!(
        first.events()[0]
            .execution_succeeded_event_details()
            .is_none_or(|d| d.output().is_none())
    );
    let rest = c
        .get_execution_history()
        .execution_arn(&arns[6])
        .reverse_order(true)
        .max_results(2)
        .next_token(first.next_token().expect("more pages"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        rest.events()[0].r#type(),
        &HistoryEventType::PassStateEntered
    );
    let stopped = c
        .describe_execution()
        .execution_arn(&arns[0])
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status(), &ExecutionStatus::Aborted);
    assert_eq!(stopped.error(), Some("Stopped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_name_and_input_is_the_same_execution_and_other_input_clashes() {
    let presso = support::spawn_presso().await;
    let c = support::client(&presso.endpoint);
    let wait =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}});
    let sm = create_machine(&c, "Idem", &wait.to_string()).await;
    let go = |input: &'static str| {
        c.start_execution()
            .state_machine_arn(&sm)
            .name("order-1")
            .input(input)
            .send()
    };
    let a = go("{\"a\":1}").await.unwrap();
    let b = go("{\"a\":1}").await.unwrap();
    assert_eq!(a.execution_arn(), b.execution_arn());
    assert_eq!(a.start_date(), b.start_date());
    let clash = go("{\"a\":2}").await.expect_err("different input");
    assert!(clash.into_service_error().is_execution_already_exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_aws_error_types_and_clear_messages() {
    let presso = support::spawn_presso().await;
    let c = support::client(&presso.endpoint);
    let bad = c
        .create_state_machine()
        .name("Bad")
        .definition(r#"{"StartAt": "Missing", "States": {"A": {"Type": "Pass", "End": true}}}"#)
        .role_arn(ROLE)
        .send()
        .await
        .expect_err("bad definition");
    let bad = bad.into_service_error();
    assert!(bad.is_invalid_definition(), "{bad:?}");
    assert!(bad.to_string().contains("Missing") || format!("{bad:?}").contains("Missing"));

    let name = c
        .create_state_machine()
        .name("has space")
        .definition(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#)
        .role_arn(ROLE)
        .send()
        .await
        .expect_err("bad name");
    assert!(name.into_service_error().is_invalid_name());

    let arn = c
        .describe_state_machine()
        .state_machine_arn("arn:aws:dynamodb:us-east-1:000000000000:table/x")
        .send()
        .await
        .expect_err("bad arn");
    assert!(arn.into_service_error().is_invalid_arn());

    let missing = c
        .describe_execution()
        .execution_arn("arn:aws:states:us-east-1:000000000000:execution:Nope:nope")
        .send()
        .await
        .expect_err("no such execution");
    assert!(missing.into_service_error().is_execution_does_not_exist());

    let token = c
        .send_task_success()
        .task_token("not-a-token")
        .output("{}")
        .send()
        .await
        .expect_err("bad token");
    assert!(token.into_service_error().is_invalid_token());

    let sm = create_machine(
        &c,
        "Ok",
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#,
    )
    .await;
    let input = c
        .start_execution()
        .state_machine_arn(&sm)
        .input("{not json")
        .send()
        .await
        .expect_err("bad input");
    assert!(input.into_service_error().is_invalid_execution_input());

    let (status, body) = support::http(
        &presso.endpoint,
        "POST",
        "/",
        &[("X-Amz-Target", "AWSStepFunctions.ListStateMachines")],
        "{not json",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "SerializationException");
    let (status, body) = aws_json(
        &presso.endpoint,
        "AWSStepFunctions.StartExecution",
        &json!({}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "ValidationException");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("stateMachineArn")
    );
}
