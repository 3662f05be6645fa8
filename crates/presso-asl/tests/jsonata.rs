//! JSONata states and workflow variables, driven as a host drives the engine.
//!
//! Covers what the recorded AWS cases do not: every state type's JSONata fields (Task
//! `Arguments`, timeouts as expressions, Catch `Output`/`Assign`, Wait `Timestamp`,
//! Fail `Error`/`Cause`, Map `Items`/`ItemSelector`, Parallel `Arguments`), variable
//! scoping across Map and Parallel branches, variables surviving a persist/restore, the
//! size limits, forbidden-field validation, and the host's clock behind `$now()`.

use presso_asl::{
    Action, Command, Definition, EventDetails, Execution, ExecutionState, Outcome, StartContext,
    Status, TaskRequest,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const T0: i64 = 1_700_000_000_000;

struct Host {
    def: Arc<Definition>,
    exe: Execution,
    now: i64,
    events: Vec<String>,
    tasks: Vec<TaskRequest>,
    timers: BTreeMap<u64, i64>,
    outcome: Option<Outcome>,
}

impl Host {
    fn start(def: Value, input: Value) -> Host {
        let def = Arc::new(Definition::from_value(&def).expect("valid definition"));
        let (exe, actions) = Execution::start(
            def.clone(),
            input,
            StartContext::new("Machine", "run-1", T0, 7),
        );
        let mut h = Host {
            def,
            exe,
            now: T0,
            events: Vec::new(),
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
                Action::History(batch) => self
                    .events
                    .extend(batch.events.iter().map(|e| e.event_type().to_owned())),
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

    fn send(&mut self, cmd: Command) {
        let actions = self.exe.handle(self.now, cmd).expect("command accepted");
        self.apply(actions);
    }

    fn succeed_task(&mut self, output: Value) -> TaskRequest {
        assert!(!self.tasks.is_empty(), "expected a task to run");
        let t = self.tasks.remove(0);
        self.send(Command::TaskSucceeded {
            task_id: t.task_id,
            output,
        });
        t
    }

    fn fail_task(&mut self, error: &str, cause: &str) -> TaskRequest {
        assert!(!self.tasks.is_empty(), "expected a task to run");
        let t = self.tasks.remove(0);
        self.send(Command::TaskFailed {
            task_id: t.task_id,
            error: error.into(),
            cause: Some(cause.into()),
        });
        t
    }

    fn fire_next_timer(&mut self) -> i64 {
        let (&id, &at) = self
            .timers
            .iter()
            .min_by_key(|(_, at)| **at)
            .expect("a timer");
        self.timers.remove(&id);
        self.now = self.now.max(at);
        self.send(Command::TimerFired { timer_id: id });
        at
    }

    fn outcome(&self) -> &Outcome {
        self.outcome.as_ref().expect("the execution finished")
    }

    fn output(&self) -> Value {
        let o = self.outcome();
        assert_eq!(o.status, Status::Succeeded, "{o:?}");
        o.output.as_deref().cloned().unwrap_or(Value::Null)
    }
}

fn run(def: Value, input: Value) -> Host {
    Host::start(def, input)
}

fn diagnostics(def: Value) -> Vec<(String, String)> {
    match Definition::from_value(&def) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .diagnostics
            .into_iter()
            .map(|d| (d.location, d.message))
            .collect(),
    }
}

#[test]
fn a_jsonata_task_gets_its_arguments_and_shapes_its_output_and_variables_from_the_result() {
    let mut h = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Arguments": {"id": "{% $states.input.orderId %}", "n": "{% 1 + 1 %}"},
                     "Output": {"status": "{% $states.result.status %}", "in": "{% $states.input.orderId %}"},
                     "Assign": {"lastStatus": "{% $states.result.status %}"},
                     "Next": "Show"},
            "Show": {"Type": "Pass", "Output": "{% $lastStatus & '/' & $states.input.status %}", "End": true}
        }}),
        json!({"orderId": "o-1"}),
    );
    let t = h.succeed_task(json!({"status": "done"}));
    assert_eq!(t.parameters, json!({"id": "o-1", "n": 2}));
    assert_eq!(h.output(), json!("done/done"));
}

#[test]
fn task_timeouts_can_be_expressions() {
    let mut h = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "TimeoutSeconds": "{% $states.input.t %}", "HeartbeatSeconds": "{% $states.input.t - 1 %}",
                     "End": true}
        }}),
        json!({"t": 5}),
    );
    let t = &h.tasks[0];
    assert_eq!((t.timeout_seconds, t.heartbeat_seconds), (Some(5), Some(4)));
    h.fire_next_timer();
    assert_eq!(h.outcome().error.as_deref(), Some("States.Timeout"));
}

#[test]
fn a_jsonata_catcher_sees_the_error_output_and_assigns_variables() {
    let mut h = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Done",
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover",
                                "Output": {"why": "{% $states.errorOutput.Cause %}", "was": "{% $states.input %}"},
                                "Assign": {"failedWith": "{% $states.errorOutput.Error %}"}}]},
            "Recover": {"Type": "Pass", "Output": "{% $merge([$states.input, {'err': $failedWith}]) %}", "End": true},
            "Done": {"Type": "Succeed"}
        }}),
        json!({"k": 1}),
    );
    h.fail_task("Boom", "it broke");
    assert_eq!(
        h.output(),
        json!({"why": "it broke", "was": {"k": 1}, "err": "Boom"})
    );
}

#[test]
fn a_jsonpath_catcher_assigns_from_the_error_output() {
    let mut h = run(
        json!({"StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover", "ResultPath": "$.e",
                                "Assign": {"err.$": "$.Error"}}]},
            "Recover": {"Type": "Pass", "Parameters": {"err.$": "$err", "k.$": "$.k"}, "End": true}
        }}),
        json!({"k": 1}),
    );
    h.fail_task("Boom", "it broke");
    assert_eq!(h.output(), json!({"err": "Boom", "k": 1}));
}

#[test]
fn wait_takes_seconds_and_timestamps_from_expressions() {
    let mut h = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "W1", "States": {
            "W1": {"Type": "Wait", "Seconds": "{% $states.input.s * 2 %}", "Next": "W2"},
            "W2": {"Type": "Wait", "Timestamp": "{% $states.input.at %}", "Output": {"waited": true}, "End": true}
        }}),
        json!({"s": 5, "at": "2023-11-14T22:15:00Z"}),
    );
    assert_eq!(h.fire_next_timer(), T0 + 10_000);
    // 2023-11-14T22:15:00Z is 1_700_000_100_000 ms.
    assert_eq!(h.fire_next_timer(), 1_700_000_100_000);
    assert_eq!(h.output(), json!({"waited": true}));
}

#[test]
fn fail_error_and_cause_can_be_expressions() {
    let h = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "F", "States": {
            "F": {"Type": "Fail", "Error": "{% 'Order.' & $states.input.kind %}", "Cause": "{% $string($states.input.n) %}"}
        }}),
        json!({"kind": "Rejected", "n": 3}),
    );
    let o = h.outcome();
    assert_eq!(o.status, Status::Failed);
    assert_eq!(
        (o.error.as_deref(), o.cause.as_deref()),
        (Some("Order.Rejected"), Some("3"))
    );
}

#[test]
fn a_choice_condition_that_is_not_boolean_is_a_query_evaluation_error() {
    let h = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n %}", "Next": "D"}], "Default": "D"},
            "D": {"Type": "Succeed"}
        }}),
        json!({"n": 3}),
    );
    let o = h.outcome();
    assert_eq!(o.error.as_deref(), Some("States.QueryEvaluationError"));
    assert!(
        o.cause.as_deref().unwrap().contains("Expected 'boolean'"),
        "{o:?}"
    );
    assert!(h.events.iter().any(|e| e == "EvaluationFailed"));
}

#[test]
fn a_choice_rule_assigns_and_shapes_output_when_it_matches() {
    let h = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n > 1 %}", "Next": "D",
                                                 "Assign": {"picked": "big"}, "Output": {"n": "{% $states.input.n %}"}}],
                  "Default": "D", "Assign": {"picked": "default"}},
            "D": {"Type": "Pass", "Output": "{% $picked & ':' & $string($states.input.n) %}", "End": true}
        }}),
        json!({"n": 3}),
    );
    assert_eq!(h.output(), json!("big:3"));
}

#[test]
fn map_items_and_item_selector_are_expressions_and_iterations_see_outer_variables() {
    let h = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "Init", "States": {
            "Init": {"Type": "Pass", "Assign": {"factor": 10}, "Next": "M"},
            "M": {"Type": "Map", "Items": "{% $states.input.xs %}",
                  "ItemSelector": {"x": "{% $states.context.Map.Item.Value %}", "i": "{% $states.context.Map.Item.Index %}"},
                  "ItemProcessor": {"StartAt": "Calc", "States": {
                      "Calc": {"Type": "Pass", "Output": "{% $states.input.x * $factor + $states.input.i %}", "End": true}}},
                  "Output": "{% $sum($states.result) %}", "End": true}
        }}),
        json!({"xs": [1, 2, 3]}),
    );
    assert_eq!(h.output(), json!(10 + 21 + 32));
}

#[test]
fn branches_cannot_assign_variables_outward() {
    let h = run(
        json!({"StartAt": "Init", "States": {
            "Init": {"Type": "Pass", "Assign": {"x": "outer"}, "Next": "P"},
            "P": {"Type": "Parallel", "Next": "After", "Branches": [
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "Assign": {"x": "inner"},
                                                   "Next": "B2"},
                                            "B2": {"Type": "Pass", "Parameters": {"seen.$": "$x"}, "End": true}}}
            ]},
            "After": {"Type": "Pass", "Parameters": {"branch.$": "$[0].seen", "outer.$": "$x"}, "End": true}
        }}),
        json!({}),
    );
    assert_eq!(h.output(), json!({"branch": "inner", "outer": "outer"}));
}

#[test]
fn a_map_state_assigns_in_the_outer_scope_from_its_result() {
    let h = run(
        json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "ItemsPath": "$.xs", "Assign": {"count.$": "States.ArrayLength($)"},
                  "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Assign": {"inner": 1}, "End": true}}},
                  "Next": "Show"},
            "Show": {"Type": "Pass", "Parameters": {"count.$": "$count"}, "End": true}
        }}),
        json!({"xs": [1, 2]}),
    );
    assert_eq!(h.output(), json!({"count": 2}));
}

#[test]
fn one_assign_block_reads_the_variables_as_they_were_before_it() {
    let h = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
            "B": {"Type": "Pass", "Assign": {"x": 2, "old": "{% $x %}"}, "Output": "{% $x %}", "Next": "C"},
            "C": {"Type": "Pass", "Output": {"x": "{% $x %}", "old": "{% $old %}"}, "End": true}
        }}),
        json!({}),
    );
    assert_eq!(h.output(), json!({"x": 2, "old": 1}));
}

#[test]
fn parallel_arguments_feed_every_branch() {
    let h = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Arguments": {"v": "{% $states.input.v + 1 %}"}, "End": true,
                  "Output": "{% $states.result.v %}",
                  "Branches": [
                      {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
                      {"StartAt": "B", "States": {"B": {"Type": "Pass", "Output": {"v": "{% $states.input.v * 2 %}"}, "End": true}}}
                  ]}
        }}),
        json!({"v": 1}),
    );
    assert_eq!(h.output(), json!([2, 4]));
}

#[test]
fn variables_survive_persisting_and_restoring_the_execution() {
    let mut h = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"kept": {"deep": [1, 2]}}, "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 60, "Next": "B"},
            "B": {"Type": "Pass", "Parameters": {"kept.$": "$kept.deep[1]"}, "End": true}
        }}),
        json!({}),
    );
    let text = serde_json::to_string(&h.exe).unwrap();
    assert!(
        text.contains("\"kept\""),
        "variables are in the state: {text}"
    );
    let state: ExecutionState = serde_json::from_str(&text).unwrap();
    h.exe = Execution::restore(h.def.clone(), state).unwrap();
    h.fire_next_timer();
    assert_eq!(h.output(), json!({"kept": 2}));
}

#[test]
fn clock_functions_report_the_time_the_host_passed_in() {
    let mut h = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 90, "Next": "T"},
            "T": {"Type": "Pass", "Output": {"ms": "{% $millis() %}", "now": "{% $now() %}"}, "End": true}
        }}),
        json!({}),
    );
    h.fire_next_timer();
    assert_eq!(
        h.output(),
        json!({"ms": T0 + 90_000, "now": "2023-11-14T22:14:50.000Z"})
    );
}

#[test]
fn a_variable_over_the_size_limit_fails_the_state() {
    let big = "x".repeat(presso_asl::MAX_VARIABLE_BYTES + 1);
    let h = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"big.$": "$.big"}, "End": true}
        }}),
        json!({"big": big}),
    );
    let o = h.outcome();
    assert_eq!(o.status, Status::Failed);
    assert!(o.cause.as_deref().unwrap().contains("maximum"), "{o:?}");
}

#[test]
fn an_assign_block_over_the_combined_limit_fails_the_state() {
    let half = "x".repeat(presso_asl::MAX_VARIABLE_BYTES / 2 + 10);
    let h = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"a.$": "$.s", "b.$": "$.s"}, "End": true}
        }}),
        json!({"s": half}),
    );
    assert_eq!(h.outcome().status, Status::Failed);
}

#[test]
fn jsonata_states_refuse_the_jsonpath_fields() {
    for field in [
        "InputPath",
        "Parameters",
        "ResultSelector",
        "ResultPath",
        "OutputPath",
    ] {
        let mut task =
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
        task[field] = if field == "Parameters" || field == "ResultSelector" {
            json!({})
        } else {
            json!("$")
        };
        let d =
            diagnostics(json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {"T": task}}));
        assert!(
            d.iter()
                .any(|(loc, msg)| loc == &format!("/States/T/{field}")
                    && msg.contains("not supported when the state's QueryLanguage is JSONata")),
            "{field}: {d:?}"
        );
    }
}

#[test]
fn jsonpath_states_refuse_the_jsonata_fields() {
    let d = diagnostics(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": {"a": 1}, "End": true}
    }}));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].0, "/States/P/Output");
}

#[test]
fn a_state_cannot_go_back_to_jsonpath_under_a_jsonata_definition() {
    let d = diagnostics(
        json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}
        }}),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].0, "/States/P/QueryLanguage");
}

#[test]
fn a_jsonata_state_inside_a_jsonpath_definition_runs() {
    let h = run(
        json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input.a %}", "End": true}
        }}),
        json!({"a": [1]}),
    );
    assert_eq!(h.output(), json!([1]));
}

#[test]
fn malformed_expressions_and_variable_names_are_reported_where_they_are() {
    let d = diagnostics(
        json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Pass", "Output": {"x": "{% 1 + %}"}, "Assign": {"9lives": 1, "states": 2}, "End": true}
        }}),
    );
    let locs: Vec<&str> = d.iter().map(|(l, _)| l.as_str()).collect();
    assert!(locs.contains(&"/States/P/Output/x"), "{d:?}");
    assert!(locs.contains(&"/States/P/Assign/9lives"), "{d:?}");
    assert!(locs.contains(&"/States/P/Assign/states"), "{d:?}");
}

#[test]
fn a_choice_rule_in_jsonata_needs_a_condition() {
    let d = diagnostics(
        json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "D"}]},
            "D": {"Type": "Succeed"}
        }}),
    );
    assert!(
        d.iter().any(|(l, _)| l == "/States/C/Choices[0]/Condition"),
        "{d:?}"
    );
}

#[test]
fn result_path_cannot_write_into_a_variable() {
    let d = diagnostics(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "ResultPath": "$x", "End": true}
    }}));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].0, "/States/P/ResultPath");
}

#[test]
fn a_query_evaluation_error_can_be_caught() {
    let h = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
            "M": {"Type": "Map", "Items": "{% 'not a list' %}", "Next": "Done",
                  "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
                  "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Caught"}]},
            "Caught": {"Type": "Pass", "Output": "{% $states.input.Error %}", "End": true},
            "Done": {"Type": "Succeed"}
        }}),
        json!({}),
    );
    assert_eq!(h.output(), json!("States.QueryEvaluationError"));
    let i = h.events.iter().position(|e| e == "EvaluationFailed");
    assert!(i.is_some(), "{:?}", h.events);
}

#[test]
fn history_records_an_evaluation_failure_with_its_state() {
    let def = Arc::new(
        Definition::from_value(
            &json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
                "P": {"Type": "Pass", "Output": "{% $nothing %}", "End": true}
            }}),
        )
        .unwrap(),
    );
    let (_, actions) = Execution::start(def, json!({}), StartContext::new("M", "r", T0, 1));
    let wire: Vec<Value> = actions
        .iter()
        .filter_map(|a| match a {
            Action::History(h) => Some(h.to_aws_json()),
            _ => None,
        })
        .flatten()
        .collect();
    let ev = wire
        .iter()
        .find(|e| e["type"] == "EvaluationFailed")
        .expect("an EvaluationFailed event");
    assert_eq!(ev["evaluationFailedEventDetails"]["state"], "P");
    assert_eq!(
        ev["evaluationFailedEventDetails"]["error"],
        "States.QueryEvaluationError"
    );
    let typed = actions.iter().any(|a| match a {
        Action::History(h) => h
            .events
            .iter()
            .any(|e| matches!(&e.details, EventDetails::EvaluationFailed(f) if &*f.state == "P")),
        _ => false,
    });
    assert!(typed);
}
