//! The engine driven as a host drives it: commands in, actions out, on virtual time.
//!
//! Each test plays the host: it records history, runs (or fails) the tasks it is
//! asked to run, keeps timers in a virtual clock and fires them by advancing it.

use presso_asl::{
    Action, Command, Definition, EventDetails, Execution, ExecutionError, ExecutionState,
    HistoryEvent, Outcome, StartContext, Status, TaskRequest,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const T0: i64 = 1_700_000_000_000;

struct Host {
    exe: Execution,
    now: i64,
    events: Vec<HistoryEvent>,
    /// Each event in AWS's JSON shape, in the same order as `events`.
    wire: Vec<Value>,
    tasks: Vec<TaskRequest>,
    timers: BTreeMap<u64, i64>,
    outcome: Option<Outcome>,
}

impl Host {
    fn start(def: Value, input: Value) -> Host {
        Self::start_seeded(def, input, 7)
    }

    fn start_seeded(def: Value, input: Value, seed: u64) -> Host {
        let def = Arc::new(Definition::from_value(&def).expect("valid definition"));
        let (exe, actions) =
            Execution::start(def, input, StartContext::new("Machine", "run-1", T0, seed));
        let mut h = Host {
            exe,
            now: T0,
            events: Vec::new(),
            wire: Vec::new(),
            tasks: Vec::new(),
            timers: BTreeMap::new(),
            outcome: None,
        };
        h.apply(actions);
        h
    }

    fn apply(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::History(batch) => {
                    self.wire.extend(batch.to_aws_json());
                    self.events.extend(batch.events);
                }
                Action::RunTask(t) => self.tasks.push(t),
                Action::StartTimer {
                    timer_id,
                    fire_at_ms,
                } => {
                    self.timers.insert(timer_id, fire_at_ms);
                }
                Action::CancelTimer { timer_id } => {
                    self.timers.remove(&timer_id);
                }
                Action::Finished(o) => self.outcome = Some(o),
            }
        }
    }

    fn send(&mut self, cmd: Command) -> Result<(), ExecutionError> {
        let actions = self.exe.handle(self.now, cmd)?;
        self.apply(actions);
        Ok(())
    }

    fn take_task(&mut self) -> TaskRequest {
        assert!(!self.tasks.is_empty(), "expected a task to run");
        self.tasks.remove(0)
    }

    fn succeed(&mut self, task: &TaskRequest, output: Value) {
        self.send(Command::TaskSucceeded {
            task_id: task.task_id,
            output,
        })
        .expect("task known");
    }

    fn fail(&mut self, task: &TaskRequest, error: &str) {
        self.send(Command::TaskFailed {
            task_id: task.task_id,
            error: error.into(),
            cause: Some("it broke".into()),
        })
        .expect("task known");
    }

    /// Advances the clock to the earliest timer and fires it; returns how far it moved.
    fn fire_next_timer(&mut self) -> i64 {
        let (&id, &at) = self
            .timers
            .iter()
            .min_by_key(|(id, at)| (**at, **id))
            .expect("a pending timer");
        self.timers.remove(&id);
        let moved = at - self.now;
        self.now = self.now.max(at);
        self.send(Command::TimerFired { timer_id: id })
            .expect("timer accepted");
        moved
    }

    fn types(&self) -> Vec<&'static str> {
        self.events.iter().map(HistoryEvent::event_type).collect()
    }

    fn outcome(&self) -> &Outcome {
        self.outcome.as_ref().expect("the execution finished")
    }

    fn output(&self) -> Value {
        let o = self.outcome();
        assert_eq!(o.status, Status::Succeeded, "outcome: {o:?}");
        o.output.as_deref().cloned().unwrap_or(Value::Null)
    }

    fn error(&self) -> (Option<String>, Option<String>) {
        let o = self.outcome();
        assert_eq!(o.status, Status::Failed, "outcome: {o:?}");
        (o.error.clone(), o.cause.clone())
    }
}

fn task(extra: Value) -> Value {
    let mut t = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
    if let (Value::Object(t), Value::Object(e)) = (&mut t, extra) {
        t.extend(e);
    }
    t
}

fn one_state(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

#[test]
fn pass_result_merges_into_the_input_at_result_path() {
    let h = Host::start(
        one_state(
            json!({"Type": "Pass", "Result": {"size": "L"}, "ResultPath": "$.order.extra", "End": true}),
        ),
        json!({"order": {"id": 1}}),
    );
    assert_eq!(
        h.output(),
        json!({"order": {"id": 1, "extra": {"size": "L"}}})
    );
    assert_eq!(
        h.types(),
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn pass_parameters_read_the_input_and_the_context_object() {
    let h = Host::start(
        one_state(
            json!({"Type": "Pass", "Parameters": {"id.$": "$.id", "state.$": "$$.State.Name", "exec.$": "$$.Execution.Name", "fixed": [1, {"a.$": "$.id"}]}, "End": true}),
        ),
        json!({"id": 5}),
    );
    assert_eq!(
        h.output(),
        json!({"id": 5, "state": "S", "exec": "run-1", "fixed": [1, {"a": 5}]})
    );
}

#[test]
fn input_and_output_processing_run_in_aws_order() {
    let mut h = Host::start(
        one_state(task(json!({
            "InputPath": "$.order",
            "Parameters": {"drink.$": "$.drink"},
            "ResultSelector": {"code.$": "$.Payload.code"},
            "ResultPath": "$.result",
            "OutputPath": "$.result"
        }))),
        json!({"order": {"drink": "latte"}, "noise": true}),
    );
    let t = h.take_task();
    assert_eq!(t.parameters, json!({"drink": "latte"}));
    h.succeed(&t, json!({"Payload": {"code": 7, "other": 1}}));
    assert_eq!(h.output(), json!({"code": 7}));
}

#[test]
fn result_path_null_keeps_the_input_and_output_path_null_gives_an_empty_object() {
    let mut h = Host::start(
        one_state(task(json!({"ResultPath": null}))),
        json!({"keep": 1}),
    );
    let t = h.take_task();
    h.succeed(&t, json!("ignored"));
    assert_eq!(h.output(), json!({"keep": 1}));
    let h = Host::start(
        one_state(json!({"Type": "Pass", "OutputPath": null, "End": true})),
        json!({"x": 1}),
    );
    assert_eq!(h.output(), json!({}));
}

#[test]
fn a_task_is_scheduled_with_resolved_parameters_and_its_history_has_aws_events() {
    let mut h = Host::start(
        one_state(task(
            json!({"Parameters": {"FunctionName": "f", "Payload.$": "$"}, "TimeoutSeconds": 30}),
        )),
        json!({"n": 1}),
    );
    let t = h.take_task();
    assert_eq!(t.resource_type, "lambda");
    assert_eq!(t.resource_name, "invoke");
    assert_eq!(t.timeout_seconds, Some(30));
    assert_eq!(t.token, None);
    h.succeed(&t, json!({"ok": true}));
    assert_eq!(h.output(), json!({"ok": true}));
    assert_eq!(
        h.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let scheduled = h.wire[2].clone();
    let d = &scheduled["taskScheduledEventDetails"];
    assert_eq!(d["resourceType"], "lambda");
    assert_eq!(d["resource"], "invoke");
    assert_eq!(
        d["parameters"],
        "{\"FunctionName\":\"f\",\"Payload\":{\"n\":1}}"
    );
    assert_eq!(d["timeoutInSeconds"], 30);
    assert_eq!(scheduled["previousEventId"], 2);
    // The timeout timer is cancelled once the task is done.
    assert!(h.timers.is_empty());
}

#[test]
fn wait_for_task_token_hands_out_a_fresh_token_and_resumes_on_success() {
    let def = one_state(
        json!({"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
        "Parameters": {"Entries": [{"Detail": {"TaskToken.$": "$$.Task.Token"}}]}, "End": true}),
    );
    let mut h = Host::start(def.clone(), json!({}));
    let t = h.take_task();
    let token = t.token.clone().expect("a token");
    assert_eq!(
        t.parameters["Entries"][0]["Detail"]["TaskToken"],
        json!(token)
    );
    assert_eq!(h.exe.task_for_token(&token), Some(t.task_id));
    let other = Host::start_seeded(def, json!({}), 8).take_task().token;
    assert_ne!(
        other,
        Some(token.clone()),
        "tokens differ between executions"
    );
    h.succeed(&t, json!({"done": 1}));
    assert_eq!(h.output(), json!({"done": 1}));
    assert_eq!(h.exe.task_for_token(&token), None);
}

#[test]
fn retries_back_off_exponentially_up_to_max_attempts() {
    let mut h = Host::start(
        one_state(task(
            json!({"Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3}]}),
        )),
        json!({}),
    );
    let mut waits = Vec::new();
    for _ in 0..3 {
        let t = h.take_task();
        h.fail(&t, "Boom");
        waits.push(h.fire_next_timer());
    }
    assert_eq!(waits, [2_000, 6_000, 18_000]);
    let t = h.take_task();
    h.fail(&t, "Boom");
    assert_eq!(h.error().0.as_deref(), Some("Boom"));
    assert_eq!(
        h.types().iter().filter(|t| **t == "TaskScheduled").count(),
        4
    );
}

#[test]
fn max_delay_caps_the_back_off() {
    let mut h = Host::start(
        one_state(task(
            json!({"Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "BackoffRate": 10, "MaxAttempts": 3, "MaxDelaySeconds": 50}]}),
        )),
        json!({}),
    );
    let mut waits = Vec::new();
    for _ in 0..3 {
        let t = h.take_task();
        h.fail(&t, "Any");
        waits.push(h.fire_next_timer());
    }
    assert_eq!(waits, [10_000, 50_000, 50_000]);
}

#[test]
fn full_jitter_stays_within_the_computed_delay() {
    for seed in 0..50 {
        let mut h = Host::start_seeded(
            one_state(task(
                json!({"Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 4, "BackoffRate": 2, "MaxAttempts": 2, "JitterStrategy": "FULL"}]}),
            )),
            json!({}),
            seed,
        );
        for bound in [4_000, 8_000] {
            let t = h.take_task();
            h.fail(&t, "E");
            let waited = h.fire_next_timer();
            assert!(
                (0..=bound).contains(&waited),
                "seed {seed}: waited {waited} > {bound}"
            );
        }
    }
}

#[test]
fn the_first_matching_retrier_decides_and_states_all_does_not_catch_runtime_errors() {
    let mut h = Host::start(
        one_state(task(
            json!({"Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}]}),
        )),
        json!({}),
    );
    let t = h.take_task();
    h.fail(&t, "Boom");
    assert_eq!(h.error().0.as_deref(), Some("Boom"));

    let h = Host::start(
        one_state(task(
            json!({"Parameters": {"x.$": "$.missing"}, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S"}]}),
        )),
        json!({}),
    );
    assert_eq!(h.error().0.as_deref(), Some("States.Runtime"));
}

#[test]
fn catch_routes_the_error_object_to_its_next_state() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Done",
              "Catch": [{"ErrorEquals": ["Other"], "Next": "Done"}, {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.err", "Next": "Handled"}]},
        "Handled": {"Type": "Pass", "End": true},
        "Done": {"Type": "Succeed"}
    }});
    let mut h = Host::start(def, json!({"orderId": 1}));
    let t = h.take_task();
    h.fail(&t, "Boom");
    assert_eq!(
        h.output(),
        json!({"orderId": 1, "err": {"Error": "Boom", "Cause": "it broke"}})
    );
    assert_eq!(
        h.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn a_task_times_out_after_timeout_seconds() {
    let mut h = Host::start(one_state(task(json!({"TimeoutSeconds": 60}))), json!({}));
    let t = h.take_task();
    assert_eq!(h.fire_next_timer(), 60_000);
    assert_eq!(h.error().0.as_deref(), Some("States.Timeout"));
    assert!(h.types().contains(&"TaskTimedOut"));
    assert_eq!(
        h.send(Command::TaskSucceeded {
            task_id: t.task_id,
            output: json!(1)
        }),
        Err(ExecutionError::Finished)
    );
}

#[test]
fn heartbeats_keep_a_task_alive_until_they_stop() {
    let def = json!({"StartAt": "S", "States": {
        "S": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "HeartbeatSeconds": 10, "TimeoutSeconds": 100,
              "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "S2"}], "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "S2": {"Type": "Fail", "Error": "NoHeartbeat"}
    }});
    let mut h = Host::start(def, json!({}));
    let t = h.take_task();
    for _ in 0..3 {
        h.now += 9_000;
        h.send(Command::TaskHeartbeat { task_id: t.task_id })
            .unwrap();
    }
    assert_eq!(h.timers.len(), 2, "one heartbeat timer and the timeout");
    let moved = h.fire_next_timer();
    assert_eq!(moved, 10_000);
    assert_eq!(h.error().0.as_deref(), Some("NoHeartbeat"));
    assert!(h.types().contains(&"TaskTimedOut"));
}

#[test]
fn wait_states_start_timers_on_the_hosts_clock() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Wait", "Seconds": 5, "Next": "B"},
        "B": {"Type": "Wait", "SecondsPath": "$.secs", "Next": "C"},
        "C": {"Type": "Wait", "Timestamp": "2023-11-14T22:20:00Z", "Next": "D"},
        "D": {"Type": "Wait", "TimestampPath": "$.at", "End": true}
    }});
    let mut h = Host::start(def, json!({"secs": 7, "at": "2023-11-14T23:00:00+01:00"}));
    assert_eq!(h.fire_next_timer(), 5_000);
    assert_eq!(h.fire_next_timer(), 7_000);
    assert_eq!(h.now, T0 + 12_000);
    h.fire_next_timer();
    assert_eq!(h.now, 1_700_000_400_000);
    // 23:00+01:00 is 22:00Z: already past, so D passes straight through.
    assert_eq!(
        h.output(),
        json!({"secs": 7, "at": "2023-11-14T23:00:00+01:00"})
    );
    assert_eq!(
        h.types()
            .iter()
            .filter(|t| **t == "WaitStateExited")
            .count(),
        4
    );
}

#[test]
fn a_bad_timestamp_path_fails_the_execution_with_states_runtime() {
    let h = Host::start(
        one_state(json!({"Type": "Wait", "TimestampPath": "$.at", "End": true})),
        json!({"at": "2024-01-01T00:00:00"}),
    );
    let (e, c) = h.error();
    assert_eq!(e.as_deref(), Some("States.Runtime"));
    assert!(c.unwrap().contains("not reference a valid ISO-8601"));
}

#[test]
fn choice_picks_the_first_matching_rule_or_fails_without_default() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
            {"And": [{"Variable": "$.n", "NumericGreaterThan": 0}, {"Variable": "$.s", "StringMatches": "a*"}], "Next": "Small"}
        ]},
        "Big": {"Type": "Pass", "Result": "big", "End": true},
        "Small": {"Type": "Pass", "Result": "small", "End": true}
    }});
    assert_eq!(
        Host::start(def.clone(), json!({"n": 11, "s": "x"})).output(),
        json!("big")
    );
    assert_eq!(
        Host::start(def.clone(), json!({"n": 1, "s": "abc"})).output(),
        json!("small")
    );
    assert_eq!(
        Host::start(def, json!({"n": 1, "s": "x"}))
            .error()
            .0
            .as_deref(),
        Some("States.NoChoiceMatched")
    );
}

#[test]
fn fail_states_take_error_and_cause_from_paths_and_intrinsics() {
    let h = Host::start(
        one_state(
            json!({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('bad {}', $.id)"}),
        ),
        json!({"e": "Oops", "id": 3}),
    );
    assert_eq!(h.error(), (Some("Oops".into()), Some("bad 3".into())));
}

#[test]
fn map_respects_max_concurrency_and_keeps_results_in_item_order() {
    let def = one_state(
        json!({"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
        "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "tag.$": "$.tag"},
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
        "End": true}),
    );
    let mut h = Host::start(def, json!({"items": ["a", "b", "c"], "tag": "x"}));
    assert_eq!(
        h.tasks.len(),
        2,
        "only MaxConcurrency iterations run at once"
    );
    assert_eq!(
        h.tasks[0].parameters,
        json!({"value": "a", "index": 0, "tag": "x"})
    );
    let second = h.tasks.remove(1);
    h.succeed(&second, json!("B"));
    assert_eq!(h.tasks.len(), 2, "the queued iteration started");
    let third = h.tasks.remove(1);
    h.succeed(&third, json!("C"));
    let first = h.take_task();
    h.succeed(&first, json!("A"));
    assert_eq!(h.output(), json!(["A", "B", "C"]));
    let t = h.types();
    assert_eq!(t.iter().filter(|x| **x == "MapIterationStarted").count(), 3);
    assert_eq!(
        t.iter().filter(|x| **x == "MapIterationSucceeded").count(),
        3
    );
    assert_eq!(
        &t[..3],
        ["ExecutionStarted", "MapStateEntered", "MapStateStarted"]
    );
    assert_eq!(
        &t[t.len() - 3..],
        ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    );
}

fn failing_map(tolerance: Value) -> Value {
    let mut m = json!({"Type": "Map",
        "ItemProcessor": {"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$", "BooleanEquals": true, "Next": "Bad"}], "Default": "Good"},
            "Bad": {"Type": "Fail", "Error": "ItemFailed"},
            "Good": {"Type": "Pass", "End": true}}},
        "End": true});
    if let (Value::Object(m), Value::Object(t)) = (&mut m, tolerance) {
        m.extend(t);
    }
    one_state(m)
}

#[test]
fn map_tolerates_failures_up_to_the_threshold() {
    let h = Host::start(
        failing_map(json!({"ToleratedFailureCount": 1})),
        json!([false, true, false]),
    );
    let out = h.output();
    assert_eq!(out[0], json!(false));
    assert_eq!(out[1]["Error"], json!("ItemFailed"));
    let h = Host::start(
        failing_map(json!({"ToleratedFailureCount": 1})),
        json!([true, true, false]),
    );
    assert_eq!(
        h.error().0.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    let h = Host::start(
        failing_map(json!({"ToleratedFailurePercentage": 50})),
        json!([true, false, false, false]),
    );
    assert_eq!(h.outcome().status, Status::Succeeded);
    let h = Host::start(failing_map(json!({})), json!([false, true]));
    assert_eq!(h.error().0.as_deref(), Some("ItemFailed"));
    assert!(h.types().contains(&"MapIterationFailed"));
    assert!(h.types().contains(&"MapStateFailed"));
}

#[test]
fn a_failing_parallel_branch_aborts_the_others_and_can_be_caught() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "Done",
              "Catch": [{"ErrorEquals": ["BranchFailed"], "Next": "Caught"}],
              "Branches": [
                {"StartAt": "Slow", "States": {"Slow": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
                {"StartAt": "Fast", "States": {"Fast": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}
              ]},
        "Caught": {"Type": "Pass", "End": true},
        "Done": {"Type": "Succeed"}
    }});
    let mut h = Host::start(def, json!({}));
    assert_eq!(h.tasks.len(), 2);
    let slow = h.take_task();
    let fast = h.take_task();
    h.fail(&fast, "BranchFailed");
    assert_eq!(
        h.output(),
        json!({"Error": "BranchFailed", "Cause": "it broke"})
    );
    assert!(h.types().contains(&"ParallelStateFailed"));
    assert_eq!(
        h.send(Command::TaskSucceeded {
            task_id: slow.task_id,
            output: json!(1)
        }),
        Err(ExecutionError::Finished)
    );
}

#[test]
fn parallel_outputs_are_in_branch_order() {
    let def = one_state(
        json!({"Type": "Parallel", "End": true, "ResultSelector": {"first.$": "$[0]", "second.$": "$[1]"}, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": 2, "End": true}}}
        ]}),
    );
    assert_eq!(
        Host::start(def, json!({})).output(),
        json!({"first": 1, "second": 2})
    );
}

#[test]
fn an_execution_survives_serialization_while_waiting_on_a_task() {
    let def_json = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
            "Parameters": {"token.$": "$$.Task.Token", "item.$": "$"}, "HeartbeatSeconds": 60, "End": true}}}, "End": true}}});
    let mut h = Host::start(def_json.clone(), json!([10, 20]));
    let t1 = h.take_task();
    let saved = serde_json::to_string(&h.exe).unwrap();
    let state: ExecutionState = serde_json::from_str(&saved).unwrap();
    let def = Arc::new(Definition::from_value(&def_json).unwrap());
    h.exe = Execution::restore(def, state).unwrap();
    assert_eq!(
        h.exe.task_for_token(t1.token.as_deref().unwrap()),
        Some(t1.task_id)
    );
    h.succeed(&t1, json!("x"));
    let t2 = h.take_task();
    assert_eq!(t2.parameters["item"], json!(20));
    h.succeed(&t2, json!("y"));
    assert_eq!(h.output(), json!(["x", "y"]));
}

#[test]
fn stop_aborts_and_nothing_runs_afterwards() {
    let mut h = Host::start(one_state(task(json!({"TimeoutSeconds": 10}))), json!({}));
    let t = h.take_task();
    h.send(Command::Stop {
        error: Some("Cancelled".into()),
        cause: None,
    })
    .unwrap();
    assert_eq!(h.outcome().status, Status::Aborted);
    assert_eq!(h.types().last(), Some(&"ExecutionAborted"));
    assert!(h.timers.is_empty(), "pending timers are cancelled");
    assert_eq!(
        h.send(Command::TaskSucceeded {
            task_id: t.task_id,
            output: json!(1)
        }),
        Err(ExecutionError::Finished)
    );
}

#[test]
fn the_execution_times_out_after_its_timeout_seconds() {
    let mut def = one_state(json!({"Type": "Wait", "Seconds": 100, "End": true}));
    def["TimeoutSeconds"] = json!(30);
    let mut h = Host::start(def, json!({}));
    assert_eq!(h.fire_next_timer(), 30_000);
    assert_eq!(h.outcome().status, Status::TimedOut);
    assert_eq!(h.types().last(), Some(&"ExecutionTimedOut"));
}

#[test]
fn unknown_tasks_are_refused() {
    let mut h = Host::start(one_state(task(json!({}))), json!({}));
    assert_eq!(
        h.send(Command::TaskSucceeded {
            task_id: 999,
            output: json!(1)
        }),
        Err(ExecutionError::UnknownTask(999))
    );
    assert_eq!(
        h.send(Command::TaskHeartbeat { task_id: 998 }),
        Err(ExecutionError::UnknownTask(998))
    );
    let t = h.take_task();
    h.succeed(&t, json!(1));
    assert_eq!(h.outcome().status, Status::Succeeded);
}

#[test]
fn a_task_result_over_256_kib_fails_with_data_limit_exceeded() {
    let mut h = Host::start(
        one_state(task(
            json!({"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S"}]}),
        )),
        json!({}),
    );
    let t = h.take_task();
    h.succeed(&t, json!("x".repeat(300 * 1024)));
    assert_eq!(h.error().0.as_deref(), Some("States.DataLimitExceeded"));
}

#[test]
fn a_bare_lambda_arn_records_lambda_function_events() {
    let mut h = Host::start(
        one_state(
            json!({"Type": "Task", "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:f", "End": true}),
        ),
        json!({"a": 1}),
    );
    let t = h.take_task();
    h.succeed(&t, json!(2));
    assert_eq!(
        h.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert!(
        matches!(&h.events[2].details, EventDetails::LambdaFunctionScheduled(l) if l.input == json!({"a": 1}))
    );
}

#[test]
fn retried_map_states_start_again_without_reentering() {
    let def = one_state(
        json!({"Type": "Map", "Retry": [{"ErrorEquals": ["X"], "MaxAttempts": 1, "IntervalSeconds": 1}],
        "ItemProcessor": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "X"}}}, "End": true}),
    );
    let mut h = Host::start(def, json!([1]));
    assert_eq!(h.fire_next_timer(), 1_000);
    assert_eq!(h.error().0.as_deref(), Some("X"));
    let t = h.types();
    assert_eq!(t.iter().filter(|x| **x == "MapStateEntered").count(), 1);
    assert_eq!(t.iter().filter(|x| **x == "MapStateStarted").count(), 2);
    assert_eq!(t.iter().filter(|x| **x == "MapStateFailed").count(), 1);
}

#[test]
fn history_event_ids_are_consecutive_and_timestamps_follow_the_host_clock() {
    let mut h = Host::start(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "Next": "P"}, "P": {"Type": "Pass", "End": true}}}),
        json!({}),
    );
    h.fire_next_timer();
    for (i, e) in h.events.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1);
        assert_eq!(e.previous_event_id(), i as u64);
    }
    assert_eq!(h.wire[0]["timestamp"], json!(T0 as f64 / 1000.0));
    assert_eq!(
        h.wire.last().unwrap()["timestamp"],
        json!((T0 + 3_000) as f64 / 1000.0)
    );
}

#[test]
fn a_missed_heartbeat_fails_with_states_timeout() {
    let mut h = Host::start(one_state(task(json!({"HeartbeatSeconds": 5}))), json!({}));
    h.take_task();
    assert_eq!(h.fire_next_timer(), 5_000);
    assert_eq!(h.error().0.as_deref(), Some("States.Timeout"));
}

/// The order processor's shape: store check, capacity check, two callbacks with
/// heartbeats, a timeout path. Written after the project's workflow description.
fn order_processor() -> Value {
    let emit = |detail_type: &str, extra: Value| {
        let mut detail = json!({"orderId.$": "$.detail.orderId", "userId.$": "$.detail.userId", "eventId.$": "$.detail.bucket.eventId"});
        if let (Value::Object(d), Value::Object(e)) = (&mut detail, extra) {
            d.extend(e);
        }
        json!({"Entries": [{"Detail": detail, "DetailType": detail_type, "EventBusName": "Serverlesspresso", "Source": "awsserverlessda.serverlesspresso"}]})
    };
    json!({
        "StartAt": "DynamoDB Get Shop status",
        "States": {
            "DynamoDB Get Shop status": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "config", "Key": {"PK": {"S.$": "States.Format('config-{}', $.detail.bucket.eventId)"}}},
                "ResultPath": "$.GetStore", "Next": "Shop Open?"},
            "Shop Open?": {"Type": "Choice", "Choices": [
                {"Not": {"Variable": "$.GetStore.Item.storeOpen.BOOL", "BooleanEquals": true}, "Next": "Shop Unavailable"}],
                "Default": "ListExecutions"},
            "ListExecutions": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:listExecutions",
                "Parameters": {"StateMachineArn.$": "$$.StateMachine.Id", "MaxResults": 100, "StatusFilter": "RUNNING"},
                "ResultPath": "$.isCapacityAvailable", "Next": "Is capacity available?"},
            "Is capacity available?": {"Type": "Choice", "Choices": [
                {"Variable": "$.isCapacityAvailable.Executions[20]", "IsPresent": true, "Next": "Shop Unavailable"}],
                "Default": "Emit - Workflow Started TT"},
            "Emit - Workflow Started TT": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
                "Parameters": emit("OrderProcessor.WorkflowStarted", json!({"TaskToken.$": "$$.Task.Token"})),
                "HeartbeatSeconds": 300, "ResultPath": null,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.comment", "Next": "Customer timedout"}],
                "Next": "Generate Order Number"},
            "Customer timedout": {"Type": "Pass", "Result": "Customer timedout", "ResultPath": "$.cause", "Next": "Emit - error timeout"},
            "Emit - error timeout": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": emit("OrderProcessor.OrderTimeOut", json!({"cause.$": "$.cause"})), "End": true},
            "Generate Order Number": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {"TableName": "counting", "Key": {"PK": {"S.$": "States.Format('orderID-{}', $.detail.bucket.eventId)"}},
                    "UpdateExpression": "set IDvalue = IDvalue + :val", "ExpressionAttributeValues": {":val": {"N": "1"}}, "ReturnValues": "UPDATED_NEW"},
                "ResultSelector": {"orderNumber.$": "$.Attributes.IDvalue.N"}, "ResultPath": "$.Order.Payload",
                "Next": "Emit - Awaiting Completion TT"},
            "Emit - Awaiting Completion TT": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
                "Parameters": emit("OrderProcessor.WaitingCompletion", json!({"TaskToken.$": "$$.Task.Token", "orderNumber.$": "$.Order.Payload.orderNumber"})),
                "HeartbeatSeconds": 900, "ResultPath": "$.order",
                "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.comment", "Next": "Barista timedout"}],
                "Next": "Pass"},
            "Barista timedout": {"Type": "Pass", "Result": "Barista timedout", "ResultPath": "$.cause", "Next": "Emit - error timeout"},
            "Shop Unavailable": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": emit("OrderProcessor.ShopUnavailable", json!({})), "End": true},
            "Pass": {"Type": "Pass", "Next": "Emit - order finished"},
            "Emit - order finished": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": emit("OrderProcessor.orderFinished", json!({})), "End": true}
        }
    })
}

fn new_order_event() -> Value {
    json!({"detail-type": "Validator.NewOrder", "source": "awsserverlessda.serverlesspresso",
           "detail": {"orderId": "o-1", "userId": "u-1", "bucket": {"eventId": "default"}}})
}

#[test]
fn an_order_runs_through_both_callbacks_to_the_end() {
    let mut h = Host::start(order_processor(), new_order_event());
    let get = h.take_task();
    assert_eq!(get.resource_type, "dynamodb");
    assert_eq!(get.parameters["Key"]["PK"]["S"], json!("config-default"));
    h.succeed(&get, json!({"Item": {"storeOpen": {"BOOL": true}}}));
    let list = h.take_task();
    assert_eq!(list.resource_type, "aws-sdk:sfn");
    assert_eq!(
        list.parameters["StateMachineArn"],
        json!("arn:aws:states:us-east-1:123456789012:stateMachine:Machine")
    );
    h.succeed(&list, json!({"Executions": [{"name": "a"}]}));
    let started = h.take_task();
    let token = started.token.clone().unwrap();
    assert_eq!(
        started.parameters["Entries"][0]["Detail"]["TaskToken"],
        json!(token)
    );
    assert_eq!(started.heartbeat_seconds, Some(300));
    h.now += 60_000;
    let id = h.exe.task_for_token(&token).unwrap();
    h.send(Command::TaskSucceeded {
        task_id: id,
        output: json!({}),
    })
    .unwrap();
    let counter = h.take_task();
    h.succeed(&counter, json!({"Attributes": {"IDvalue": {"N": "42"}}}));
    let waiting = h.take_task();
    assert_eq!(
        waiting.parameters["Entries"][0]["Detail"]["orderNumber"],
        json!("42")
    );
    h.now += 120_000;
    h.succeed(&waiting, json!({}));
    let finished = h.take_task();
    assert_eq!(
        finished.parameters["Entries"][0]["DetailType"],
        json!("OrderProcessor.orderFinished")
    );
    h.succeed(&finished, json!({"Entries": [{"EventId": "e"}]}));
    assert_eq!(h.outcome().status, Status::Succeeded);
    assert!(h.timers.is_empty());
}

#[test]
fn an_order_the_customer_abandons_times_out_through_the_catch() {
    let mut h = Host::start(order_processor(), new_order_event());
    let get = h.take_task();
    h.succeed(&get, json!({"Item": {"storeOpen": {"BOOL": true}}}));
    let list = h.take_task();
    h.succeed(&list, json!({"Executions": []}));
    let started = h.take_task();
    assert_eq!(h.fire_next_timer(), 300_000);
    let emit = h.take_task();
    assert_eq!(
        emit.parameters["Entries"][0]["DetailType"],
        json!("OrderProcessor.OrderTimeOut")
    );
    assert_eq!(
        emit.parameters["Entries"][0]["Detail"]["cause"],
        json!("Customer timedout")
    );
    h.succeed(&emit, json!({}));
    assert_eq!(h.outcome().status, Status::Succeeded);
    assert_eq!(
        h.send(Command::TaskSucceeded {
            task_id: started.task_id,
            output: json!({})
        }),
        Err(ExecutionError::Finished)
    );
}

#[test]
fn a_closed_shop_ends_the_order_at_once() {
    let mut h = Host::start(order_processor(), new_order_event());
    let get = h.take_task();
    h.succeed(&get, json!({"Item": {"storeOpen": {"BOOL": false}}}));
    let emit = h.take_task();
    assert_eq!(
        emit.parameters["Entries"][0]["DetailType"],
        json!("OrderProcessor.ShopUnavailable")
    );
}

#[test]
fn data_that_is_not_where_the_paths_say_fails_with_states_runtime() {
    let cases = [
        (
            json!({"Type": "Pass", "InputPath": "$.nope", "End": true}),
            json!({}),
            "Invalid path '$.nope'",
        ),
        (
            json!({"Type": "Pass", "OutputPath": "$.nope", "End": true}),
            json!({}),
            "Invalid path '$.nope'",
        ),
        (
            json!({"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": true}),
            json!({"a": "text"}),
            "Unable to apply ReferencePath $.a.b",
        ),
        (
            json!({"Type": "Pass", "Parameters": {"x.$": "$.nope"}, "End": true}),
            json!({}),
            "specified for the field 'x.$' could not be found",
        ),
        (
            json!({"Type": "Pass", "Parameters": {"x.$": "States.ArrayGetItem($.a, 5)"}, "End": true}),
            json!({"a": [1]}),
            "out of bounds",
        ),
        (
            json!({"Type": "Map", "ItemsPath": "$.a", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}),
            json!({"a": 1}),
            "must be a JSON array",
        ),
        (
            json!({"Type": "Wait", "SecondsPath": "$.s", "End": true}),
            json!({"s": -1}),
            "not a valid non-negative integer",
        ),
        (
            json!({"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "D"}], "Default": "D"}),
            json!({}),
            "Invalid path '$.x'",
        ),
    ];
    for (state, input, needle) in cases {
        let mut def = one_state(state.clone());
        if state["Type"] == "Choice" {
            def["States"]["D"] = json!({"Type": "Succeed"});
        }
        let h = Host::start(def, input);
        let (error, cause) = h.error();
        assert_eq!(error.as_deref(), Some("States.Runtime"), "{state}");
        let cause = cause.unwrap_or_default();
        assert!(cause.contains(needle), "{state}: {cause}");
        assert!(
            cause.starts_with(
                "An error occurred while executing the state 'S' (entered at the event id #2)."
            ),
            "{cause}"
        );
    }
}

#[test]
fn a_workflow_that_loops_without_waiting_stops_at_the_history_limit() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "C"}], "Default": "A"},
        "C": {"Type": "Succeed"}
    }});
    let h = Host::start(def.clone(), json!({}));
    let (error, cause) = h.error();
    assert_eq!(error.as_deref(), Some("States.Runtime"));
    assert!(cause.unwrap().contains("maximum number of history events"));
    assert!(h.events.len() <= 25_002, "{}", h.events.len());
    // The same loop inside a Distributed Map records nothing in the parent, and still stops.
    let dist = one_state(
        json!({"Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"},
        "StartAt": "A", "States": def["States"].clone()}, "End": true}),
    );
    let h = Host::start(dist, json!([{}]));
    assert_eq!(h.error().0.as_deref(), Some("States.Runtime"));
}

#[test]
fn the_engine_types_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Definition>();
    send_sync::<Execution>();
    send_sync::<presso_asl::History>();
    send_sync::<Action>();
}
