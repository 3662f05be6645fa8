//! The event-pattern language as data: `data/matching.jsonl` holds (pattern, event, expected) cases for
//! every operator, positive and negative, including the examples of the EventBridge user guide
//! (names starting with `guide_`); `data/invalid.jsonl` holds patterns EventBridge refuses, with the
//! message it gives. Every case runs and all failures are reported together.

use presso_eventpattern::{MAX_OR_COMBINATIONS, MAX_PATTERN_LENGTH, Pattern, PatternError};
use serde_json::{Value, json};

fn cases(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{file}:{}: {e}", n + 1))
        })
        .collect()
}

fn name(case: &Value) -> &str {
    case["name"].as_str().expect("every case has a name")
}

#[test]
fn every_matching_case_gives_the_expected_answer() {
    let cases = cases("matching.jsonl");
    assert!(cases.len() >= 150, "the table should cover every operator");
    let mut failures = Vec::new();
    for case in &cases {
        let expected = case["matches"].as_bool().expect("matches is a boolean");
        match Pattern::from_value(&case["pattern"]) {
            Ok(pattern) => {
                let got = pattern.matches(&case["event"]);
                if got != expected {
                    failures.push(format!("{}: expected {expected}, got {got}", name(case)));
                }
            }
            Err(e) => failures.push(format!("{}: pattern refused: {e}", name(case))),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_matching_case_gives_the_same_answer_from_text() {
    // The text path (what the API receives) must agree with the value path.
    for case in cases("matching.jsonl") {
        let text = case["pattern"].to_string();
        let from_text = Pattern::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", name(&case)));
        assert_eq!(
            from_text.matches(&case["event"]),
            case["matches"].as_bool().unwrap_or_default(),
            "{}",
            name(&case)
        );
    }
}

#[test]
fn every_invalid_pattern_is_refused_with_eventbridges_message() {
    let cases = cases("invalid.jsonl");
    assert!(
        cases.len() >= 60,
        "the table should cover every validation rule"
    );
    let mut failures = Vec::new();
    for case in &cases {
        let expected = case["error"].as_str().expect("error is a string");
        let result = match case.get("pattern_text") {
            Some(text) => Pattern::parse(text.as_str().expect("pattern_text is a string")),
            None => Pattern::parse(&case["pattern"].to_string()),
        };
        match result {
            Ok(_) => failures.push(format!(
                "{}: accepted, expected error containing {expected:?}",
                name(case)
            )),
            Err(e) => {
                let message = e.to_string();
                if !message.contains(expected) {
                    failures.push(format!(
                        "{}: got {message:?}, expected it to contain {expected:?}",
                        name(case)
                    ));
                }
                if e.error_type() != "InvalidEventPatternException" {
                    failures.push(format!("{}: error type {}", name(case), e.error_type()));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn case_names_are_unique_across_both_tables() {
    let mut names: Vec<String> = cases("matching.jsonl")
        .iter()
        .chain(cases("invalid.jsonl").iter())
        .map(|c| name(c).to_owned())
        .collect();
    let total = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), total);
}

#[test]
fn a_pattern_longer_than_the_api_allows_is_a_validation_error() {
    let values: Vec<String> = (0..400).map(|i| format!("value-{i:05}")).collect();
    let text = json!({ "source": values }).to_string();
    assert!(text.chars().count() > MAX_PATTERN_LENGTH);
    let error = Pattern::parse(&text).expect_err("too long");
    assert!(matches!(error, PatternError::TooLong { .. }));
    assert_eq!(error.error_type(), "ValidationException");
    assert!(
        error
            .to_string()
            .contains("Member must have length less than or equal to 4096")
    );
}

#[test]
fn a_pattern_at_the_length_limit_is_accepted() {
    let filler = "x".repeat(MAX_PATTERN_LENGTH - r#"{"source":[""]}"#.len());
    let text = format!(r#"{{"source":["{filler}"]}}"#);
    assert_eq!(text.chars().count(), MAX_PATTERN_LENGTH);
    assert!(Pattern::parse(&text).is_ok());
}

#[test]
fn or_blocks_that_multiply_out_too_far_are_refused() {
    // Four independent ten-way `$or` blocks make 10^4 alternatives.
    let block = |field: &str| {
        let branches: Vec<Value> = (0..10)
            .map(|i| json!({ format!("{field}{i}"): [i] }))
            .collect();
        json!({ "$or": branches })
    };
    let pattern = json!({ "a": block("a"), "b": block("b"), "c": block("c"), "d": block("d") });
    let error = Pattern::from_value(&pattern).expect_err("too complex");
    assert!(matches!(error, PatternError::TooComplex { max, .. } if max == MAX_OR_COMBINATIONS));
    assert!(
        error
            .to_string()
            .starts_with("Event pattern is not valid. Reason: Rule is too complex")
    );

    // Three such blocks make exactly 1000 and are fine.
    let pattern = json!({ "a": block("a"), "b": block("b"), "c": block("c") });
    let compiled = Pattern::from_value(&pattern).expect("1000 alternatives are allowed");
    assert!(compiled.matches(&json!({ "a": {"a3": 3}, "b": {"b9": 9}, "c": {"c0": 0} })));
    assert!(!compiled.matches(&json!({ "a": {"a3": 3}, "b": {"b9": 8}, "c": {"c0": 0} })));
}

#[test]
fn a_path_written_twice_in_one_alternative_keeps_the_later_values() {
    // EventBridge multiplies `$or` out in document order and a later value array for the same path
    // replaces the earlier one within an alternative.
    let pattern = Pattern::parse(r#"{"state": ["a"], "$or": [{"state": ["b"]}, {"kind": ["k"]}]}"#)
        .expect("valid");
    assert!(pattern.matches(&json!({"state": "b"})));
    assert!(pattern.matches(&json!({"state": "a", "kind": "k"})));
    assert!(!pattern.matches(&json!({"state": "a"})));
}

#[test]
fn deep_patterns_are_refused_instead_of_exhausting_the_stack() {
    let mut pattern = json!({"leaf": ["x"]});
    for _ in 0..200 {
        pattern = json!({ "n": pattern });
    }
    assert!(Pattern::from_value(&pattern).is_err());
}

#[test]
fn patterns_parse_through_from_str() {
    let pattern: Pattern = r#"{"source": ["aws.ec2"]}"#.parse().expect("valid");
    assert!(pattern.matches(&json!({"source": "aws.ec2"})));
}

#[test]
fn a_compiled_pattern_can_be_shared_across_threads() {
    // The event bus keeps compiled rules in shared state and matches from many tasks at once.
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Pattern>();
    shareable::<PatternError>();
}
