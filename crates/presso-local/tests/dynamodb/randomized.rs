//! Seeded random operation sequences over a small key space, so that writes collide, conditions
//! flip and pages split at varying places. The same seed yields the same sequence on every run.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const WORDS: [&str; 6] = ["alpha", "beta", "gamma", "delta", "al", "b"];

fn n(x: i64) -> Value {
    json!({"N": x.to_string()})
}

fn s(x: &str) -> Value {
    json!({"S": x})
}

fn key(r: &mut StdRng) -> Value {
    let pk = ["a", "b", "c"][r.random_range(0..3)];
    json!({"pk": s(pk), "sk": n(r.random_range(0..15))})
}

fn item(r: &mut StdRng) -> Value {
    let mut it = key(r);
    it["n"] = n(r.random_range(-20..20));
    it["w"] = s(WORDS[r.random_range(0..WORDS.len())]);
    if r.random_bool(0.5) {
        it["g"] = s(["x", "y"][r.random_range(0..2)]);
    }
    if r.random_bool(0.3) {
        it["tags"] = json!({"SS": [WORDS[r.random_range(0..3)], "z"]});
    }
    if r.random_bool(0.3) {
        it["l"] = json!({"L": [n(1), s("two")]});
    }
    it
}

fn return_values(r: &mut StdRng, all: bool) -> &'static str {
    let opts: &[&str] = if all {
        // UPDATED_OLD/UPDATED_NEW are compared in the hand-written scenarios (deviation D10).
        &["NONE", "ALL_OLD", "ALL_NEW"]
    } else {
        &["NONE", "ALL_OLD"]
    };
    opts[r.random_range(0..opts.len())]
}

fn condition(r: &mut StdRng) -> Option<(String, Value)> {
    match r.random_range(0..6) {
        0 => Some(("attribute_not_exists(pk)".into(), json!(null))),
        1 => Some(("attribute_exists(pk)".into(), json!(null))),
        2 => Some(("n < :c1".into(), json!({":c1": n(r.random_range(-10..10))}))),
        3 => Some((
            "begins_with(w, :c1) OR contains(tags, :c2)".into(),
            json!({":c1": s("al"), ":c2": s("z")}),
        )),
        _ => None,
    }
}

fn with_condition(mut input: Value, cond: Option<(String, Value)>) -> Value {
    if let Some((text, values)) = cond {
        input["ConditionExpression"] = json!(text);
        if let Value::Object(v) = values {
            let mut merged = input["ExpressionAttributeValues"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            merged.extend(v);
            input["ExpressionAttributeValues"] = Value::Object(merged);
        }
    }
    input
}

/// One table, `count` random steps.
pub fn sequence(seed: u64, count: usize) -> Vec<Value> {
    let mut r = StdRng::seed_from_u64(seed);
    let mut steps = vec![json!({"op": "CreateTable", "input": {
        "TableName": "Rand",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
                                 {"AttributeName": "g", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{"IndexName": "ByG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "ALL"}}],
        "BillingMode": "PAY_PER_REQUEST"}})];
    for _ in 0..count {
        let step = match r.random_range(0..100) {
            0..30 => {
                let input = json!({"TableName": "Rand", "Item": item(&mut r), "ReturnValues": return_values(&mut r, false)});
                json!({"op": "PutItem", "input": with_condition(input, condition(&mut r))})
            }
            30..55 => {
                let (expr, values) = match r.random_range(0..7) {
                    0 => ("SET n = n + :d", json!({":d": n(r.random_range(-5..5))})),
                    1 => ("ADD cnt :d", json!({":d": n(1)})),
                    2 => (
                        "SET w = :w, n = if_not_exists(n, :z)",
                        json!({":w": s(WORDS[r.random_range(0..6)]), ":z": n(0)}),
                    ),
                    3 => ("REMOVE w, l[0]", json!(null)),
                    4 => (
                        "ADD tags :t",
                        json!({":t": {"SS": [WORDS[r.random_range(0..6)]]}}),
                    ),
                    5 => ("DELETE tags :t", json!({":t": {"SS": ["z"]}})),
                    _ => (
                        "SET l = list_append(if_not_exists(l, :e), :v)",
                        json!({":e": {"L": []}, ":v": {"L": [n(3)]}}),
                    ),
                };
                let mut input = json!({"TableName": "Rand", "Key": key(&mut r), "UpdateExpression": expr,
                                       "ReturnValues": return_values(&mut r, true)});
                if !values.is_null() {
                    input["ExpressionAttributeValues"] = values;
                }
                let cond = if r.random_bool(0.5) {
                    condition(&mut r)
                } else {
                    None
                };
                json!({"op": "UpdateItem", "input": with_condition(input, cond)})
            }
            55..65 => {
                let input = json!({"TableName": "Rand", "Key": key(&mut r), "ReturnValues": return_values(&mut r, false)});
                json!({"op": "DeleteItem", "input": with_condition(input, condition(&mut r))})
            }
            65..75 => {
                let mut input = json!({"TableName": "Rand", "Key": key(&mut r)});
                if r.random_bool(0.4) {
                    input["ProjectionExpression"] = json!("n, tags, l[1]");
                }
                json!({"op": "GetItem", "input": input})
            }
            75..90 => {
                let pk = ["a", "b", "c"][r.random_range(0..3)];
                let mut input = json!({"TableName": "Rand", "ExpressionAttributeValues": {":p": s(pk)},
                                       "ScanIndexForward": r.random_bool(0.5), "Limit": r.random_range(1..6)});
                let (kce, extra) = match r.random_range(0..4) {
                    0 => ("pk = :p", None),
                    1 => ("pk = :p AND sk > :k", Some(n(r.random_range(0..15)))),
                    2 => ("pk = :p AND sk <= :k", Some(n(r.random_range(0..15)))),
                    _ => (
                        "pk = :p AND sk BETWEEN :k AND :k2",
                        Some(n(r.random_range(0..7))),
                    ),
                };
                input["KeyConditionExpression"] = json!(kce);
                if let Some(k) = extra {
                    input["ExpressionAttributeValues"][":k"] = k;
                    if kce.contains(":k2") {
                        input["ExpressionAttributeValues"][":k2"] = n(r.random_range(7..15));
                    }
                }
                if r.random_bool(0.3) {
                    input["FilterExpression"] = json!("n >= :f");
                    input["ExpressionAttributeValues"][":f"] = n(0);
                }
                json!({"op": "Query", "input": input, "paginate": true})
            }
            90..95 => {
                let g = ["x", "y"][r.random_range(0..2)];
                json!({"op": "Query", "unordered": true, "input": {"TableName": "Rand", "IndexName": "ByG",
                       "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": s(g)}}})
            }
            _ => {
                json!({"op": "TransactWriteItems", "input": {"TransactItems": [
                    {"Update": {"TableName": "Rand", "Key": key(&mut r), "UpdateExpression": "ADD cnt :one",
                                "ConditionExpression": "attribute_exists(pk)", "ExpressionAttributeValues": {":one": n(1)}}},
                    {"Put": {"TableName": "Rand", "Item": item(&mut r)}}
                ]}})
            }
        };
        steps.push(step);
    }
    steps.push(json!({"op": "Scan", "unordered": true, "input": {"TableName": "Rand"}}));
    steps
}
