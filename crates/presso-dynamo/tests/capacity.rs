//! Capacity units as AWS documents them: reads in 4 KB units (halved when eventually
//! consistent), writes in 1 KB units of the larger of the old and new item, secondary-index
//! writes on top, transactions doubled. Driven through the in-process store.

use presso_dynamo::Store;
use presso_dynamo::model::*;
use serde_json::{Value, json};

fn store() -> Store {
    let s = Store::open_in_memory().expect("store");
    let table: CreateTableInput = serde_json::from_value(json!({
        "TableName": "Cap",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
                                 {"AttributeName": "g", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{"IndexName": "G", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        "BillingMode": "PAY_PER_REQUEST"
    }))
    .expect("input");
    s.create_table(table).expect("table");
    s
}

/// An item of exactly `size` bytes (names plus values) without the index key.
fn item(sk: i64, size: usize) -> Value {
    // pk "p" (2+1) + sk (2 + 2) + "d" name (1) = 8 bytes of overhead for one-digit sort keys.
    json!({"pk": {"S": "p"}, "sk": {"N": sk.to_string()}, "d": {"S": "x".repeat(size - 8)}})
}

fn put(s: &Store, item: Value, mode: &str) -> Value {
    let input: PutItemInput = serde_json::from_value(
        json!({"TableName": "Cap", "Item": item, "ReturnConsumedCapacity": mode}),
    )
    .expect("input");
    serde_json::to_value(s.put_item(input).expect("put")).expect("json")["ConsumedCapacity"].clone()
}

#[test]
fn writes_cost_one_unit_per_started_kilobyte_of_the_larger_item() {
    let s = store();
    let cases = [
        (1, 1024, 1.0),
        (2, 1025, 2.0),
        (3, 4096, 4.0),
        (4, 10_000, 10.0),
    ];
    for (sk, size, units) in cases {
        assert_eq!(
            put(&s, item(sk, size), "TOTAL")["CapacityUnits"],
            json!(units),
            "{size} bytes"
        );
    }
    // Overwriting a 10 KB item with a small one still costs the larger size.
    assert_eq!(put(&s, item(4, 100), "TOTAL")["CapacityUnits"], json!(10.0));
}

#[test]
fn index_writes_are_counted_per_index_when_asked() {
    let s = store();
    let mut it = item(1, 500);
    it["g"] = json!({"S": "k"});
    let cc = put(&s, it, "INDEXES");
    assert_eq!(cc["CapacityUnits"], json!(2.0));
    assert_eq!(cc["Table"]["CapacityUnits"], json!(1.0));
    assert_eq!(
        cc["GlobalSecondaryIndexes"]["G"]["CapacityUnits"],
        json!(1.0)
    );
}

#[test]
fn reads_cost_four_kilobyte_units_halved_when_eventually_consistent() {
    let s = store();
    put(&s, item(1, 4097), "NONE");
    for (consistent, units) in [(false, 1.0), (true, 2.0)] {
        let input: GetItemInput = serde_json::from_value(json!({"TableName": "Cap",
            "Key": {"pk": {"S": "p"}, "sk": {"N": "1"}}, "ConsistentRead": consistent, "ReturnConsumedCapacity": "TOTAL"}))
        .expect("input");
        let out = serde_json::to_value(s.get_item(input).expect("get")).expect("json");
        assert_eq!(out["ConsumedCapacity"]["CapacityUnits"], json!(units));
    }
    // A miss still costs the minimum read.
    let input: GetItemInput = serde_json::from_value(json!({"TableName": "Cap",
        "Key": {"pk": {"S": "p"}, "sk": {"N": "9"}}, "ReturnConsumedCapacity": "TOTAL"}))
    .expect("input");
    let out = serde_json::to_value(s.get_item(input).expect("get")).expect("json");
    assert_eq!(out["ConsumedCapacity"]["CapacityUnits"], json!(0.5));
}

#[test]
fn a_query_costs_the_summed_size_of_the_items_it_read() {
    let s = store();
    for sk in 1..=9 {
        put(&s, item(sk, 1000), "NONE");
    }
    // 9,000 bytes read, filtered or not: three 4 KB units, halved.
    let input: QueryInput = serde_json::from_value(json!({"TableName": "Cap", "KeyConditionExpression": "pk = :p",
        "FilterExpression": "sk = :one", "ExpressionAttributeValues": {":p": {"S": "p"}, ":one": {"N": "1"}},
        "ReturnConsumedCapacity": "TOTAL"}))
    .expect("input");
    let out = serde_json::to_value(s.query(input).expect("query")).expect("json");
    assert_eq!(out["Count"], 1);
    assert_eq!(out["ScannedCount"], 9);
    assert_eq!(out["ConsumedCapacity"]["CapacityUnits"], json!(1.5));
}

#[test]
fn transactional_writes_cost_double() {
    let s = store();
    let input: TransactWriteItemsInput = serde_json::from_value(json!({"TransactItems": [
        {"Put": {"TableName": "Cap", "Item": item(1, 1024)}},
        {"Put": {"TableName": "Cap", "Item": item(2, 2048)}}
    ], "ReturnConsumedCapacity": "TOTAL"}))
    .expect("input");
    let out = serde_json::to_value(s.transact_write_items(input).expect("transact")).expect("json");
    assert_eq!(out["ConsumedCapacity"][0]["CapacityUnits"], json!(6.0));
}

#[test]
fn the_store_meters_every_operation_whether_or_not_it_asked_for_capacity() {
    let s = store();
    assert_eq!(
        s.capacity_used(),
        presso_dynamo::store::CapacityUsed::default()
    );
    // 1.5 KB without asking: 2 write units.
    put(&s, item(1, 1536), "NONE");
    // 100 bytes asking: 1 unit.
    put(&s, item(2, 100), "TOTAL");
    let get: GetItemInput = serde_json::from_value(json!({
        "TableName": "Cap", "Key": {"pk": {"S": "p"}, "sk": {"N": "1"}}
    }))
    .expect("input");
    s.get_item(get).expect("get");
    let used = s.capacity_used();
    assert_eq!(used.write_units, 3.0, "{used:?}");
    // An eventually consistent read of up to 4 KB: half a unit.
    assert_eq!(used.read_units, 0.5, "{used:?}");
}
