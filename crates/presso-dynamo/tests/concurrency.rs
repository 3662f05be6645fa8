//! Concurrent writers against one store: group commit must keep every conditional write
//! atomic, commit each successful write exactly once, and undo only the writes whose
//! condition failed, even when they share a transaction with successful ones.

use presso_dynamo::Store;
use serde_json::{Value, json};

fn store_with_counter(dir: &std::path::Path, start: i64) -> Store {
    let store = Store::open(dir).expect("store");
    store
        .call(
            "CreateTable",
            &json!({"TableName": "Counters", "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}),
        )
        .expect("table");
    store
        .call(
            "PutItem",
            &json!({"TableName": "Counters", "Item": {"id": {"S": "c"}, "n": {"N": start.to_string()}}}),
        )
        .expect("put");
    store
}

fn counter(store: &Store) -> Value {
    store
        .call(
            "GetItem",
            &json!({"TableName": "Counters", "Key": {"id": {"S": "c"}}, "ConsistentRead": true}),
        )
        .expect("get")["Item"]["n"]["N"]
        .clone()
}

#[test]
fn a_hundred_threads_decrementing_from_ten_succeed_exactly_ten_times() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store_with_counter(dir.path(), 10);
    let outcomes: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..100)
            .map(|_| {
                let store = store.clone();
                s.spawn(move || {
                    let r = store.call(
                        "UpdateItem",
                        &json!({"TableName": "Counters", "Key": {"id": {"S": "c"}},
                                "UpdateExpression": "SET n = n - :one", "ConditionExpression": "n > :zero",
                                "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}}}),
                    );
                    match r {
                        Ok(_) => true,
                        Err(e) => {
                            assert_eq!(e.aws_type(), "ConditionalCheckFailedException");
                            false
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 10);
    assert_eq!(counter(&store), json!("0"));
}

#[test]
fn concurrent_increments_are_all_committed_once() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store_with_counter(dir.path(), 0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            let store = store.clone();
            s.spawn(move || {
                for _ in 0..250 {
                    store
                        .call(
                            "UpdateItem",
                            &json!({"TableName": "Counters", "Key": {"id": {"S": "c"}},
                                    "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}),
                        )
                        .expect("update");
                }
            });
        }
    });
    assert_eq!(counter(&store), json!("2000"));
    // Reopening the files sees the same state: every acknowledged write was committed.
    drop(store);
    let reopened = Store::open(dir.path()).expect("reopen");
    assert_eq!(counter(&reopened), json!("2000"));
}
