//! No input makes the expression parser or evaluator panic: random token soups and random
//! text go through every kind of expression, and whatever parses is evaluated against an item.
//! Also: number parsing never panics and canonical forms round-trip.

use presso_dynamo::expr::{
    ExprContext, apply_update, eval_condition, parse_condition, parse_key_condition,
    parse_projection, parse_update, project,
};
use presso_dynamo::number::Number;
use presso_dynamo::{AttributeValue, Item};
use proptest::prelude::*;
use std::collections::HashMap;

const TOKENS: &[&str] = &[
    "a",
    "b",
    "l",
    "m",
    "#n",
    "#m",
    ":v",
    ":w",
    ":s",
    ":l",
    ":ss",
    "(",
    ")",
    "[",
    "]",
    "0",
    "1",
    "99999999999999999999",
    ",",
    ".",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "IN",
    "size",
    "begins_with",
    "contains",
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "if_not_exists",
    "list_append",
    "SET",
    "REMOVE",
    "ADD",
    "DELETE",
    "status",
    " ",
    "é",
    "#",
    ":",
    "$",
    "\u{0}",
];

fn item() -> Item {
    serde_json::from_str(
        r#"{"a":{"N":"1"},"b":{"S":"x"},"l":{"L":[{"N":"1"},{"M":{"k":{"S":"v"}}}]},"m":{"M":{"n":{"L":[]}}},"ss":{"SS":["p"]}}"#,
    )
    .unwrap_or_default()
}

fn values() -> HashMap<String, AttributeValue> {
    serde_json::from_str(
        r#"{":v":{"N":"2"},":w":{"S":"N"},":s":{"S":"x"},":l":{"L":[{"S":"y"}]},":ss":{"SS":["q"]}}"#,
    )
    .unwrap_or_default()
}

fn exercise(text: &str) {
    let names: HashMap<String, String> = [
        ("#n".to_string(), "a".to_string()),
        ("#m".to_string(), "m".to_string()),
    ]
    .into();
    let vals = values();
    let it = item();
    let Ok(mut ctx) = ExprContext::new(Some(&names), Some(&vals)) else {
        return;
    };
    if let Ok(c) = parse_condition("ConditionExpression", text, &mut ctx) {
        let _ = eval_condition(&c, &it);
        let _ = eval_condition(&c, &Item::new());
    }
    if let Ok(u) = parse_update(text, &mut ctx) {
        let mut copy = it.clone();
        let _ = apply_update(&u, &mut copy);
        let _ = apply_update(&u, &mut Item::new());
    }
    if let Ok(p) = parse_projection(text, &mut ctx) {
        let _ = project(&it, &p);
    }
    let _ = parse_key_condition(text, &mut ctx, "a");
    let _ = ctx.finish(true);
}

fn cases() -> u32 {
    // Bounded so a normal test run spends seconds here; raise for a longer fuzzing session.
    std::env::var("PRESSO_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn token_soups_never_panic(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..40), glue in prop::bool::ANY) {
        let text = tokens.join(if glue { " " } else { "" });
        exercise(&text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
        exercise(&text);
    }

    #[test]
    fn numbers_never_panic_and_canonical_forms_round_trip(text in "[-+]?[0-9]{0,45}(\\.[0-9]{0,45})?([eE][-+]?[0-9]{1,4})?") {
        if let Ok(n) = Number::parse(&text) {
            let canonical = n.to_canonical();
            prop_assert_eq!(Number::parse(&canonical), Ok(n.clone()));
            let _ = n.add(&n);
            let _ = n.sub(&Number::parse("1").unwrap_or_else(|_| Number::zero()));
        }
    }
}

#[test]
fn deeply_nested_input_is_refused_without_overflowing_the_stack() {
    for depth in [50, 500, 5000] {
        let text = format!("{}a = :v{}", "(".repeat(depth), ")".repeat(depth));
        exercise(&text);
        let nots = format!("{}a = :v", "NOT ".repeat(depth));
        exercise(&nots);
        let fns = format!(
            "SET a = {}:v{}",
            "if_not_exists(a, ".repeat(depth),
            ")".repeat(depth)
        );
        exercise(&fns);
    }
}
