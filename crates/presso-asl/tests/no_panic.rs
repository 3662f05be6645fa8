//! No input makes the engine panic: property tests over definitions and inputs.
//!
//! Definitions are generated from a small ASL grammar with hostile values mixed in
//! (bad paths, odd intrinsics, wrong types), then run to the end by a host that fails
//! or succeeds tasks at random and fires every timer. Raw JSON and raw text go through
//! the loader too. The case counts keep the whole file to a few seconds.

use presso_asl::{Action, Command, Definition, Execution, StartContext};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Mostly valid paths; the last few are malformed on purpose (rarely picked).
const PATHS: &[&str] = &[
    "$",
    "$.a",
    "$.a.b",
    "$.a[0]",
    "$.a[-1]",
    "$.b",
    "$.n",
    "$.s",
    "$.missing",
    "$['a']",
    "$.a[0].b",
    "$",
    "$.a",
    "$.b",
    "$.n",
    "$.s",
    "$",
    "$.a",
    "$.b",
    "$.s",
    "$.n",
    "$",
    "$.a",
    "$.b",
    "$.n",
    "$.s",
    "$",
    "$.a",
    "$.b",
    "$.s",
    "$.n",
    "$",
    "$.a",
    "$.b",
    "$.n",
    "$.s",
    "$",
    "$.a",
    "$.b",
    "$.s",
    "$.n",
    "$..b",
    "$.a[*]",
    "$.a[1:]",
    "$.a[?(@.b > 1)]",
    "$$",
    "$$.Execution.Input",
    "$$.Map.Item.Value",
    "$$.Task.Token",
    "$.a[",
    "a.b",
    "",
    "$.",
    "$[*]",
];

const CALLS: &[&str] = &[
    "States.Format('{} {}', $.a, $.b)",
    "States.StringToJson($.s)",
    "States.JsonToString($)",
    "States.Array($.a, 1, 'x')",
    "States.ArrayPartition($.a, $.n)",
    "States.ArrayContains($.a, $.b)",
    "States.ArrayRange($.n, 10, $.n)",
    "States.ArrayGetItem($.a, $.n)",
    "States.ArrayLength($.a)",
    "States.ArrayUnique($.a)",
    "States.Base64Encode($.s)",
    "States.Base64Decode($.s)",
    "States.Hash($.s, 'SHA-256')",
    "States.JsonMerge($.a, $.b, false)",
    "States.MathRandom($.n, 100)",
    "States.MathAdd($.n, $.b)",
    "States.StringSplit($.s, ',')",
    "States.UUID()",
    "States.Format('\\{}')",
    "States.ArrayRange(0, 99999999, 1)",
    "States.Nope()",
    "States.Format(",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..20).prop_map(Value::from),
        (-1.0e3f64..1.0e3).prop_map(|f| json!(f)),
        prop::sample::select(PATHS).prop_map(|s| json!(s)),
        prop::sample::select(CALLS).prop_map(|s| json!(s)),
        "[a-z,{}$.\\\\']{0,8}".prop_map(Value::String),
        Just(json!("2024-01-01T00:00:00Z")),
        Just(json!("{\"a\":[1,2]}")),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-c]{1,2}(\\.\\$)?", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn template() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        prop_oneof![
            ("[a-c]{1,2}", arb_json()).prop_map(|(k, v)| (k, v)),
            ("[a-c]{1,2}", prop::sample::select(PATHS))
                .prop_map(|(k, p)| (format!("{k}.$"), json!(p))),
            ("[a-c]{1,2}", prop::sample::select(CALLS))
                .prop_map(|(k, c)| (format!("{k}.$"), json!(c))),
        ],
        0..4,
    )
    .prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn choice_rule(names: Vec<String>) -> impl Strategy<Value = Value> {
    let ops = prop::sample::select(vec![
        "StringEquals",
        "StringLessThan",
        "StringMatches",
        "NumericEquals",
        "NumericGreaterThanEquals",
        "BooleanEquals",
        "TimestampLessThan",
        "IsNull",
        "IsPresent",
        "IsNumeric",
        "IsString",
        "IsTimestamp",
        "NumericLessThanPath",
        "StringEqualsPath",
        "NumericEquals",
    ]);
    (
        prop::sample::select(PATHS),
        ops,
        leaf(),
        prop::sample::select(names),
        any::<u8>(),
    )
        .prop_map(|(var, op, val, next, shape)| {
            let mut base = json!({"Variable": var});
            base[op] = match op {
                "IsNull" | "IsPresent" | "IsNumeric" | "IsString" | "IsTimestamp" => {
                    json!(shape % 2 == 0)
                }
                _ => val,
            };
            let rule = match shape % 4 {
                0 => json!({"And": [base.clone(), {"Not": base}]}),
                1 => json!({"Or": [base]}),
                _ => base,
            };
            let mut r = rule;
            r["Next"] = json!(next);
            r
        })
}

fn state(names: Vec<String>, nested: Option<Value>) -> impl Strategy<Value = Value> {
    let ty = prop::sample::select(vec![
        "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
    ]);
    (
        ty,
        prop::sample::select(names.clone()),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 12),
        template(),
        arb_json(),
        prop::collection::vec(choice_rule(names), 1..3),
    )
        .prop_map(move |(ty, next, end, knobs, params, anyv, rules)| {
            let mut s = Map::new();
            s.insert("Type".into(), json!(ty));
            let path = |i: usize| json!(PATHS[knobs[i] as usize % PATHS.len()]);
            if !matches!(ty, "Choice" | "Succeed" | "Fail") {
                if end {
                    s.insert("End".into(), json!(true));
                } else {
                    s.insert("Next".into(), json!(next));
                }
            }
            if knobs[0] % 3 == 0 && ty != "Fail" {
                s.insert("InputPath".into(), path(1));
            }
            if knobs[2] % 3 == 0 && ty != "Fail" {
                s.insert("OutputPath".into(), path(3));
            }
            match ty {
                "Pass" => {
                    if knobs[4] % 2 == 0 {
                        s.insert("Parameters".into(), params);
                    } else {
                        s.insert("Result".into(), anyv);
                    }
                    if knobs[5] % 3 == 0 {
                        s.insert("ResultPath".into(), if knobs[6] % 2 == 0 { Value::Null } else { path(7) });
                    }
                }
                "Task" => {
                    let res = if knobs[4] % 2 == 0 { "arn:aws:states:::lambda:invoke" } else { "arn:aws:states:::events:putEvents.waitForTaskToken" };
                    s.insert("Resource".into(), json!(res));
                    let mut p = params;
                    if let Value::Object(m) = &mut p {
                        m.insert("t.$".into(), json!("$$.Task.Token"));
                    }
                    s.insert("Parameters".into(), p);
                    if knobs[5] % 2 == 0 {
                        s.insert("TimeoutSeconds".into(), json!(knobs[6] as u64 % 5 + 2));
                        s.insert("HeartbeatSeconds".into(), json!(1));
                    }
                    if knobs[7] % 2 == 0 {
                        s.insert("Retry".into(), json!([{"ErrorEquals": ["States.ALL"], "MaxAttempts": knobs[8] % 3, "JitterStrategy": "FULL"}]));
                    }
                    if knobs[9] % 2 == 0 {
                        s.insert("Catch".into(), json!([{"ErrorEquals": ["States.ALL"], "ResultPath": path(10), "Next": next}]));
                    }
                    if knobs[11] % 3 == 0 {
                        s.insert("ResultSelector".into(), json!({"x.$": "$.y"}));
                    }
                }
                "Choice" => {
                    s.insert("Choices".into(), Value::Array(rules));
                    if knobs[4] % 2 == 0 {
                        s.insert("Default".into(), json!(next));
                    }
                }
                "Wait" => {
                    match knobs[4] % 4 {
                        0 => s.insert("Seconds".into(), json!(knobs[5] % 4)),
                        1 => s.insert("SecondsPath".into(), path(5)),
                        2 => s.insert("Timestamp".into(), json!("2023-11-14T22:13:30Z")),
                        _ => s.insert("TimestampPath".into(), path(5)),
                    };
                }
                "Fail" => {
                    if knobs[4] % 2 == 0 {
                        s.insert("ErrorPath".into(), path(5));
                    } else {
                        s.insert("Error".into(), json!("E"));
                    }
                    if knobs[6] % 2 == 0 {
                        s.insert("CausePath".into(), json!(CALLS[knobs[7] as usize % CALLS.len()]));
                    }
                }
                "Parallel" => {
                    let inner = nested.clone().unwrap_or(json!({"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}}));
                    s.insert("Branches".into(), json!([inner.clone(), inner]));
                    if knobs[4] % 2 == 0 {
                        s.insert("Retry".into(), json!([{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}]));
                    }
                }
                "Map" => {
                    let inner = nested.clone().unwrap_or(json!({"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}}));
                    s.insert("ItemProcessor".into(), inner);
                    if knobs[4] % 2 == 0 {
                        s.insert("ItemsPath".into(), path(5));
                    }
                    if knobs[6] % 2 == 0 {
                        s.insert("ItemSelector".into(), json!({"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"}));
                    }
                    match knobs[7] % 4 {
                        0 => {
                            s.insert("MaxConcurrency".into(), json!(1));
                        }
                        1 => {
                            s.insert("MaxConcurrencyPath".into(), path(8));
                        }
                        2 => {
                            s.insert("ToleratedFailurePercentagePath".into(), path(8));
                        }
                        _ => {
                            s.insert("ToleratedFailureCount".into(), json!(1));
                        }
                    }
                }
                _ => {}
            }
            Value::Object(s)
        })
}

fn machine(nested: Option<Value>) -> impl Strategy<Value = Value> {
    // A chain S0 -> S1 -> S2 -> S3 (Choice rules and catchers may jump anywhere, loops included).
    let names: Vec<String> = (0..4).map(|i| format!("S{i}")).collect();
    prop::collection::vec(state(names, nested), 4).prop_map(chain)
}

/// Links four generated states into a chain `S0 -> S1 -> S2 -> S3` that can end.
fn chain(states: Vec<Value>) -> Value {
    {
        let m: Map<String, Value> = states
            .into_iter()
            .enumerate()
            .map(|(i, mut s)| {
                let ty = s
                    .get("Type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                if i < 3 && (ty == "Succeed" || ty == "Fail") {
                    s = json!({"Type": "Pass", "Next": "x"});
                }
                if i == 3 && ty == "Choice" {
                    s = json!({"Type": "Succeed"});
                }
                if let Value::Object(o) = &mut s {
                    if o.contains_key("Next") || o.contains_key("End") {
                        o.remove("Next");
                        o.remove("End");
                        if i < 3 {
                            o.insert("Next".into(), json!(format!("S{}", i + 1)));
                        } else {
                            o.insert("End".into(), json!(true));
                        }
                    }
                    if o.get("Type") == Some(&json!("Choice")) && i < 3 {
                        o.insert("Default".into(), json!(format!("S{}", i + 1)));
                    }
                }
                (format!("S{i}"), s)
            })
            .collect();
        json!({"StartAt": "S0", "States": m})
    }
}

fn definition() -> impl Strategy<Value = Value> {
    machine(None).prop_flat_map(|inner| machine(Some(inner)))
}

/// JSONata expressions: ordinary ones over `$states` and variables, and hostile ones
/// (unbounded recursion, huge ranges, wrong types, syntax errors, undefined results).
const EXPRS: &[&str] = &[
    "$states.input",
    "$states.input.a",
    "$states.input.n + 1",
    "$states.input.missing",
    "$states.result",
    "$states.errorOutput.Error",
    "$states.context.State.Name",
    "$states.context.Map.Item.Value",
    "$v",
    "$v.deep[0]",
    "$nope",
    "[1, 2, 3]",
    "$count($states.input.a)",
    "$string($states.input)",
    "$now()",
    "$millis()",
    "$random()",
    "$uuid()",
    "$partition([1,2,3], 2)",
    "$range(0, 10, 0)",
    "$hash('x', 'SHA-256')",
    "$parse('{\"a\":1}')",
    "$states.input.n > 2",
    "true",
    "null",
    "'2024-01-01T00:00:00Z'",
    "5",
    "-3",
    "1.5",
    "$count([1..5000000])",
    "$eval('1')",
    "{'a': $states.input}",
    "$states.input.a[$ > 1]",
    "$error('nope')",
];

/// Runs until the evaluation time guard stops it (tail recursion has no depth).
const RUNAWAY: &str = "{% ($f := function($n){ $f($n + 1) }; $f(0)) %}";

/// Syntax errors, refused at load.
const BAD_EXPRS: &[&str] = &["{% 1 + %}", "{% )( %}", "{% %}"];

fn jexpr() -> impl Strategy<Value = Value> {
    prop_oneof![
        60 => prop::sample::select(EXPRS).prop_map(|e| json!(format!("{{% {e} %}}"))),
        6 => leaf(),
        1 => prop::sample::select(BAD_EXPRS).prop_map(|e| json!(e)),
        1 => Just(json!(RUNAWAY)),
    ]
}

fn jtemplate() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => jexpr(),
        1 => prop::collection::vec(("[a-c]{1,2}", jexpr()), 0..3)
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        1 => prop::collection::vec(jexpr(), 0..3).prop_map(Value::Array),
    ]
}

fn jassign() -> impl Strategy<Value = Value> {
    // Mostly valid names; `states` (reserved) and `9x` (malformed) are refused at load.
    let name = prop_oneof![
        30 => prop::sample::select(vec!["v", "w"]),
        1 => prop::sample::select(vec!["states", "9x"])
    ];
    prop::collection::vec((name, jtemplate()), 0..3)
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

/// A JSONata state of any type; `nested` is the branch a Map or Parallel runs.
fn jstate(names: Vec<String>, nested: Option<Value>) -> impl Strategy<Value = Value> {
    let branch = nested.unwrap_or_else(
        || json!({"StartAt": "L", "States": {"L": {"Type": "Pass", "Output": "{% $states.input %}", "End": true}}}),
    );
    let next = prop::sample::select(names);
    (
        0u8..8,
        jtemplate(),
        jtemplate(),
        jassign(),
        jexpr(),
        next,
        any::<bool>(),
    )
        .prop_map(move |(ty, a, b, assign, e, next, catch)| {
            let mut s = match ty {
                0 => json!({"Type": "Pass", "Output": a, "Next": "x"}),
                1 => json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                            "Arguments": a, "Output": b, "TimeoutSeconds": e, "Next": "x"}),
                2 => json!({"Type": "Choice", "Choices": [{"Condition": e, "Next": next.clone(), "Output": a}], "Output": b}),
                3 => json!({"Type": "Wait", "Seconds": e, "Output": a, "Next": "x"}),
                4 => json!({"Type": "Wait", "Timestamp": e, "Next": "x"}),
                5 => json!({"Type": "Map", "Items": e, "ItemSelector": a, "Output": b,
                            "MaxConcurrency": 1, "ItemProcessor": branch.clone(), "Next": "x"}),
                6 => json!({"Type": "Parallel", "Arguments": a, "Output": b,
                            "Branches": [branch.clone()], "Next": "x"}),
                _ => json!({"Type": "Fail", "Error": e.clone(), "Cause": e}),
            };
            if ty != 7 && ty != 4 {
                s["Assign"] = assign.clone();
            }
            if catch && matches!(ty, 1 | 5 | 6) {
                s["Catch"] = json!([{"ErrorEquals": ["States.ALL"], "Next": next,
                                     "Output": b, "Assign": assign}]);
            }
            s
        })
}

fn jmachine(nested: Option<Value>) -> impl Strategy<Value = Value> {
    let names: Vec<String> = (0..4).map(|i| format!("S{i}")).collect();
    prop::collection::vec(jstate(names, nested), 4).prop_map(chain)
}

fn jsonata_definition() -> impl Strategy<Value = Value> {
    jmachine(None)
        .prop_flat_map(jmachine_with)
        .prop_map(|mut d| {
            d["QueryLanguage"] = json!("JSONata");
            d
        })
}

fn jmachine_with(inner: Value) -> impl Strategy<Value = Value> {
    jmachine(Some(inner))
}

/// Runs an execution to the end (or a step budget), answering tasks from `script`.
fn drive(def: Definition, input: Value, script: &[u8]) {
    let (mut exe, mut actions) = Execution::start(
        Arc::new(def),
        input,
        StartContext::new("M", "e", 1_700_000_000_000, 3),
    );
    let mut now = 1_700_000_000_000i64;
    let mut tasks = Vec::new();
    let mut timers = Vec::new();
    for step in 0..300 {
        for a in actions.drain(..) {
            match a {
                Action::RunTask(t) => tasks.push(t.task_id),
                Action::StartTimer {
                    timer_id,
                    fire_at_ms,
                } => timers.push((fire_at_ms, timer_id)),
                Action::CancelTimer { timer_id } => timers.retain(|(_, id)| *id != timer_id),
                Action::Finished(_) => return,
                Action::History(h) => {
                    let _ = serde_json::to_string(&h).expect("events serialize");
                }
            }
        }
        let knob = script.get(step % script.len().max(1)).copied().unwrap_or(0);
        let cmd = if !tasks.is_empty() && knob % 4 != 3 {
            let id = tasks.remove(knob as usize % tasks.len());
            match knob % 3 {
                0 => Command::TaskSucceeded {
                    task_id: id,
                    output: json!({"y": knob, "a": [1, 2]}),
                },
                1 => Command::TaskFailed {
                    task_id: id,
                    error: "Boom".into(),
                    cause: None,
                },
                _ => {
                    tasks.push(id);
                    Command::TaskHeartbeat { task_id: id }
                }
            }
        } else if let Some(i) = (0..timers.len()).min_by_key(|i| timers[*i]) {
            let (at, id) = timers.remove(i);
            now = now.max(at);
            Command::TimerFired { timer_id: id }
        } else if knob % 5 == 0 {
            Command::Stop {
                error: None,
                cause: None,
            }
        } else {
            Command::TaskSucceeded {
                task_id: u64::from(knob),
                output: Value::Null,
            }
        };
        match exe.handle(now, cmd) {
            Ok(a) => actions = a,
            Err(_) => actions = Vec::new(),
        }
        let _ = serde_json::to_string(&exe).expect("state serializes");
        if exe.outcome().is_some() {
            return;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_definitions_never_panic(def in definition(), input in arb_json(), script in prop::collection::vec(any::<u8>(), 1..16)) {
        // About a quarter of the generated definitions are valid; the rest exercise validation.
        if let Ok(d) = Definition::from_value(&def) {
            drive(d, input, &script);
        }
    }

    #[test]
    fn arbitrary_json_never_panics_the_loader(v in arb_json()) {
        let _ = Definition::from_value(&v);
        let _ = Definition::from_value(&json!({"StartAt": "A", "States": {"A": v}}));
    }

    #[test]
    fn arbitrary_text_never_panics_the_loader(s in "\\PC{0,64}") {
        let _ = Definition::parse(&s);
        let _ = Definition::from_value(&json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": s.clone()}, "InputPath": s, "End": true}}}));
    }
}

proptest! {
    // JSONata definitions evaluate many expressions each; fewer cases keep the file fast.
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_jsonata_definitions_never_panic(def in jsonata_definition(), input in arb_json(), script in prop::collection::vec(any::<u8>(), 1..16)) {
        if let Ok(mut d) = Definition::from_value(&def) {
            // Runaway (tail-recursive) expressions stop at the time guard: keep it short here.
            d.set_jsonata_timeout_ms(20);
            drive(d, input, &script);
        }
    }
}
