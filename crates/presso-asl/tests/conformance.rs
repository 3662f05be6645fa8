//! Runs the executions recorded against real AWS Step Functions and compares.
//!
//! Data: `../shared/conformance/asl/cases.jsonl` beside the workspace (see its README
//! for the comparison rules implemented here). Every case runs on virtual time, in two
//! groups scored separately: JSONPath definitions without variables, and the JSONata
//! and variable (`Assign`) cases. Each group prints two scores (outcome, and outcome
//! plus history event types). A case that fails must be listed in
//! `tests/conformance_known_failures.tsv` with its reason; a listed case that passes
//! fails the test too, so the list can only shrink.

use presso_asl::{Action, Command, Definition, Execution, StartContext, Status};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

fn cases_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/asl/cases.jsonl")
}

fn has_assign(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.contains_key("Assign") || m.values().any(has_assign),
        Value::Array(a) => a.iter().any(has_assign),
        _ => false,
    }
}

const WILD_WORDS: &[&str] = &[
    "111111111111",
    "RandomNumberGenerated",
    "generated-uuid",
    "timestamp",
    "date",
];

#[derive(Debug)]
enum Tok {
    Lit(char),
    Wild,
}

/// Splits an expected string into literal characters and wildcards.
fn pattern(s: &str) -> (Vec<Tok>, bool) {
    let mut out = Vec::new();
    let mut any = false;
    let mut i = 0;
    let b = s.as_bytes();
    while i < s.len() {
        if b[i] == b'<'
            && let Some(j) = s[i..].find('>')
            && !s[i + 1..i + j].contains('<')
        {
            out.push(Tok::Wild);
            any = true;
            i += j + 1;
            continue;
        }
        if let Some(w) = WILD_WORDS.iter().find(|w| s[i..].starts_with(**w)) {
            out.push(Tok::Wild);
            any = true;
            i += w.len();
            continue;
        }
        let c = s[i..].chars().next().unwrap_or(' ');
        out.push(Tok::Lit(c));
        i += c.len_utf8();
    }
    (out, any)
}

fn glob(p: &[Tok], text: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(Tok::Lit(c)) if *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::Wild) => {
                star = Some((pi, ti));
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while matches!(p.get(pi), Some(Tok::Wild)) {
        pi += 1;
    }
    pi == p.len()
}

fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(e), a) => {
            let (pat, wild) = pattern(e);
            match a {
                // A string output may be recorded as its JSON text (`"\"text\""`).
                Value::String(s) => {
                    glob(&pat, s)
                        || serde_json::from_str::<Value>(e)
                            .is_ok_and(|d| d.is_string() && matches(&d, a))
                }
                // A whole-value placeholder stands for any value (a random number, say).
                _ if wild && matches!(pat.as_slice(), [Tok::Wild]) => true,
                _ => false,
            }
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| matches(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| matches(v, w)))
        }
        _ => expected == actual,
    }
}

struct Run {
    status: Status,
    output: Option<Value>,
    error: Option<String>,
    cause: Option<String>,
    history: Vec<String>,
}

fn run_case(def: Value, input: Value) -> Result<Run, String> {
    let def = Definition::from_value(&def).map_err(|e| format!("validation: {e}"))?;
    let mut ctx = StartContext::new("StateMachine", "exec-1", 1_763_900_000_000, 7);
    ctx.role_arn = "snf_role_arn".into();
    let (mut exe, mut actions) = Execution::start(Arc::new(def), input, ctx);
    let mut history = Vec::new();
    let mut timers: BTreeMap<(i64, u64), ()> = BTreeMap::new();
    let mut now = 1_763_900_000_000i64;
    for _ in 0..100_000 {
        let mut finished = None;
        for a in actions.drain(..) {
            match a {
                Action::History(evs) => {
                    history.extend(evs.events.iter().map(|e| e.event_type().to_owned()))
                }
                Action::StartTimer {
                    timer_id,
                    fire_at_ms,
                } => {
                    timers.insert((fire_at_ms, timer_id), ());
                }
                Action::CancelTimer { timer_id } => timers.retain(|(_, id), _| *id != timer_id),
                Action::RunTask(t) => return Err(format!("unexpected task {}", t.resource)),
                Action::Finished(o) => finished = Some(o),
            }
        }
        if let Some(o) = finished {
            return Ok(Run {
                status: o.status,
                output: o.output.as_deref().cloned(),
                error: o.error,
                cause: o.cause,
                history,
            });
        }
        let Some(((at, id), ())) = timers.pop_first() else {
            return Err("execution blocked with nothing pending".into());
        };
        now = now.max(at);
        actions = exe
            .handle(now, Command::TimerFired { timer_id: id })
            .map_err(|e| e.to_string())?;
    }
    Err("execution did not finish".into())
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Miss {
    Outcome,
    History,
}

/// Which cases a group scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    /// JSONPath definitions without `Assign`.
    JsonPath,
    /// JSONata definitions, and JSONPath definitions that use variables.
    JsonataAndVariables,
}

impl Group {
    fn of(case: &Value) -> Group {
        if case["ql"] == "JSONPath" && !has_assign(&case["definition"]) {
            Group::JsonPath
        } else {
            Group::JsonataAndVariables
        }
    }
}

#[test]
fn recorded_aws_executions_match() {
    let jsonpath = score(Group::JsonPath);
    let jsonata = score(Group::JsonataAndVariables);
    assert!(jsonpath.0 >= 98.0, "JSONPath outcome score below 98%");
    assert!(jsonpath.1 >= 90.0, "JSONPath history score below 90%");
    assert!(
        jsonata.0 >= 95.0,
        "JSONata and variables outcome score below 95%"
    );
    let unexpected = jsonpath.2 + jsonata.2;
    assert!(
        unexpected == 0,
        "{unexpected} unexpected result(s), see above"
    );
}

/// Runs one group and prints its scores; returns (outcome %, history %, unexpected results).
fn score(group: Group) -> (f64, f64, usize) {
    let text = std::fs::read_to_string(cases_path())
        .expect("the conformance data beside the workspace (../shared/conformance)");
    let known_text = include_str!("conformance_known_failures.tsv");
    let mut known: BTreeMap<(String, String), String> = BTreeMap::new();
    for line in known_text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut parts = line.splitn(3, '\t');
        let (Some(id), Some(kind), reason) = (parts.next(), parts.next(), parts.next()) else {
            panic!("bad known-failures line: {line}");
        };
        known.insert(
            (id.to_owned(), kind.to_owned()),
            reason.unwrap_or("").to_owned(),
        );
    }

    let mut total = 0usize;
    let mut outcome_ok = 0usize;
    let mut with_history = 0usize;
    let mut history_ok = 0usize;
    let mut cause_ok = 0usize;
    let mut failures: BTreeSet<(String, String)> = BTreeSet::new();
    let mut report = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("valid JSON line");
        if Group::of(&case) != group {
            continue;
        }
        total += 1;
        let id = case["id"].as_str().unwrap_or("?").to_owned();
        let expected = &case["expected"];
        let run = run_case(case["definition"].clone(), case["input"].clone());
        let mut misses = Vec::new();
        let mut detail = String::new();
        match &run {
            Err(e) => {
                misses.push(Miss::Outcome);
                detail = e.clone();
            }
            Ok(r) => {
                let want_status = expected["status"].as_str().unwrap_or("");
                let ok = match want_status {
                    "SUCCEEDED" => {
                        r.status == Status::Succeeded && {
                            let out = r.output.clone().unwrap_or(Value::Null);
                            let mut exp = expected["output"].clone();
                            if let (Value::String(s), false) = (&exp, out.is_string())
                                && let Ok(v) = serde_json::from_str::<Value>(s)
                            {
                                exp = v;
                            }
                            matches(&exp, &out)
                        }
                    }
                    "FAILED" => {
                        r.status == Status::Failed
                            && expected["error"].as_str().map(str::to_owned) == r.error
                    }
                    _ => false,
                };
                if ok {
                    if want_status == "FAILED" {
                        let cause_matches = match (&expected["cause"], &r.cause) {
                            (Value::Null, None) => true,
                            (e @ Value::String(_), Some(c)) => {
                                matches(e, &Value::String(c.clone()))
                            }
                            _ => false,
                        };
                        if cause_matches {
                            cause_ok += 1;
                        }
                    }
                } else {
                    misses.push(Miss::Outcome);
                    detail = format!(
                        "got {:?} output={} error={:?} cause={:?}; want {}",
                        r.status,
                        r.output.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                        r.error,
                        r.cause,
                        expected
                    );
                }
            }
        }
        if misses.is_empty() {
            outcome_ok += 1;
        }
        if let Value::Array(h) = &case["history_event_types"] {
            with_history += 1;
            let want: Vec<&str> = h.iter().filter_map(Value::as_str).collect();
            let got: Vec<&str> = run
                .as_ref()
                .map(|r| r.history.iter().map(String::as_str).collect())
                .unwrap_or_default();
            if misses.is_empty() && want == got {
                history_ok += 1;
            } else if misses.is_empty() {
                misses.push(Miss::History);
                detail = format!("history got {got:?}\n      want {want:?}");
            }
        }
        for m in misses {
            let kind = match m {
                Miss::Outcome => "outcome",
                Miss::History => "history",
            };
            failures.insert((id.clone(), kind.to_owned()));
            if !known.contains_key(&(id.clone(), kind.to_owned())) {
                report.push(format!("UNLISTED {kind} failure: {id}\n    {detail}"));
            }
        }
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            100.0
        } else {
            a as f64 * 100.0 / b as f64
        }
    };
    match group {
        Group::JsonPath => println!("ASL conformance: {total} JSONPath cases without Assign"),
        Group::JsonataAndVariables => {
            println!("ASL conformance: {total} JSONata cases and JSONPath cases with Assign")
        }
    }
    println!(
        "  outcome (status + output/error): {outcome_ok}/{total} = {:.1}%",
        pct(outcome_ok, total)
    );
    println!(
        "  outcome + history event types:   {history_ok}/{with_history} = {:.1}% (cases with recorded history)",
        pct(history_ok, with_history)
    );
    println!(
        "  outcome + history over all cases (unrecorded history counts as a match): {:.1}%",
        pct(
            outcome_ok - (with_history - history_ok).min(outcome_ok),
            total
        )
    );
    println!("  failed executions whose cause also matches: {cause_ok}");
    for (id, kind) in known.keys() {
        let in_group = text.lines().any(|l| {
            serde_json::from_str::<Value>(l)
                .is_ok_and(|c| c["id"] == id.as_str() && Group::of(&c) == group)
        });
        if in_group && !failures.contains(&(id.clone(), kind.clone())) {
            report.push(format!(
                "NOW PASSING (remove from the known-failures list): {id}\t{kind}"
            ));
        }
    }
    for r in &report {
        println!("{r}");
    }
    (
        pct(outcome_ok, total),
        pct(history_ok, with_history),
        report.len(),
    )
}
