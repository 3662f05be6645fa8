//! The functions this crate adds or replaces, through the public API: Step Functions'
//! `$partition`, `$range`, `$hash`, `$random(seed)`, `$uuid`, `$parse`, and the host-driven
//! `$now`, `$millis`, `$random`, `$shuffle`.

use presso_jsonata::{Bindings, Error, Expression};
use serde_json::{Value, json};

fn sfn() -> Bindings {
    Bindings::step_functions()
}

fn eval_with(expr: &str, bindings: &Bindings) -> Result<Option<Value>, Error> {
    Expression::compile(expr)?.evaluate(&json!({}), bindings)
}

fn eval(expr: &str) -> Value {
    match eval_with(expr, &sfn()) {
        Ok(Some(v)) => v,
        other => panic!("{expr}: expected a value, got {other:?}"),
    }
}

fn error_code(expr: &str) -> String {
    match eval_with(expr, &sfn()) {
        Err(e) => e.code().to_owned(),
        other => panic!("{expr}: expected an error, got {other:?}"),
    }
}

#[test]
fn partition_splits_an_array_into_chunks_with_a_short_last_chunk() {
    assert_eq!(
        eval("$partition([1,2,3,4,5,6,7,8,9], 3)"),
        json!([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    );
    assert_eq!(eval("$partition([1,2,3,4], 3)"), json!([[1, 2, 3], [4]]));
    assert_eq!(eval("$partition([], 2)"), json!([]));
}

#[test]
fn partition_rejects_a_chunk_size_that_is_not_a_positive_integer() {
    assert_eq!(error_code("$partition([1,2], 0)"), "D3201");
    assert_eq!(error_code("$partition([1,2], 1.5)"), "D3201");
    assert_eq!(error_code("$partition([1,2], 'x')"), "T0410");
}

#[test]
fn range_counts_inclusively_in_both_directions() {
    assert_eq!(eval("$range(0, 10, 2)"), json!([0, 2, 4, 6, 8, 10]));
    assert_eq!(eval("$range(1, 4)"), json!([1, 2, 3, 4]));
    assert_eq!(eval("$range(5, 1, -2)"), json!([5, 3, 1]));
    assert_eq!(eval("$range(5, 1, 1)"), json!([]));
}

#[test]
fn a_range_of_one_item_is_that_item_as_aws_returns_it() {
    assert_eq!(eval("$range(1, 9, 9)"), json!(1));
    assert_eq!(eval("$count($range(1, 9, 9))"), json!(1));
}

#[test]
fn range_refuses_a_zero_step_and_oversized_ranges() {
    assert_eq!(error_code("$range(0, 10, 0)"), "D3202");
    assert_eq!(error_code("$range(0, 1000)"), "D3202");
    assert_eq!(eval("$count($range(1, 1000))"), json!(1000));
}

#[test]
fn hash_supports_the_five_step_functions_algorithms() {
    assert_eq!(
        eval("$hash('input data', 'MD5')"),
        json!("812f45842bc6d66ee14572ce20db8e86")
    );
    assert_eq!(
        eval("$hash('abc', 'SHA-1')"),
        json!("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert_eq!(
        eval("$hash('abc', 'SHA-256')"),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    for (alg, len) in [("SHA-384", 96), ("SHA-512", 128)] {
        let digest = eval(&format!("$hash('abc', '{alg}')"));
        assert_eq!(digest.as_str().map(str::len), Some(len), "{alg}");
    }
    assert_eq!(error_code("$hash('abc', 'CRC32')"), "D3203");
    assert_eq!(error_code("$hash(42, 'MD5')"), "T0410");
    assert_eq!(error_code("$hash('abc')"), "T0410");
}

#[test]
fn random_with_a_seed_repeats_and_without_one_follows_the_host_seed() {
    let a = eval("$random(42)");
    assert_eq!(a, eval("$random(42)"));
    assert_ne!(a, eval("$random(43)"));
    let x = a.as_f64().unwrap_or(-1.0);
    assert!((0.0..1.0).contains(&x));

    let mut b = sfn();
    b.set_random_seed(7);
    let first = eval_with("[$random(), $random()]", &b).unwrap();
    assert_eq!(first, eval_with("[$random(), $random()]", &b).unwrap());
    let pair = first.unwrap();
    assert_ne!(pair[0], pair[1], "successive draws differ");
    b.set_random_seed(8);
    assert_ne!(Some(pair), eval_with("[$random(), $random()]", &b).unwrap());
}

#[test]
fn plain_jsonata_random_ignores_arguments() {
    let mut b = Bindings::new();
    b.set_random_seed(5);
    assert_eq!(
        eval_with("$random(1)", &b).unwrap(),
        eval_with("$random()", &b).unwrap()
    );
}

#[test]
fn added_functions_work_as_higher_order_arguments() {
    assert_eq!(
        eval(r#"$map(['{"a":1}', '[2]'], $parse)"#),
        json!([{"a": 1}, [2]])
    );
    assert_eq!(
        eval("$map(['a', 'b'], function($s){ $hash($s, 'MD5') ~> $length() })"),
        json!([32, 32])
    );
    assert_eq!(eval("[1,2,3] ~> $partition(2)"), json!([[1, 2], [3]]));
    let mut b = Bindings::new();
    b.set_now_millis(42);
    assert_eq!(
        eval_with("$map([1, 2], $millis)", &b).unwrap(),
        Some(json!([42, 42]))
    );
    assert_eq!(eval("($f := $uuid; $string($f()) ~> $length())"), json!(36));
}

#[test]
fn uuid_is_a_version_4_uuid_drawn_from_the_host_seed() {
    let mut b = sfn();
    b.set_random_seed(99);
    let id = eval_with("$uuid()", &b).unwrap().unwrap();
    let id = id.as_str().unwrap_or_default().to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4");
    assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    assert_eq!(Some(json!(id)), eval_with("$uuid()", &b).unwrap());
    let two = eval("[$uuid(), $uuid()]");
    assert_ne!(two[0], two[1]);
}

#[test]
fn parse_turns_a_json_string_into_a_value() {
    assert_eq!(
        eval(r#"$parse('{"a": [1, true, null]}')"#),
        json!({"a": [1, true, null]})
    );
    assert_eq!(eval("$parse('\"x\"')"), json!("x"));
    assert_eq!(error_code("$parse('{oops')"), "D3204");
}

#[test]
fn step_functions_functions_are_absent_from_plain_jsonata() {
    for expr in ["$uuid()", "$partition([1], 1)", "$parse('1')"] {
        let e = eval_with(expr, &Bindings::new()).unwrap_err();
        assert_eq!(e.code(), "T1006", "{expr}: {e}");
    }
}

#[test]
fn eval_is_refused_in_step_functions() {
    assert_eq!(error_code("$eval('1 + 1')"), "D3205");
    assert_eq!(
        eval_with("$eval('1 + 1')", &Bindings::new()).unwrap(),
        Some(json!(2))
    );
}

#[test]
fn now_and_millis_report_the_host_clock() {
    let mut b = Bindings::new();
    b.set_now_millis(1_700_000_000_123);
    assert_eq!(
        eval_with("$millis()", &b).unwrap(),
        Some(json!(1_700_000_000_123_i64))
    );
    assert_eq!(
        eval_with("$now()", &b).unwrap(),
        Some(json!("2023-11-14T22:13:20.123Z"))
    );
    assert_eq!(
        eval_with("$now('[Y0001]-[M01]-[D01]')", &b).unwrap(),
        Some(json!("2023-11-14"))
    );
    assert_eq!(
        eval_with("$now('[H01]:[m01]', '+0100')", &b).unwrap(),
        Some(json!("23:13"))
    );
}

#[test]
fn shuffle_is_a_permutation_fixed_by_the_seed() {
    let mut b = Bindings::new();
    b.set_random_seed(3);
    let once = eval_with("$shuffle([1,2,3,4,5,6,7,8])", &b)
        .unwrap()
        .unwrap();
    assert_eq!(
        Some(once.clone()),
        eval_with("$shuffle([1,2,3,4,5,6,7,8])", &b).unwrap()
    );
    let mut sorted: Vec<i64> = once
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn states_is_visible_to_expressions() {
    let mut b = sfn();
    b.set_states(json!({"input": {"order": {"id": "o-1"}}, "context": {"Execution": {"Id": "e"}}}));
    assert_eq!(
        eval_with(
            "{'id': $states.input.order.id, 'ex': $states.context.Execution.Id}",
            &b
        )
        .unwrap(),
        Some(json!({"id": "o-1", "ex": "e"}))
    );
}

#[test]
fn errors_carry_jsonata_codes() {
    let e = Expression::compile("1 +").unwrap_err();
    assert!(matches!(e, Error::Compile { .. }));
    assert_eq!(e.code(), "S0207");
    let e = eval_with("1 + 'a'", &sfn()).unwrap_err();
    assert!(matches!(e, Error::Evaluate { .. }));
    assert_eq!(e.code(), "T2002");
    assert_eq!(e.states_error(), "States.QueryEvaluationError");
}

#[test]
fn undefined_results_are_none() {
    assert_eq!(eval_with("nothing.here", &sfn()).unwrap(), None);
    assert_eq!(eval_with("$partition(nothing, 2)", &sfn()).unwrap(), None);
}

#[test]
fn one_compiled_expression_serves_many_inputs() {
    let expr = Expression::compile("items[price > 1].name").unwrap();
    let b = Bindings::new();
    for (input, want) in [
        (
            json!({"items": [{"name": "a", "price": 2}]}),
            Some(json!("a")),
        ),
        (
            json!({"items": [{"name": "a", "price": 2}, {"name": "b", "price": 3}]}),
            Some(json!(["a", "b"])),
        ),
        (json!({"items": []}), None),
    ] {
        assert_eq!(expr.evaluate(&input, &b).unwrap(), want);
    }
}

#[test]
fn compiled_expressions_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Expression>();
    assert_send_sync::<Bindings>();
}

#[test]
fn evaluations_in_one_scope_continue_the_random_stream() {
    let mut b = sfn();
    b.set_random_seed(11).set_states(json!({"input": {"n": 2}}));
    let scope = b.scope().unwrap();
    let uuid = Expression::compile("$uuid()").unwrap();
    let first = uuid.evaluate_in(None, &scope).unwrap();
    let second = uuid.evaluate_in(None, &scope).unwrap();
    assert_ne!(first, second);
    // A fresh scope from the same bindings replays the same stream.
    let again = b.scope().unwrap();
    assert_eq!(uuid.evaluate_in(None, &again).unwrap(), first);
    let n = Expression::compile("$states.input.n * 2").unwrap();
    assert_eq!(n.evaluate_in(None, &scope).unwrap(), Some(json!(4)));
}

#[test]
fn pad_works_but_refuses_gigantic_widths() {
    assert_eq!(eval("$pad('ab', 5, '-')"), json!("ab---"));
    assert_eq!(eval("$pad('ab', -4)"), json!("  ab"));
    assert_eq!(error_code("$pad('ab', 5846180827986043830)"), "D3206");
    assert_eq!(error_code("$pad('ab', -1e12, 'x')"), "D3206");
}

#[test]
fn roman_numerals_work_but_refuse_gigantic_numbers() {
    assert_eq!(eval("$formatInteger(1999, 'I')"), json!("MCMXCIX"));
    assert_eq!(eval("$formatInteger(12, 'w')"), json!("twelve"));
    assert_eq!(
        error_code("$formatInteger(-1043826007544496193, 'I')"),
        "D3206"
    );
}

#[test]
fn substring_survives_huge_indexes_and_keeps_its_meaning() {
    assert_eq!(eval("$substring('hello', 1, 3)"), json!("ell"));
    assert_eq!(eval("$substring('hello', -3)"), json!("llo"));
    assert_eq!(
        eval("$substring('hello', 1867569717617053668, 8004900197300068913)"),
        json!("")
    );
    assert_eq!(eval("$substring('hello', -1e300, 2)"), json!("he"));
    assert_eq!(
        eval("$substringBefore('a-b', '-') & $substring('xy', 1)"),
        json!("ay")
    );
    // A variable of that name is left alone.
    assert_eq!(
        eval("($substring := function($s){ 'mine' }; $substring('x'))"),
        json!("mine")
    );
    assert_eq!(error_code("$substring('x', 1, 'a')"), "T0410");
}

#[test]
fn from_millis_refuses_instants_and_timezones_beyond_any_date() {
    assert_eq!(
        eval("$fromMillis(1700000000123)"),
        json!("2023-11-14T22:13:20.123Z")
    );
    assert_eq!(
        eval("$fromMillis(0, '[H01]:[m01]', '+0130')"),
        json!("01:30")
    );
    assert_eq!(error_code("$fromMillis(1e308, 'r', '2024-01-32')"), "D3207");
    assert_eq!(
        error_code("$fromMillis(0, '[H]', '99999999999999999')"),
        "D3207"
    );
    assert_eq!(error_code("$now('[H]', '99999999999999999')"), "D3207");
    assert_eq!(error_code("$fromMillis(-1e20)"), "D3207");
    // Without arguments it formats the context, as before.
    assert_eq!(
        eval("$map([0, 1], function($v){ $v.$fromMillis() })"),
        json!(["1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.001Z"])
    );
}

#[test]
fn date_pictures_with_a_nameless_component_are_errors() {
    assert_eq!(error_code("$fromMillis(0, 'JG[,%d %%k]')"), "D3132");
    assert_eq!(error_code("$now('[,2]')"), "D3132");
    assert_eq!(error_code("$toMillis('2024', '[,]')"), "D3132");
    assert_eq!(eval("$fromMillis(0, '[[[Y]]]')"), json!("[1970]"));
    assert_eq!(
        eval("$toMillis('2024-02-03', '[Y]-[M]-[D]')"),
        json!(1_706_918_400_000_i64)
    );
}
