//! The service through its API, in process: operations, callbacks, timers on a manual clock,
//! the internal integrations and reopening the database.

use presso_sfn::{Clock, Hooks, RecordingEventSink, Service, ServiceConfig, SfnError};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

/// A clock that moves only when told to.
#[derive(Default)]
struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        1_700_000_000_000 + self.0.load(Ordering::SeqCst)
    }
    fn real_delay_until(&self, at_ms: i64) -> Duration {
        if at_ms <= self.now_ms() {
            Duration::ZERO
        } else {
            Duration::from_secs(3600)
        }
    }
}

struct Fixture {
    svc: Service,
    clock: Arc<ManualClock>,
    events: RecordingEventSink,
}

fn fixture(dir: Option<&std::path::Path>) -> Fixture {
    let clock = Arc::new(ManualClock::default());
    let events = RecordingEventSink::new();
    let hooks = Hooks {
        clock: clock.clone(),
        events: Arc::new(events.clone()),
        ..Hooks::default()
    };
    let config = ServiceConfig {
        data_dir: dir.map(|d| d.to_path_buf()),
        ..ServiceConfig::in_memory()
    };
    Fixture {
        svc: Service::open(config, hooks).expect("service opens"),
        clock,
        events,
    }
}

impl Fixture {
    async fn call(&self, op: &str, body: Value) -> Value {
        self.svc
            .call(op, body)
            .await
            .unwrap_or_else(|e| panic!("{op} failed: {e:?}"))
    }

    async fn machine(&self, name: &str, def: Value) -> String {
        let out = self
            .call(
                "CreateStateMachine",
                json!({"name": name, "definition": def.to_string(), "roleArn": "arn:aws:iam::000000000000:role/r"}),
            )
            .await;
        out["stateMachineArn"].as_str().unwrap().to_string()
    }

    async fn start(&self, sm: &str, input: Value) -> String {
        let out = self
            .call(
                "StartExecution",
                json!({"stateMachineArn": sm, "input": input.to_string()}),
            )
            .await;
        out["executionArn"].as_str().unwrap().to_string()
    }

    async fn status(&self, exec: &str) -> String {
        self.call("DescribeExecution", json!({"executionArn": exec}))
            .await["status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn wait_status(&self, exec: &str, want: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let d = self
                .call("DescribeExecution", json!({"executionArn": exec}))
                .await;
            if d["status"] == want {
                return d;
            }
            assert!(Instant::now() < deadline, "{exec} stayed {}", d["status"]);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn advance(&self, secs: i64) {
        self.clock.0.fetch_add(secs * 1000, Ordering::SeqCst);
        self.svc.clock_changed();
    }

    async fn token(&self, exec: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let h = self
                .call(
                    "GetExecutionHistory",
                    json!({"executionArn": exec, "reverseOrder": true}),
                )
                .await;
            for e in h["events"].as_array().unwrap() {
                if e["type"] == "TaskScheduled" {
                    let p: Value = serde_json::from_str(
                        e["taskScheduledEventDetails"]["parameters"]
                            .as_str()
                            .unwrap(),
                    )
                    .unwrap();
                    return p["Entries"][0]["Detail"]["TaskToken"]
                        .as_str()
                        .unwrap()
                        .to_string();
                }
            }
            assert!(Instant::now() < deadline, "no task scheduled in {exec}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn callback(heartbeat: u64) -> Value {
    json!({
        "StartAt": "Emit",
        "States": {
            "Emit": {
                "Type": "Task",
                "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
                "HeartbeatSeconds": heartbeat,
                "Parameters": {"Entries": [{"Source": "t", "DetailType": "d",
                    "Detail": {"TaskToken.$": "$$.Task.Token", "n.$": "$.n"}}]},
                "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.err", "Next": "Late"}],
                "End": true
            },
            "Late": {"Type": "Pass", "Result": "late", "End": true}
        }
    })
}

#[tokio::test]
async fn a_pass_machine_succeeds_within_start_execution() {
    let f = fixture(None);
    let sm = f
        .machine(
            "pass",
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"x": 1}, "End": true}}}),
        )
        .await;
    let exec = f.start(&sm, json!({})).await;
    let d = f
        .call("DescribeExecution", json!({"executionArn": exec}))
        .await;
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"], "{\"x\":1}");
    let h = f
        .call("GetExecutionHistory", json!({"executionArn": exec}))
        .await;
    let types: Vec<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test]
async fn finished_executions_count_their_state_transitions() {
    let f = fixture(None);
    assert_eq!(f.svc.usage(), presso_sfn::Usage::default());
    let sm = f
        .machine(
            "three",
            json!({"StartAt": "A", "States": {
                "A": {"Type": "Pass", "Next": "B"},
                "B": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "C"}], "Default": "C"},
                "C": {"Type": "Succeed"}}}),
        )
        .await;
    f.start(&sm, json!({"x": 1})).await;
    f.start(&sm, json!({"x": 2})).await;
    let u = f.svc.usage();
    assert_eq!(u.executions_finished, 2);
    assert_eq!(u.state_transitions, 6, "{u:?}");
}

#[tokio::test]
async fn a_callback_task_completes_on_send_task_success_and_its_token_is_then_spent() {
    let f = fixture(None);
    let sm = f.machine("cb", callback(60)).await;
    let exec = f.start(&sm, json!({"n": 7})).await;
    let token = f.token(&exec).await;
    assert_eq!(f.status(&exec).await, "RUNNING");
    f.call(
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "{\"ok\":true}"}),
    )
    .await;
    let d = f.wait_status(&exec, "SUCCEEDED").await;
    assert_eq!(d["output"], "{\"ok\":true}");
    let again = f
        .svc
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{}"}),
        )
        .await;
    assert!(matches!(again, Err(SfnError::TaskTimedOut(_))), "{again:?}");
    let bad = f
        .svc
        .call(
            "SendTaskSuccess",
            json!({"taskToken": "nope", "output": "{}"}),
        )
        .await;
    assert!(matches!(bad, Err(SfnError::InvalidToken(_))), "{bad:?}");
    let entries = f.events.entries();
    assert_eq!(entries.len(), 1);
    assert!(entries[0]["Detail"].as_str().unwrap().contains("\"n\":7"));
}

#[tokio::test]
async fn a_missed_heartbeat_times_the_task_out_into_its_catcher() {
    let f = fixture(None);
    let sm = f.machine("hb", callback(300)).await;
    let exec = f.start(&sm, json!({"n": 1})).await;
    let token = f.token(&exec).await;
    f.advance(299).await;
    f.call("SendTaskHeartbeat", json!({"taskToken": token}))
        .await;
    f.advance(299).await;
    assert_eq!(f.status(&exec).await, "RUNNING");
    f.advance(2).await;
    let d = f.wait_status(&exec, "SUCCEEDED").await;
    assert_eq!(d["output"], "\"late\"");
    let spent = f
        .svc
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{}"}),
        )
        .await;
    assert!(matches!(spent, Err(SfnError::TaskTimedOut(_))), "{spent:?}");
}

#[tokio::test]
async fn start_execution_sync_waits_for_its_child_and_list_executions_sees_it() {
    let f = fixture(None);
    let child = f
        .machine(
            "child",
            json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "Next": "P"},
                "P": {"Type": "Pass", "Parameters": {"got.$": "$.v"}, "End": true}}}),
        )
        .await;
    let parent = f
        .machine(
            "parent",
            json!({"StartAt": "Run", "States": {
                "Run": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                        "Parameters": {"StateMachineArn": child, "Input": {"v": 5}},
                        "ResultSelector": {"out.$": "$.Output"}, "Next": "List"},
                "List": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:listExecutions",
                         "Parameters": {"StateMachineArn": child}, "ResultSelector": {"n.$": "States.ArrayLength($.Executions)"},
                         "ResultPath": "$.listed", "End": true}}}),
        )
        .await;
    let exec = f.start(&parent, json!({})).await;
    assert_eq!(f.status(&exec).await, "RUNNING");
    f.advance(10).await;
    let d = f.wait_status(&exec, "SUCCEEDED").await;
    let out: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
    assert_eq!(out, json!({"out": {"got": 5}, "listed": {"n": 1}}));
}

#[tokio::test]
async fn names_are_idempotent_while_running_and_clash_otherwise() {
    let f = fixture(None);
    let sm = f.machine("idem", callback(60)).await;
    let body = json!({"stateMachineArn": sm, "name": "one", "input": "{\"n\":1}"});
    let a = f.call("StartExecution", body.clone()).await;
    let b = f.call("StartExecution", body).await;
    assert_eq!(a, b);
    let clash = f
        .svc
        .call(
            "StartExecution",
            json!({"stateMachineArn": sm, "name": "one", "input": "{\"n\":2}"}),
        )
        .await;
    assert!(matches!(clash, Err(SfnError::ExecutionAlreadyExists(_))));
}

#[tokio::test]
async fn bad_requests_get_aws_error_types() {
    let f = fixture(None);
    let bad_def = f
        .svc
        .call(
            "CreateStateMachine",
            json!({"name": "x", "definition": "{\"StartAt\": \"Nope\", \"States\": {}}", "roleArn": "r"}),
        )
        .await;
    assert!(
        matches!(bad_def, Err(SfnError::InvalidDefinition(_))),
        "{bad_def:?}"
    );
    let bad_name = f
        .svc
        .call(
            "CreateStateMachine",
            json!({"name": "a b", "definition": "{}", "roleArn": "r"}),
        )
        .await;
    assert!(matches!(bad_name, Err(SfnError::InvalidName(_))));
    let bad_arn = f
        .svc
        .call("DescribeExecution", json!({"executionArn": "not-an-arn"}))
        .await;
    assert!(matches!(bad_arn, Err(SfnError::InvalidArn(_))));
    let missing = f
        .svc
        .call(
            "StartExecution",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:none"}),
        )
        .await;
    assert!(matches!(
        missing,
        Err(SfnError::StateMachineDoesNotExist(_))
    ));
    let no_body = f.svc.call_json("ListStateMachines", b"{nope").await;
    assert!(matches!(no_body, Err(SfnError::Serialization(_))));
}

#[tokio::test]
async fn a_reopened_service_still_accepts_tokens_and_fires_late_timers() {
    let dir = tempfile::tempdir().unwrap();
    let (exec_cb, exec_wait, token) = {
        let f = fixture(Some(dir.path()));
        let cb = f.machine("cb", callback(600)).await;
        let wait = f
            .machine(
                "wait",
                json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": true}}}),
            )
            .await;
        let exec_cb = f.start(&cb, json!({"n": 1})).await;
        let exec_wait = f.start(&wait, json!({})).await;
        let token = f.token(&exec_cb).await;
        (exec_cb, exec_wait, token)
    };
    let f = fixture(Some(dir.path()));
    f.advance(60).await;
    f.wait_status(&exec_wait, "SUCCEEDED").await;
    f.call(
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "{}"}),
    )
    .await;
    f.wait_status(&exec_cb, "SUCCEEDED").await;
}
