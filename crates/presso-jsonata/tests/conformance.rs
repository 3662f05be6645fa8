//! The JSONata reference test suite, run as data: every case in
//! `../shared/conformance/jsonata/cases.jsonl` (relative to the workspace root) must pass unless
//! `known-failures.txt` lists it with a reason, and a listed case that now passes must be
//! removed from the list, so the list stays true.

use std::collections::BTreeMap;
use std::path::PathBuf;

use presso_jsonata::{Bindings, Error, Expression, Limits};
use serde_json::Value;

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/jsonata")
}

/// `group/case` -> reason.
fn known_failures() -> BTreeMap<String, String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/known-failures.txt");
    let text = std::fs::read_to_string(&path).expect("tests/known-failures.txt is readable");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((id, reason)) => (id.to_owned(), reason.trim().to_owned()),
            None => (l.to_owned(), String::new()),
        })
        .collect()
}

/// serde_json refuses lone surrogate escapes, which two cases contain; keep them as JSONata
/// escape text so the line still parses (the cases are then listed as known failures).
fn parse_line(line: &str) -> Value {
    match serde_json::from_str(line) {
        Ok(v) => v,
        Err(_) => serde_json::from_str(&line.replace("\\ud800", "\\\\ud800"))
            .expect("a case line is JSON"),
    }
}

/// Numbers compare as doubles with a relative tolerance (the suite's expected values were
/// printed by JavaScript), everything else structurally.
fn same(actual: &Value, expected: &Value, unordered: bool) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
        }
        (Value::Array(a), Value::Array(b)) if unordered => {
            let mut left: Vec<&Value> = a.iter().collect();
            a.len() == b.len()
                && b.iter().all(
                    |want| match left.iter().position(|got| same(got, want, false)) {
                        Some(i) => {
                            left.swap_remove(i);
                            true
                        }
                        None => false,
                    },
                )
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y, false))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same(v, w, false)))
        }
        _ => actual == expected,
    }
}

/// Runs one case; `Err` says why it failed.
fn run_case(case: &Value, datasets: &Value) -> Result<(), String> {
    let Some(expr) = case.get("expr").and_then(Value::as_str) else {
        return Err("the case's expression file is not part of the suite data".into());
    };
    let input = match (case.get("data"), case.get("dataset")) {
        (Some(data), _) => Some(data.clone()),
        (None, Some(Value::String(name))) => datasets.get(name).cloned(),
        _ => None,
    };
    let mut bindings = Bindings::new();
    // The suite expects the real time (`$now()` is compared with `$toMillis` defaults, which the
    // evaluator takes from the system clock), so this runner is the host and reads the clock.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    bindings.set_now_millis(now);
    if let Some(vars) = case.get("bindings").and_then(Value::as_object) {
        for (name, value) in vars {
            bindings.bind(name.clone(), value.clone());
        }
    }
    bindings.set_limits(Limits {
        max_depth: case
            .get("depth")
            .and_then(Value::as_u64)
            .map(|d| d as usize),
        timeout_ms: case.get("timelimit").and_then(Value::as_u64),
        max_sequence_length: None,
    });
    let outcome: Result<Option<Value>, Error> =
        Expression::compile(expr).and_then(|e| e.evaluate_input(input.as_ref(), &bindings));

    let expected_code = case
        .get("code")
        .or_else(|| case.get("error").and_then(|e| e.get("code")))
        .and_then(Value::as_str);
    match (expected_code, outcome) {
        (Some(code), Err(e)) if e.code() == code => Ok(()),
        (Some(code), other) => Err(format!("expected error {code}, got {other:?}")),
        (None, Err(e)) => Err(format!("unexpected error {e}")),
        (None, Ok(result)) => {
            if case.get("undefinedResult") == Some(&Value::Bool(true)) {
                return match result {
                    None => Ok(()),
                    Some(v) => Err(format!("expected undefined, got {v}")),
                };
            }
            let expected = case.get("result").ok_or("case has no expected result")?;
            let unordered = case.get("unordered") == Some(&Value::Bool(true));
            match result {
                Some(v) if same(&v, expected, unordered) => Ok(()),
                other => Err(format!("expected {expected}, got {other:?}")),
            }
        }
    }
}

#[test]
fn the_jsonata_reference_suite_passes_apart_from_listed_cases() {
    let dir = suite_dir();
    let cases = std::fs::read_to_string(dir.join("cases.jsonl"))
        .expect("the suite is at ../shared/conformance/jsonata");
    let datasets: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("datasets.json")).expect("datasets.json is readable"),
    )
    .expect("datasets.json is JSON");
    let known = known_failures();

    let (mut total, mut passed) = (0usize, 0usize);
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    let mut seen = Vec::new();
    for line in cases.lines().filter(|l| !l.trim().is_empty()) {
        let case = parse_line(line);
        let id = format!(
            "{}/{}",
            case["group"].as_str().unwrap_or("?"),
            case["case"].as_str().unwrap_or("?")
        );
        total += 1;
        let result = run_case(&case, &datasets);
        match (&result, known.contains_key(&id)) {
            (Ok(()), false) => passed += 1,
            (Ok(()), true) => {
                passed += 1;
                stale.push(id.clone());
            }
            (Err(why), false) => unexpected.push(format!("{id}: {why}")),
            (Err(_), true) => {}
        }
        seen.push(id);
    }
    let missing: Vec<_> = known.keys().filter(|k| !seen.contains(k)).collect();

    println!(
        "JSONata reference suite: {passed} of {total} cases pass ({:.1}%), {} listed as known failures",
        100.0 * passed as f64 / total as f64,
        known.len()
    );
    assert!(
        unexpected.is_empty(),
        "{} unlisted failures:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "listed as known failures but passing now (remove them): {stale:?}"
    );
    assert!(
        missing.is_empty(),
        "known failures naming no case: {missing:?}"
    );
}
