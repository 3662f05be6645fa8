//! No expression, however malformed or deeply nested, panics or overflows the stack: compiling
//! and evaluating always ends in a value, undefined, or an error with a code.
//!
//! Generators: random token sequences, arbitrary text, well-formed expressions, library calls
//! with edge-case arguments, formatter pictures and regex patterns.
//!
//! The property tests run on the test thread's ordinary stack (2 MiB), as a host's worker would,
//! with a small time limit so generated loops stay short; the whole file takes seconds.

use presso_jsonata::{Bindings, Error, Expression, Limits};
use proptest::prelude::*;
use serde_json::{Value, json};

fn input() -> Value {
    json!({
        "Account": {"Name": "Firefly", "Order": [
            {"OrderID": "o1", "Product": [{"Name": "Hat", "Price": 34.45, "Quantity": 2}]},
            {"OrderID": "o2", "Product": [{"Name": "Cloak", "Price": 107.99, "Quantity": 1}]}
        ]},
        "n": [3, 1, 2], "s": "hello", "b": true, "z": null, "o": {"a": {"b": {"c": 1}}}
    })
}

fn bindings() -> Bindings {
    let mut b = Bindings::step_functions();
    b.set_states(json!({"input": input(), "context": {"Execution": {"Id": "x"}}}))
        .set_now_millis(1_700_000_000_000)
        .set_random_seed(1)
        .set_limits(Limits {
            max_depth: Some(500),
            timeout_ms: Some(250),
            max_sequence_length: Some(100_000),
        });
    b
}

/// Compiles and evaluates; returns the error if any. Panics are the failure this file hunts.
fn run(src: &str) -> Option<Error> {
    match Expression::compile(src) {
        Err(e) => Some(e),
        Ok(expr) => expr.evaluate(&input(), &bindings()).err(),
    }
}

fn assert_no_internal_failure(src: &str) {
    if let Some(e) = run(src) {
        assert!(!e.code().is_empty(), "{src}: error without a code");
        assert_ne!(
            e.code(),
            "U1000",
            "{src}: the evaluator failed internally: {e}"
        );
    }
}

const TOKENS: &[&str] = &[
    "Account",
    "Order",
    "Product",
    "Price",
    "n",
    "s",
    "o",
    "a",
    "b",
    "`x y`",
    "$",
    "$$",
    "$x",
    "$states",
    "$f",
    ".",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    ",",
    ";",
    ":",
    ":=",
    "?",
    "+",
    "-",
    "*",
    "/",
    "%",
    "&",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "and",
    "or",
    "in",
    "~>",
    "..",
    "^(",
    "#$i",
    "@$v",
    "**",
    "|",
    "function($x){$x}",
    "λ",
    "1",
    "0",
    "-1",
    "2.5e3",
    "'str'",
    "\"q\"",
    "true",
    "false",
    "null",
    "$sum(",
    "$count(",
    "$map(",
    "$filter(",
    "$reduce(",
    "$string(",
    "$number(",
    "$substring(",
    "$split(",
    "$join(",
    "$match(",
    "$replace(",
    "$now(",
    "$fromMillis(",
    "$formatNumber(",
    "$formatInteger(",
    "$formatBase(",
    "$toMillis(",
    "$partition(",
    "$range(",
    "$hash(",
    "$random(",
    "$uuid(",
    "$parse(",
    "$eval(",
    "$sort(",
    "$lookup(",
    "$each(",
    "$spread(",
    "$merge(",
    "$keys(",
    "$zip(",
    "$sift(",
    "$single(",
    "$error(",
    "$assert(",
    "/[a-z]+/i",
    "'[Y0001]-[M01]'",
    "'#,##0.00'",
    "'w'",
    "'MD5'",
    "/*c*/",
    " ",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 1..24).prop_map(|t| t.concat())
}

/// Syntactically plausible expressions, so evaluation (not just the parser) gets exercised.
fn structured() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec![
        "Account.Order.Product.Price",
        "n",
        "s",
        "$states.input.n",
        "o.a.b.c",
        "1",
        "'x'",
        "[1,2,3]",
        "{'k': 1}",
        "$",
        "z",
        "b",
    ])
    .prop_map(str::to_owned);
    leaf.prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec![
                    "+", "-", "*", "/", "%", "&", "=", "<", "and", "or", "..", "in"
                ]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}.({b})")),
            inner.clone().prop_map(|a| format!("$string({a})")),
            inner.clone().prop_map(|a| format!("$count({a})")),
            inner.clone().prop_map(|a| format!("$sort({a})")),
            inner
                .clone()
                .prop_map(|a| format!("$map({a}, function($v, $i){{$v & $i}})")),
            inner.clone().prop_map(|a| format!("$partition({a}, 2)")),
            inner
                .clone()
                .prop_map(|a| format!("$hash($string({a}), 'SHA-256')")),
            inner.clone().prop_map(|a| format!("({a})^(>$)")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}{{$string({b}): $}}")),
            (inner.clone(), inner.clone(), inner).prop_map(|(a, b, c)| format!("{a} ? {b} : {c}")),
        ]
    })
}

const FUNCTIONS: &[&str] = &[
    "sum",
    "count",
    "max",
    "min",
    "average",
    "string",
    "substring",
    "substringBefore",
    "substringAfter",
    "uppercase",
    "lowercase",
    "length",
    "trim",
    "pad",
    "contains",
    "split",
    "join",
    "match",
    "replace",
    "now",
    "millis",
    "fromMillis",
    "toMillis",
    "formatNumber",
    "formatBase",
    "formatInteger",
    "parseInteger",
    "number",
    "abs",
    "floor",
    "ceil",
    "round",
    "power",
    "sqrt",
    "random",
    "boolean",
    "not",
    "exists",
    "append",
    "sort",
    "reverse",
    "shuffle",
    "distinct",
    "zip",
    "keys",
    "lookup",
    "spread",
    "merge",
    "sift",
    "each",
    "error",
    "assert",
    "type",
    "map",
    "filter",
    "single",
    "reduce",
    "base64encode",
    "base64decode",
    "encodeUrl",
    "encodeUrlComponent",
    "decodeUrl",
    "decodeUrlComponent",
    "eval",
    "partition",
    "range",
    "hash",
    "uuid",
    "parse",
];

/// Literal arguments chosen to sit on edges: huge, negative, fractional and empty values,
/// picture strings, regexes, malformed JSON, functions.
fn argument() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "0",
            "-1",
            "1e308",
            "-1e308",
            "1.5",
            "9007199254740993",
            "1e-7",
            "-0",
            "999999999999",
            "''",
            "'a'",
            "'[Y0001]-[M01]-[D01]T[H01]:[m01]'",
            "'[h]:[m] [P]'",
            "'#,##0.00'",
            "'0.0e0'",
            "'#%'",
            "'w'",
            "'i'",
            "'I'",
            "'1'",
            "'#'",
            "'[Y,2]'",
            "'[D#1]'",
            "'[F]'",
            "'[Z01:01t]'",
            "'2024-01-32'",
            "'not a date'",
            "'{\"a\":'",
            "'%E0%A4%A'",
            "'+01:00'",
            "'SHA-512'",
            "'MD5'",
            "/a*/",
            "/(/",
            "/[a-z]+/g",
            "[]",
            "[1,'a',null]",
            "{}",
            "{'a':{'b':[1,2]}}",
            "null",
            "true",
            "function($x){$x}",
            "function($a,$b){$a+$b}",
            "$string",
            "$",
            "n",
            "s",
            "Account.Order",
            "undefined_name",
        ])
        .prop_map(str::to_owned),
        any::<i64>().prop_map(|n| n.to_string()),
        r"[a-zA-Z0-9#,.%\[\]\- ]{0,12}".prop_map(|s| format!("'{s}'")),
    ]
}

fn function_call() -> impl Strategy<Value = String> {
    (
        prop::sample::select(FUNCTIONS),
        prop::collection::vec(argument(), 0..4),
    )
        .prop_map(|(f, args)| format!("${f}({})", args.join(", ")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn library_functions_never_panic_on_edge_arguments(src in function_call()) {
        assert_no_internal_failure(&src);
    }
}

/// Picture strings for the date and number formatters, from the characters their grammars use.
fn picture() -> impl Strategy<Value = String> {
    r"[\[\],\-*#0-9YMDdFWwXxHhPmsfZzCEnIiAaTt;.%‰eE'_ ]{0,14}"
}

fn formatter_call() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "$fromMillis(N, 'P')",
            "$fromMillis(N, 'P', '+0530')",
            "$toMillis('2024-02-03T04:05:06Z', 'P')",
            "$toMillis('S', 'P')",
            "$formatNumber(N, 'P')",
            "$formatInteger(N, 'P')",
            "$parseInteger('S', 'P')",
            "$now('P')",
        ]),
        prop::sample::select(vec![
            "0",
            "-1",
            "1.5",
            "1e15",
            "-8.64e15",
            "123456789",
            "1e21",
        ]),
        picture(),
        r"[0-9a-zA-Z ,\-:]{0,10}",
    )
        .prop_map(|(template, n, p, s)| {
            template
                .replace('N', n)
                .replace('P', &p.replace('\'', ""))
                .replace('S', &s)
        })
}

/// Calls of the regex functions with patterns drawn from regex syntax characters.
fn regex_call() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "$match(s, /R/)",
            "$replace(s, /R/, '$1x$0')",
            "$split(s, /R/)",
            "$contains(s, /R/i)",
            "$match('aaaa', /R/, 2)",
            "$replace('abc', /R/, function($m){ $m.match & $m.groups[0] })",
        ]),
        r"[a-z()\[\]*+?{}|^$.\\0-9,dws\-]{0,12}",
    )
        .prop_map(|(template, pattern)| template.replace('R', &pattern))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn regex_functions_never_panic_on_arbitrary_patterns(src in regex_call()) {
        assert_no_internal_failure(&src);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn formatters_never_panic_on_arbitrary_pictures(src in formatter_call()) {
        assert_no_internal_failure(&src);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(src in token_soup()) {
        assert_no_internal_failure(&src);
    }

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,40}") {
        assert_no_internal_failure(&src);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn structured_expressions_never_panic(src in structured()) {
        assert_no_internal_failure(&src);
    }
}

#[test]
fn deeply_nested_expressions_give_errors_not_stack_overflows() {
    for depth in [10, 100, 199, 200, 201, 1_000, 10_000, 100_000] {
        let open_close: [(&str, &str); 4] =
            [("(", ")"), ("[", "]"), ("{'a':", "}"), ("$string(", ")")];
        for (open, close) in open_close {
            let src = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            assert_no_internal_failure(&src);
        }
        for src in [
            format!("{}1", "-".repeat(depth)),
            format!("a{}", ".b".repeat(depth)),
            format!("1{}", "+1".repeat(depth)),
            format!("1{}", " ~> $string".repeat(depth)),
            format!("{}1", "true ? ".repeat(depth) + &" : 0".repeat(depth)),
            format!("[1]{}", "[0]".repeat(depth)),
            format!("{}1", "$x := ".repeat(depth)),
        ] {
            assert_no_internal_failure(&src);
        }
    }
}

#[test]
fn unbounded_recursion_ends_in_u1001() {
    let e = run("($f := function($n){ $f($n + 1) + 1 }; $f(0))").expect("an error");
    assert_eq!(e.code(), "U1001", "{e}");
    // Without a configured depth limit the built-in guard still stops it.
    let expr = Expression::compile("($f := function($n){ $f($n + 1) + 1 }; $f(0))").unwrap();
    let e = expr
        .evaluate(&json!({}), &Bindings::new())
        .expect_err("an error");
    assert_eq!(e.code(), "U1001", "{e}");
}

#[test]
fn deeply_nested_results_and_inputs_give_errors() {
    // A recursive function building nested arrays deeper than the conversion limit.
    let e = run("($f := function($n){ $n = 0 ? [] : [$f($n - 1)] }; $f(400))");
    assert!(e.is_some_and(|e| e.code() == "U1001"));
    let mut deep = json!(1);
    for _ in 0..300 {
        deep = json!([deep]);
    }
    let expr = Expression::compile("$").unwrap();
    let e = expr
        .evaluate(&deep, &Bindings::new())
        .expect_err("too deep");
    assert_eq!(e.code(), "U1001");
}
