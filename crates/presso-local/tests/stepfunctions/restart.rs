//! `kill -9` of the real binary with 250 executions pending: every one completes, once.

use crate::support::{self, PressoProcess, ROLE, aws_json};
use serde_json::{Value, json};

const CALLBACKS: usize = 200;
const WAITS: usize = 50;

async fn call(endpoint: &str, op: &str, body: Value) -> Value {
    let (status, out) = aws_json(endpoint, &format!("AWSStepFunctions.{op}"), &body).await;
    assert_eq!(status, 200, "{op}: {out}");
    out
}

async fn counter(endpoint: &str, pk: &str) -> i64 {
    let (_, got) = aws_json(
        endpoint,
        "DynamoDB_20120810.GetItem",
        &json!({"TableName": "counts", "Key": {"PK": {"S": pk}}, "ConsistentRead": true}),
    )
    .await;
    got["Item"]["n"]["N"]
        .as_str()
        .map_or(0, |n| n.parse().unwrap())
}

fn count_into(pk: &str) -> Value {
    json!({"Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
        "Parameters": {"TableName": "counts", "Key": {"PK": {"S": pk}},
            "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}},
        "End": true})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_executions_survive_kill_9_and_each_completes_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = PressoProcess::start(dir.path());
    let e = server.endpoint.clone();
    let (status, body) = aws_json(
        &e,
        "DynamoDB_20120810.CreateTable",
        &json!({"TableName": "counts", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let callback = json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
                "Parameters": {"Entries": [{"Source": "t", "DetailType": "Ask", "Detail": {"TaskToken.$": "$$.Task.Token"}}]},
                "HeartbeatSeconds": 3600, "Next": "Count"},
        "Count": count_into("callbacks")}});
    let wait = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 600, "Next": "Count"},
        "Count": count_into("waits")}});
    let cb = call(
        &e,
        "CreateStateMachine",
        json!({"name": "Callback", "definition": callback.to_string(), "roleArn": ROLE}),
    )
    .await;
    let cb = cb["stateMachineArn"].as_str().unwrap().to_string();
    let w = call(
        &e,
        "CreateStateMachine",
        json!({"name": "Waiting", "definition": wait.to_string(), "roleArn": ROLE}),
    )
    .await;
    let w = w["stateMachineArn"].as_str().unwrap().to_string();

    let mut callbacks = Vec::new();
    for i in 0..CALLBACKS {
        let out = call(
            &e,
            "StartExecution",
            json!({"stateMachineArn": cb, "name": format!("cb-{i}")}),
        )
        .await;
        callbacks.push(out["executionArn"].as_str().unwrap().to_string());
    }
    let mut waits = Vec::new();
    for i in 0..WAITS {
        let out = call(
            &e,
            "StartExecution",
            json!({"stateMachineArn": w, "name": format!("w-{i}")}),
        )
        .await;
        waits.push(out["executionArn"].as_str().unwrap().to_string());
    }
    // Tokens as a worker would read them from the history, before the crash.
    let mut tokens = Vec::new();
    for exec in &callbacks {
        let token = support::eventually(10, "the token in the history", || async {
            let h = call(&e, "GetExecutionHistory", json!({"executionArn": exec})).await;
            h["events"].as_array().unwrap().iter().find_map(|ev| {
                let p: Value =
                    serde_json::from_str(ev["taskScheduledEventDetails"]["parameters"].as_str()?)
                        .ok()?;
                p["Entries"][0]["Detail"]["TaskToken"]
                    .as_str()
                    .map(str::to_string)
            })
        })
        .await;
        tokens.push(token);
    }
    server.kill_9();

    let server = PressoProcess::start(dir.path());
    let e = server.endpoint.clone();
    for (token, i) in tokens.iter().zip(0..) {
        call(
            &e,
            "SendTaskSuccess",
            json!({"taskToken": token, "output": format!("{{\"i\":{i}}}")}),
        )
        .await;
    }
    support::advance(&e, 600).await;
    for exec in callbacks.iter().chain(&waits) {
        support::eventually(30, &format!("{exec} to succeed"), || async {
            let d = call(&e, "DescribeExecution", json!({"executionArn": exec})).await;
            assert!(
                d["status"] == "RUNNING" || d["status"] == "SUCCEEDED",
                "{d}"
            );
            (d["status"] == "SUCCEEDED").then_some(())
        })
        .await;
    }
    assert_eq!(counter(&e, "callbacks").await, CALLBACKS as i64);
    assert_eq!(counter(&e, "waits").await, WAITS as i64);
    let h = call(
        &e,
        "GetExecutionHistory",
        json!({"executionArn": callbacks[0]}),
    )
    .await;
    let types: Vec<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ev| ev["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types.iter().filter(|t| **t == "TaskScheduled").count(),
        2,
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| **t == "ExecutionSucceeded").count(),
        1
    );
    // A token spent before the restart stays spent after it.
    let (status, body) = aws_json(
        &e,
        "AWSStepFunctions.SendTaskSuccess",
        &json!({"taskToken": tokens[0], "output": "{}"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "TaskTimedOut");
}
