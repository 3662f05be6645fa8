//! Whatever JSON arrives as a pattern or an event, parsing and matching return an answer and never
//! panic. Random values are biased toward pattern-shaped JSON (operator names, value arrays, `$or`) so
//! the validation paths are exercised, not just the "Filter is not an object" one.

use presso_eventpattern::Pattern;
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

const KEYS: &[&str] = &[
    "source",
    "detail",
    "state",
    "a",
    "$or",
    "prefix",
    "suffix",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
    "wildcard",
    "equals-ignore-case",
    "exactly",
    "=",
    "<",
    "<=",
    ">",
    ">=",
];

const STRINGS: &[&str] = &[
    "",
    "a",
    "aws.ec2",
    "init",
    "*",
    "a*b",
    "**",
    "\\",
    "\\*",
    "10.0.0.0/24",
    "::1/64",
    "10.0.0.1",
    "2001:db8::1",
    "ÉCLAIR",
    "ß",
    "<=",
    ">",
    "=",
    "prefix",
    "$or",
    "300.1.2.3/8",
    "1/2/3",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        (-1.0e10..1.0e10f64).prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(STRINGS).prop_map(|s| Value::String(s.to_owned())),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(|entries| {
                let mut map = Map::new();
                for (k, v) in entries {
                    map.insert(k.to_owned(), v);
                }
                Value::Object(map)
            }),
        ]
    })
}

const OPERATORS: &[&str] = &[
    "prefix",
    "suffix",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
    "wildcard",
    "equals-ignore-case",
    "exactly",
];

/// Operands an operator might be given: scalars, short arrays, or a nested `{operator: operand}`.
fn operand() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => scalar(),
        2 => prop::collection::vec(scalar(), 0..5).prop_map(Value::Array),
        1 => (prop::sample::select(OPERATORS), scalar()).prop_map(|(op, v)| entry(op, v)),
        1 => (prop::sample::select(&["<", "<=", ">", ">=", "="][..]), -10i64..10, prop::sample::select(&["<", "<="][..]), -10i64..10)
            .prop_map(|(a, x, b, y)| serde_json::json!([a, x, b, y])),
    ]
}

fn entry(operator: &str, operand: Value) -> Value {
    let mut map = Map::new();
    map.insert(operator.to_owned(), operand);
    Value::Object(map)
}

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(
        &[
            "a", "aws.ec2", "init", "Latte", "x*y", "*.png", "ÉCLAIR", "", "**",
        ][..],
    )
    .prop_map(str::to_owned)
}

/// A value array as patterns hold them: scalars and `{operator: operand}` entries, mostly well formed.
fn value_array() -> impl Strategy<Value = Value> {
    let string_op =
        prop::sample::select(&["prefix", "suffix", "equals-ignore-case", "wildcard"][..]);
    let entry = prop_oneof![
        3 => scalar(),
        2 => (string_op.clone(), word()).prop_map(|(op, w)| entry(op, Value::String(w))),
        1 => (prop::sample::select(&["prefix", "suffix"][..]), word())
            .prop_map(|(op, w)| entry(op, entry("equals-ignore-case", Value::String(w)))),
        1 => any::<bool>().prop_map(|b| entry("exists", Value::Bool(b))),
        1 => (prop::sample::select(&[">", ">="][..]), -10i64..10, prop::sample::select(&["<", "<="][..]), 10i64..20)
            .prop_map(|(a, x, b, y)| entry("numeric", serde_json::json!([a, x, b, y]))),
        1 => (prop::sample::select(&["<", "<=", "=", ">", ">="][..]), -1.0e3..1.0e3f64)
            .prop_map(|(op, x)| entry("numeric", serde_json::json!([op, x]))),
        1 => word().prop_map(|w| entry("anything-but", Value::String(w))),
        1 => prop::collection::vec(-100i64..100, 1..4).prop_map(|v| entry("anything-but", serde_json::json!(v))),
        1 => (string_op, prop::collection::vec(word(), 1..3))
            .prop_map(|(op, ws)| entry("anything-but", entry(op, serde_json::json!(ws)))),
        1 => prop::sample::select(&["10.0.0.0/8", "10.0.0.0/24", "2001:db8::/32", "::/0"][..])
            .prop_map(|c| entry("cidr", Value::String(c.to_owned()))),
        1 => (prop::sample::select(OPERATORS), operand()).prop_map(|(op, v)| entry(op, v)),
    ];
    prop::collection::vec(entry, 1..4).prop_map(Value::Array)
}

/// Pattern-shaped JSON: most of it valid, some of it subtly not.
fn pattern_like() -> impl Strategy<Value = Value> {
    let field = prop::sample::select(&["source", "detail", "state", "a", "b", "items"][..]);
    let leaf_object =
        prop::collection::vec((field.clone(), value_array()), 1..4).prop_map(|entries| {
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            )
        });
    leaf_object.prop_recursive(4, 32, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(
                (field.clone(), prop_oneof![value_array(), inner.clone()]),
                1..4
            )
            .prop_map(|entries| Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect()
            )),
            (prop::collection::vec(inner.clone(), 2..4), inner).prop_map(|(branches, rest)| {
                let mut map = match rest {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                map.insert("$or".to_owned(), Value::Array(branches));
                Value::Object(map)
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn random_patterns_and_events_never_panic(pattern in json(), event in json()) {
        if let Ok(compiled) = Pattern::from_value(&pattern) {
            let _ = compiled.matches(&event);
            let _ = compiled.matches(&pattern);
        }
        let _ = Pattern::parse(&pattern.to_string());
    }

    #[test]
    fn pattern_shaped_json_compiles_or_is_refused_and_never_panics(pattern in pattern_like(), event in json()) {
        if let Ok(compiled) = Pattern::from_value(&pattern) {
            let _ = compiled.matches(&event);
            // A pattern-shaped event: the pattern itself, with its arrays and operator objects.
            let _ = compiled.matches(&pattern);
        }
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,64}") {
        let _ = Pattern::parse(&text);
    }

    #[test]
    fn a_valid_pattern_agrees_with_itself_through_text(pattern in json(), event in json()) {
        if let Ok(compiled) = Pattern::from_value(&pattern) {
            let reparsed = Pattern::parse(&pattern.to_string());
            prop_assert!(reparsed.is_ok());
            if let Ok(reparsed) = reparsed {
                prop_assert_eq!(compiled.matches(&event), reparsed.matches(&event));
            }
        }
    }
}

#[test]
fn the_pattern_strategy_produces_many_valid_patterns() {
    // Guards the test above against a strategy that only ever produces refused patterns, which would
    // leave matching unexercised.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = pattern_like();
    let valid = (0..500)
        .filter(|_| {
            strategy
                .new_tree(&mut runner)
                .map(|tree| Pattern::from_value(&tree.current()).is_ok())
                .unwrap_or(false)
        })
        .count();
    assert!(
        valid >= 150,
        "only {valid} of 500 generated patterns were valid"
    );
}
