//! Every operation family through the real `aws stepfunctions` CLI.

use crate::support::{self, ROLE, aws_cli, aws_ok};
use serde_json::{Value, json};

fn definition(wait: u64) -> String {
    json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
                "Parameters": {"Entries": [{"Source": "cli", "DetailType": "Ask",
                    "Detail": {"TaskToken.$": "$$.Task.Token"}}]},
                "HeartbeatSeconds": 600, "ResultPath": "$.answer", "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": wait, "End": true}}})
    .to_string()
}

fn token_of(endpoint: &str, exec: &str) -> String {
    let h = aws_ok(
        endpoint,
        &[
            "get-execution-history",
            "--execution-arn",
            exec,
            "--reverse-order",
        ],
    );
    h["events"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| {
            let p: Value =
                serde_json::from_str(e["taskScheduledEventDetails"]["parameters"].as_str()?)
                    .ok()?;
            p["Entries"][0]["Detail"]["TaskToken"]
                .as_str()
                .map(str::to_string)
        })
        .expect("a TaskScheduled event with a token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_drives_every_operation_family() {
    let presso = support::spawn_presso().await;
    let endpoint = presso.endpoint.clone();
    tokio::task::spawn_blocking(move || {
        let e = endpoint.as_str();
        let v = aws_ok(
            e,
            &[
                "validate-state-machine-definition",
                "--definition",
                &definition(0),
            ],
        );
        assert_eq!(v["result"], "OK");
        let created = aws_ok(
            e,
            &[
                "create-state-machine",
                "--name",
                "Cli",
                "--definition",
                &definition(0),
                "--role-arn",
                ROLE,
            ],
        );
        let sm = created["stateMachineArn"].as_str().unwrap().to_string();
        assert_eq!(sm, "arn:aws:states:us-east-1:000000000000:stateMachine:Cli");
        let updated = aws_ok(
            e,
            &[
                "update-state-machine",
                "--state-machine-arn",
                &sm,
                "--definition",
                &definition(3600),
                "--publish",
            ],
        );
        assert_eq!(updated["stateMachineVersionArn"], format!("{sm}:1"));
        let d = aws_ok(e, &["describe-state-machine", "--state-machine-arn", &sm]);
        assert!(
            d["definition"]
                .as_str()
                .unwrap()
                .contains("\"Seconds\":3600")
        );
        let l = aws_ok(e, &["list-state-machines"]);
        assert_eq!(l["stateMachines"][0]["name"], "Cli");

        // One execution answered with success, one with failure, one stopped.
        let mut execs = Vec::new();
        for name in ["ok", "fails", "stopped"] {
            let s = aws_ok(
                e,
                &[
                    "start-execution",
                    "--state-machine-arn",
                    &sm,
                    "--name",
                    name,
                    "--input",
                    "{\"n\":1}",
                ],
            );
            execs.push(s["executionArn"].as_str().unwrap().to_string());
        }
        let t = token_of(e, &execs[0]);
        aws_ok(e, &["send-task-heartbeat", "--task-token", &t]);
        aws_ok(
            e,
            &[
                "send-task-success",
                "--task-output",
                "{\"orderId\":1}",
                "--task-token",
                &t,
            ],
        );
        let t = token_of(e, &execs[1]);
        aws_ok(
            e,
            &[
                "send-task-failure",
                "--task-token",
                &t,
                "--error",
                "Barista.Cancelled",
                "--cause",
                "out of milk",
            ],
        );
        aws_ok(
            e,
            &[
                "stop-execution",
                "--execution-arn",
                &execs[2],
                "--error",
                "Ops",
                "--cause",
                "cleanup",
            ],
        );
        let failed = aws_ok(e, &["describe-execution", "--execution-arn", &execs[1]]);
        assert_eq!(failed["status"], "FAILED");
        assert_eq!(failed["error"], "Barista.Cancelled");
        let stopped = aws_ok(e, &["describe-execution", "--execution-arn", &execs[2]]);
        assert_eq!(stopped["status"], "ABORTED");
        let running = aws_ok(
            e,
            &[
                "list-executions",
                "--state-machine-arn",
                &sm,
                "--status-filter",
                "RUNNING",
            ],
        );
        let names: Vec<&str> = running["executions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ok"], "the answered one waits an hour");
        let for_exec = aws_ok(
            e,
            &[
                "describe-state-machine-for-execution",
                "--execution-arn",
                &execs[0],
            ],
        );
        assert!(
            for_exec["definition"]
                .as_str()
                .unwrap()
                .contains("\"Seconds\":3600")
        );

        let (ok, _, err) = aws_cli(
            e,
            &[
                "send-task-success",
                "--task-output",
                "{}",
                "--task-token",
                &t,
            ],
        );
        assert!(!ok && err.contains("TaskTimedOut"), "{err}");
        let (ok, _, err) = aws_cli(
            e,
            &[
                "send-task-success",
                "--task-output",
                "{}",
                "--task-token",
                "bogus",
            ],
        );
        assert!(!ok && err.contains("InvalidToken"), "{err}");
        let (ok, _, err) = aws_cli(
            e,
            &[
                "create-state-machine",
                "--name",
                "Bad",
                "--definition",
                "{\"StartAt\":\"X\",\"States\":{}}",
                "--role-arn",
                ROLE,
            ],
        );
        assert!(!ok && err.contains("InvalidDefinition"), "{err}");
        let (ok, _, err) = aws_cli(
            e,
            &[
                "describe-execution",
                "--execution-arn",
                "arn:aws:states:us-east-1:000000000000:execution:Cli:none",
            ],
        );
        assert!(!ok && err.contains("ExecutionDoesNotExist"), "{err}");
        aws_ok(e, &["delete-state-machine", "--state-machine-arn", &sm]);
        let (ok, _, err) = aws_cli(e, &["describe-state-machine", "--state-machine-arn", &sm]);
        assert!(!ok && err.contains("StateMachineDoesNotExist"), "{err}");
        execs[0].clone()
    })
    .await
    .expect("the CLI steps run");
}
