//! Runs one operation, described as DynamoDB-shaped JSON, through the real Rust SDK and
//! returns a normalised transcript of the answer (sorted keys, sorted sets, errors by type),
//! so answers from presso and from moto compare with `==`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::*;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

type SdkItem = HashMap<String, AttributeValue>;

fn s(i: &Value, k: &str) -> String {
    i[k].as_str().unwrap_or_default().to_string()
}

fn os(i: &Value, k: &str) -> Option<String> {
    i.get(k).and_then(Value::as_str).map(str::to_string)
}

fn ob(i: &Value, k: &str) -> Option<bool> {
    i.get(k).and_then(Value::as_bool)
}

fn oi(i: &Value, k: &str) -> Option<i32> {
    i.get(k).and_then(Value::as_i64).map(|n| n as i32)
}

pub fn av(v: &Value) -> AttributeValue {
    let (k, x) = v
        .as_object()
        .and_then(|o| o.iter().next())
        .expect("attribute value");
    let strs = || -> Vec<String> {
        x.as_array()
            .expect("list")
            .iter()
            .map(|e| e.as_str().expect("string").to_string())
            .collect()
    };
    match k.as_str() {
        "S" => AttributeValue::S(x.as_str().expect("S").to_string()),
        "N" => AttributeValue::N(x.as_str().expect("N").to_string()),
        "B" => AttributeValue::B(Blob::new(x.as_str().expect("B").as_bytes())),
        "BOOL" => AttributeValue::Bool(x.as_bool().expect("BOOL")),
        "NULL" => AttributeValue::Null(x.as_bool().expect("NULL")),
        "M" => AttributeValue::M(item_in(x)),
        "L" => AttributeValue::L(x.as_array().expect("L").iter().map(av).collect()),
        "SS" => AttributeValue::Ss(strs()),
        "NS" => AttributeValue::Ns(strs()),
        "BS" => AttributeValue::Bs(
            strs()
                .into_iter()
                .map(|b| Blob::new(b.into_bytes()))
                .collect(),
        ),
        other => panic!("unknown attribute type {other}"),
    }
}

pub fn item_in(v: &Value) -> SdkItem {
    v.as_object()
        .expect("item")
        .iter()
        .map(|(k, v)| (k.clone(), av(v)))
        .collect()
}

fn oitem(i: &Value, k: &str) -> Option<SdkItem> {
    i.get(k).map(item_in)
}

fn names(i: &Value) -> Option<HashMap<String, String>> {
    i.get("ExpressionAttributeNames").map(|n| {
        n.as_object()
            .expect("names")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("name").to_string()))
            .collect()
    })
}

fn values(i: &Value) -> Option<SdkItem> {
    oitem(i, "ExpressionAttributeValues")
}

pub fn av_out(a: &AttributeValue) -> Value {
    let sorted = |mut v: Vec<String>| {
        v.sort();
        Value::from(v)
    };
    match a {
        AttributeValue::S(x) => json!({"S": x}),
        AttributeValue::N(x) => json!({"N": x}),
        AttributeValue::B(b) => json!({"B": String::from_utf8_lossy(b.as_ref())}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(b) => json!({"NULL": b}),
        AttributeValue::M(m) => json!({"M": item_out(m)}),
        AttributeValue::L(l) => json!({"L": l.iter().map(av_out).collect::<Vec<_>>()}),
        AttributeValue::Ss(v) => json!({"SS": sorted(v.clone())}),
        AttributeValue::Ns(v) => json!({"NS": sorted(v.clone())}),
        AttributeValue::Bs(v) => {
            json!({"BS": sorted(v.iter().map(|b| String::from_utf8_lossy(b.as_ref()).into_owned()).collect())})
        }
        _ => json!({"UNKNOWN": true}),
    }
}

pub fn item_out(m: &SdkItem) -> Value {
    let sorted: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, av_out(v))).collect();
    let mut out = Map::new();
    for (k, v) in sorted {
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

fn items_out(items: &[SdkItem]) -> Value {
    Value::from(items.iter().map(item_out).collect::<Vec<_>>())
}

macro_rules! sdk_err {
    ($e:expr) => {{
        let e = $e;
        let code = e.code().map(str::to_string);
        json!({"error": code.unwrap_or_else(|| format!("<transport: {e:?}>"))})
    }};
}

fn capacity(c: Option<&ConsumedCapacity>, asked: bool) -> Value {
    match c.filter(|_| asked) {
        None => Value::Null,
        Some(c) => json!({"TableName": c.table_name(), "CapacityUnits": c.capacity_units()}),
    }
}

fn key_schema(v: &Value) -> Vec<KeySchemaElement> {
    v.as_array()
        .expect("key schema")
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(s(k, "AttributeName"))
                .key_type(KeyType::from(s(k, "KeyType").as_str()))
                .build()
                .expect("key schema element")
        })
        .collect()
}

fn projection(v: &Value) -> Projection {
    let mut b = Projection::builder();
    if let Some(t) = os(v, "ProjectionType") {
        b = b.projection_type(ProjectionType::from(t.as_str()));
    }
    if let Some(n) = v.get("NonKeyAttributes") {
        for a in n.as_array().expect("non-key attributes") {
            b = b.non_key_attributes(a.as_str().expect("name"));
        }
    }
    b.build()
}

fn throughput(v: Option<&Value>) -> Option<ProvisionedThroughput> {
    v.map(|p| {
        ProvisionedThroughput::builder()
            .read_capacity_units(p["ReadCapacityUnits"].as_i64().unwrap_or(1))
            .write_capacity_units(p["WriteCapacityUnits"].as_i64().unwrap_or(1))
            .build()
            .expect("throughput")
    })
}

fn describe_out(d: &TableDescription) -> Value {
    let ks = |k: &[KeySchemaElement]| -> Value {
        k.iter()
            .map(|e| json!([e.attribute_name(), e.key_type().as_str()]))
            .collect()
    };
    let proj = |p: Option<&Projection>| -> Value {
        p.map(|p| {
            let mut nk: Vec<String> = p.non_key_attributes().to_vec();
            nk.sort();
            json!([p.projection_type().map(|t| t.as_str()), nk])
        })
        .unwrap_or(Value::Null)
    };
    let mut gsis: Vec<Value> = d
        .global_secondary_indexes()
        .iter()
        .map(|g| json!([g.index_name(), ks(g.key_schema()), proj(g.projection())]))
        .collect();
    gsis.sort_by_key(|v| v.to_string());
    let mut lsis: Vec<Value> = d
        .local_secondary_indexes()
        .iter()
        .map(|g| json!([g.index_name(), ks(g.key_schema()), proj(g.projection())]))
        .collect();
    lsis.sort_by_key(|v| v.to_string());
    let mut defs: Vec<Value> = d
        .attribute_definitions()
        .iter()
        .map(|a| json!([a.attribute_name(), a.attribute_type().as_str()]))
        .collect();
    defs.sort_by_key(|v| v.to_string());
    json!({
        "TableName": d.table_name(),
        "KeySchema": ks(d.key_schema()),
        "AttributeDefinitions": defs,
        "TableStatus": d.table_status().map(|s| s.as_str()),
        "ItemCount": d.item_count(),
        "GSIs": gsis,
        "LSIs": lsis,
    })
}

/// Runs `op` with `input` and returns the normalised answer.
pub async fn run(c: &Client, op: &str, i: &Value) -> Value {
    // Capacity is compared only when the request asked for it.
    let rcc_asked = i.get("ReturnConsumedCapacity").is_some();
    let rcc = os(i, "ReturnConsumedCapacity").map(|r| ReturnConsumedCapacity::from(r.as_str()));
    let rv = os(i, "ReturnValues").map(|r| ReturnValue::from(r.as_str()));
    let rvf = os(i, "ReturnValuesOnConditionCheckFailure")
        .map(|r| ReturnValuesOnConditionCheckFailure::from(r.as_str()));
    match op {
        "CreateTable" => {
            let mut b = c
                .create_table()
                .table_name(s(i, "TableName"))
                .set_key_schema(Some(key_schema(&i["KeySchema"])))
                .set_provisioned_throughput(throughput(i.get("ProvisionedThroughput")));
            for a in i["AttributeDefinitions"].as_array().expect("definitions") {
                b = b.attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(s(a, "AttributeName"))
                        .attribute_type(ScalarAttributeType::from(s(a, "AttributeType").as_str()))
                        .build()
                        .expect("definition"),
                );
            }
            if let Some(m) = os(i, "BillingMode") {
                b = b.billing_mode(BillingMode::from(m.as_str()));
            }
            for g in i
                .get("GlobalSecondaryIndexes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                b = b.global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(s(g, "IndexName"))
                        .set_key_schema(Some(key_schema(&g["KeySchema"])))
                        .projection(projection(&g["Projection"]))
                        .set_provisioned_throughput(throughput(g.get("ProvisionedThroughput")))
                        .build()
                        .expect("gsi"),
                );
            }
            for l in i
                .get("LocalSecondaryIndexes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                b = b.local_secondary_indexes(
                    LocalSecondaryIndex::builder()
                        .index_name(s(l, "IndexName"))
                        .set_key_schema(Some(key_schema(&l["KeySchema"])))
                        .projection(projection(&l["Projection"]))
                        .build()
                        .expect("lsi"),
                );
            }
            match b.send().await {
                Ok(o) => o
                    .table_description()
                    .map(describe_out)
                    .unwrap_or(Value::Null),
                Err(e) => sdk_err!(e),
            }
        }
        "DescribeTable" => match c
            .describe_table()
            .table_name(s(i, "TableName"))
            .send()
            .await
        {
            Ok(o) => o.table().map(describe_out).unwrap_or(Value::Null),
            Err(e) => sdk_err!(e),
        },
        "DeleteTable" => match c.delete_table().table_name(s(i, "TableName")).send().await {
            Ok(o) => json!({"TableName": o.table_description().and_then(|d| d.table_name())}),
            Err(e) => sdk_err!(e),
        },
        "ListTables" => {
            let mut b = c.list_tables().set_limit(oi(i, "Limit"));
            if let Some(st) = os(i, "ExclusiveStartTableName") {
                b = b.exclusive_start_table_name(st);
            }
            match b.send().await {
                Ok(o) => {
                    json!({"TableNames": o.table_names(), "Last": o.last_evaluated_table_name()})
                }
                Err(e) => sdk_err!(e),
            }
        }
        "UpdateTable" => {
            let mut b = c.update_table().table_name(s(i, "TableName"));
            for a in i
                .get("AttributeDefinitions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                b = b.attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(s(a, "AttributeName"))
                        .attribute_type(ScalarAttributeType::from(s(a, "AttributeType").as_str()))
                        .build()
                        .expect("definition"),
                );
            }
            for u in i
                .get("GlobalSecondaryIndexUpdates")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let mut ub = GlobalSecondaryIndexUpdate::builder();
                if let Some(g) = u.get("Create") {
                    ub = ub.create(
                        CreateGlobalSecondaryIndexAction::builder()
                            .index_name(s(g, "IndexName"))
                            .set_key_schema(Some(key_schema(&g["KeySchema"])))
                            .projection(projection(&g["Projection"]))
                            .set_provisioned_throughput(throughput(g.get("ProvisionedThroughput")))
                            .build()
                            .expect("create gsi"),
                    );
                }
                if let Some(g) = u.get("Delete") {
                    ub = ub.delete(
                        DeleteGlobalSecondaryIndexAction::builder()
                            .index_name(s(g, "IndexName"))
                            .build()
                            .expect("delete gsi"),
                    );
                }
                b = b.global_secondary_index_updates(ub.build());
            }
            match b.send().await {
                // Only the indexes: what UpdateTable is used for here.
                Ok(o) => o
                    .table_description()
                    .map(|d| describe_out(d)["GSIs"].clone())
                    .unwrap_or(Value::Null),
                Err(e) => sdk_err!(e),
            }
        }
        "PutItem" => {
            let r = c
                .put_item()
                .table_name(s(i, "TableName"))
                .set_item(oitem(i, "Item"))
                .set_condition_expression(os(i, "ConditionExpression"))
                .set_expression_attribute_names(names(i))
                .set_expression_attribute_values(values(i))
                .set_return_values(rv)
                .set_return_values_on_condition_check_failure(rvf)
                .set_return_consumed_capacity(rcc)
                .send()
                .await;
            match r {
                Ok(o) => {
                    json!({"Attributes": o.attributes().map(item_out), "Capacity": capacity(o.consumed_capacity(), rcc_asked)})
                }
                Err(e) => {
                    let code = e.code().map(str::to_string);
                    write_err(code.as_deref(), e.into_service_error_item_put())
                }
            }
        }
        "UpdateItem" => {
            let r = c
                .update_item()
                .table_name(s(i, "TableName"))
                .set_key(oitem(i, "Key"))
                .set_update_expression(os(i, "UpdateExpression"))
                .set_condition_expression(os(i, "ConditionExpression"))
                .set_expression_attribute_names(names(i))
                .set_expression_attribute_values(values(i))
                .set_return_values(rv)
                .set_return_values_on_condition_check_failure(rvf)
                .set_return_consumed_capacity(rcc)
                .send()
                .await;
            match r {
                Ok(o) => {
                    json!({"Attributes": o.attributes().map(item_out), "Capacity": capacity(o.consumed_capacity(), rcc_asked)})
                }
                Err(e) => {
                    let code = e.code().map(str::to_string);
                    let item = match e.into_service_error() {
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(x) => x.item().map(item_out),
                        _ => None,
                    };
                    write_err(code.as_deref(), item)
                }
            }
        }
        "DeleteItem" => {
            let r = c
                .delete_item()
                .table_name(s(i, "TableName"))
                .set_key(oitem(i, "Key"))
                .set_condition_expression(os(i, "ConditionExpression"))
                .set_expression_attribute_names(names(i))
                .set_expression_attribute_values(values(i))
                .set_return_values(rv)
                .set_return_values_on_condition_check_failure(rvf)
                .set_return_consumed_capacity(rcc)
                .send()
                .await;
            match r {
                Ok(o) => {
                    json!({"Attributes": o.attributes().map(item_out), "Capacity": capacity(o.consumed_capacity(), rcc_asked)})
                }
                Err(e) => {
                    let code = e.code().map(str::to_string);
                    let item = match e.into_service_error() {
                        aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(x) => x.item().map(item_out),
                        _ => None,
                    };
                    write_err(code.as_deref(), item)
                }
            }
        }
        "GetItem" => {
            let r = c
                .get_item()
                .table_name(s(i, "TableName"))
                .set_key(oitem(i, "Key"))
                .set_projection_expression(os(i, "ProjectionExpression"))
                .set_expression_attribute_names(names(i))
                .set_consistent_read(ob(i, "ConsistentRead"))
                .set_return_consumed_capacity(rcc)
                .send()
                .await;
            match r {
                Ok(o) => {
                    json!({"Item": o.item().map(item_out), "Capacity": capacity(o.consumed_capacity(), rcc_asked)})
                }
                Err(e) => sdk_err!(e),
            }
        }
        "Query" => {
            let r = c
                .query()
                .table_name(s(i, "TableName"))
                .set_index_name(os(i, "IndexName"))
                .set_key_condition_expression(os(i, "KeyConditionExpression"))
                .set_filter_expression(os(i, "FilterExpression"))
                .set_projection_expression(os(i, "ProjectionExpression"))
                .set_expression_attribute_names(names(i))
                .set_expression_attribute_values(values(i))
                .set_limit(oi(i, "Limit"))
                .set_exclusive_start_key(oitem(i, "ExclusiveStartKey"))
                .set_scan_index_forward(ob(i, "ScanIndexForward"))
                .set_select(os(i, "Select").map(|x| Select::from(x.as_str())))
                .set_consistent_read(ob(i, "ConsistentRead"))
                .set_return_consumed_capacity(rcc)
                .send()
                .await;
            match r {
                Ok(o) => json!({
                    "Items": o.items.as_deref().map(items_out),
                    "Count": o.count(),
                    "ScannedCount": o.scanned_count(),
                    "LastEvaluatedKey": o.last_evaluated_key().map(item_out),
                    "Capacity": capacity(o.consumed_capacity(), rcc_asked),
                }),
                Err(e) => sdk_err!(e),
            }
        }
        "Scan" => {
            let r = c
                .scan()
                .table_name(s(i, "TableName"))
                .set_index_name(os(i, "IndexName"))
                .set_filter_expression(os(i, "FilterExpression"))
                .set_projection_expression(os(i, "ProjectionExpression"))
                .set_expression_attribute_names(names(i))
                .set_expression_attribute_values(values(i))
                .set_limit(oi(i, "Limit"))
                .set_exclusive_start_key(oitem(i, "ExclusiveStartKey"))
                .set_select(os(i, "Select").map(|x| Select::from(x.as_str())))
                .set_segment(oi(i, "Segment"))
                .set_total_segments(oi(i, "TotalSegments"))
                .set_consistent_read(ob(i, "ConsistentRead"))
                .set_return_consumed_capacity(rcc)
                .send()
                .await;
            match r {
                Ok(o) => json!({
                    "Items": o.items.as_deref().map(items_out),
                    "Count": o.count(),
                    "ScannedCount": o.scanned_count(),
                    "LastEvaluatedKey": o.last_evaluated_key().map(item_out),
                    "Capacity": capacity(o.consumed_capacity(), rcc_asked),
                }),
                Err(e) => sdk_err!(e),
            }
        }
        "BatchGetItem" => {
            let mut b = c.batch_get_item().set_return_consumed_capacity(rcc);
            for (table, ka) in i["RequestItems"].as_object().expect("request items") {
                let mut k = KeysAndAttributes::builder()
                    .set_projection_expression(os(ka, "ProjectionExpression"))
                    .set_expression_attribute_names(names(ka))
                    .set_consistent_read(ob(ka, "ConsistentRead"));
                for key in ka["Keys"].as_array().expect("keys") {
                    k = k.keys(item_in(key));
                }
                b = b.request_items(table, k.build().expect("keys and attributes"));
            }
            match b.send().await {
                Ok(o) => {
                    let mut out = Map::new();
                    let mut tables: Vec<_> = o.responses().into_iter().flatten().collect();
                    tables.sort_by_key(|t| t.0.clone());
                    for (t, items) in tables {
                        let mut v: Vec<Value> = items.iter().map(item_out).collect();
                        v.sort_by_key(|x| x.to_string());
                        out.insert(t.clone(), Value::from(v));
                    }
                    json!({"Responses": out, "Unprocessed": o.unprocessed_keys().map_or(0, |u| u.len())})
                }
                Err(e) => sdk_err!(e),
            }
        }
        "BatchWriteItem" => {
            let mut b = c.batch_write_item().set_return_consumed_capacity(rcc);
            for (table, reqs) in i["RequestItems"].as_object().expect("request items") {
                let mut list = Vec::new();
                for r in reqs.as_array().expect("requests") {
                    let mut w = WriteRequest::builder();
                    if let Some(p) = r.get("PutRequest") {
                        w = w.put_request(
                            PutRequest::builder()
                                .set_item(oitem(p, "Item"))
                                .build()
                                .expect("put"),
                        );
                    }
                    if let Some(d) = r.get("DeleteRequest") {
                        w = w.delete_request(
                            DeleteRequest::builder()
                                .set_key(oitem(d, "Key"))
                                .build()
                                .expect("delete"),
                        );
                    }
                    list.push(w.build());
                }
                b = b.request_items(table, list);
            }
            match b.send().await {
                Ok(o) => json!({"Unprocessed": o.unprocessed_items().map_or(0, |u| u.len())}),
                Err(e) => sdk_err!(e),
            }
        }
        "TransactWriteItems" => {
            let mut b = c.transact_write_items().set_return_consumed_capacity(rcc);
            for t in i["TransactItems"].as_array().expect("transact items") {
                let mut w = TransactWriteItem::builder();
                let rvf = |x: &Value| {
                    os(x, "ReturnValuesOnConditionCheckFailure")
                        .map(|r| ReturnValuesOnConditionCheckFailure::from(r.as_str()))
                };
                if let Some(x) = t.get("Put") {
                    w = w.put(
                        Put::builder()
                            .table_name(s(x, "TableName"))
                            .set_item(oitem(x, "Item"))
                            .set_condition_expression(os(x, "ConditionExpression"))
                            .set_expression_attribute_names(names(x))
                            .set_expression_attribute_values(values(x))
                            .set_return_values_on_condition_check_failure(rvf(x))
                            .build()
                            .expect("put"),
                    );
                }
                if let Some(x) = t.get("Update") {
                    w = w.update(
                        Update::builder()
                            .table_name(s(x, "TableName"))
                            .set_key(oitem(x, "Key"))
                            .update_expression(s(x, "UpdateExpression"))
                            .set_condition_expression(os(x, "ConditionExpression"))
                            .set_expression_attribute_names(names(x))
                            .set_expression_attribute_values(values(x))
                            .set_return_values_on_condition_check_failure(rvf(x))
                            .build()
                            .expect("update"),
                    );
                }
                if let Some(x) = t.get("Delete") {
                    w = w.delete(
                        Delete::builder()
                            .table_name(s(x, "TableName"))
                            .set_key(oitem(x, "Key"))
                            .set_condition_expression(os(x, "ConditionExpression"))
                            .set_expression_attribute_names(names(x))
                            .set_expression_attribute_values(values(x))
                            .set_return_values_on_condition_check_failure(rvf(x))
                            .build()
                            .expect("delete"),
                    );
                }
                if let Some(x) = t.get("ConditionCheck") {
                    w = w.condition_check(
                        ConditionCheck::builder()
                            .table_name(s(x, "TableName"))
                            .set_key(oitem(x, "Key"))
                            .condition_expression(s(x, "ConditionExpression"))
                            .set_expression_attribute_names(names(x))
                            .set_expression_attribute_values(values(x))
                            .set_return_values_on_condition_check_failure(rvf(x))
                            .build()
                            .expect("condition check"),
                    );
                }
                b = b.transact_items(w.build());
            }
            match b.send().await {
                Ok(_) => json!({"ok": true}),
                Err(e) => {
                    let code = e.code().map(str::to_string);
                    let reasons = match e.into_service_error() {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(x) => Some(
                            x.cancellation_reasons()
                                .iter()
                                .map(|r| json!({"Code": r.code(), "Item": r.item().map(item_out)}))
                                .collect::<Vec<_>>(),
                        ),
                        _ => None,
                    };
                    json!({"error": code, "reasons": reasons})
                }
            }
        }
        "TransactGetItems" => {
            let mut b = c.transact_get_items();
            for t in i["TransactItems"].as_array().expect("transact items") {
                let x = &t["Get"];
                b = b.transact_items(
                    TransactGetItem::builder()
                        .get(
                            Get::builder()
                                .table_name(s(x, "TableName"))
                                .set_key(oitem(x, "Key"))
                                .set_projection_expression(os(x, "ProjectionExpression"))
                                .set_expression_attribute_names(names(x))
                                .build()
                                .expect("get"),
                        )
                        .build(),
                );
            }
            match b.send().await {
                Ok(o) => {
                    json!({"Responses": o.responses().iter().map(|r| r.item().map(item_out)).collect::<Vec<_>>()})
                }
                Err(e) => sdk_err!(e),
            }
        }
        "UpdateTimeToLive" => {
            let spec = &i["TimeToLiveSpecification"];
            let r = c
                .update_time_to_live()
                .table_name(s(i, "TableName"))
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(s(spec, "AttributeName"))
                        .enabled(spec["Enabled"].as_bool().unwrap_or(false))
                        .build()
                        .expect("ttl spec"),
                )
                .send()
                .await;
            match r {
                Ok(o) => {
                    json!({"Spec": o.time_to_live_specification().map(|t| json!([t.attribute_name(), t.enabled()]))})
                }
                Err(e) => sdk_err!(e),
            }
        }
        "DescribeTimeToLive" => match c
            .describe_time_to_live()
            .table_name(s(i, "TableName"))
            .send()
            .await
        {
            Ok(o) => {
                let d = o.time_to_live_description();
                json!({"Status": d.and_then(|d| d.time_to_live_status()).map(|s| s.as_str().to_string()),
                       "Attribute": d.and_then(|d| d.attribute_name())})
            }
            Err(e) => sdk_err!(e),
        },
        "TagResource" | "UntagResource" | "ListTagsOfResource" => {
            // Tags are addressed by ARN, whose account differs between servers: look it up.
            let arn = match c
                .describe_table()
                .table_name(s(i, "TableName"))
                .send()
                .await
            {
                Ok(o) => o
                    .table()
                    .and_then(|t| t.table_arn())
                    .unwrap_or_default()
                    .to_string(),
                Err(e) => return sdk_err!(e),
            };
            let result = match op {
                "TagResource" => {
                    let mut b = c.tag_resource().resource_arn(&arn);
                    for (k, v) in i["Tags"].as_object().expect("tags") {
                        b = b.tags(
                            Tag::builder()
                                .key(k)
                                .value(v.as_str().unwrap_or_default())
                                .build()
                                .expect("tag"),
                        );
                    }
                    b.send()
                        .await
                        .map(|_| json!({"ok": true}))
                        .map_err(|e| sdk_err!(e))
                }
                "UntagResource" => {
                    let mut b = c.untag_resource().resource_arn(&arn);
                    for k in i["TagKeys"].as_array().expect("keys") {
                        b = b.tag_keys(k.as_str().unwrap_or_default());
                    }
                    b.send()
                        .await
                        .map(|_| json!({"ok": true}))
                        .map_err(|e| sdk_err!(e))
                }
                _ => c
                    .list_tags_of_resource()
                    .resource_arn(&arn)
                    .send()
                    .await
                    .map(|o| {
                        let mut tags: Vec<(String, String)> = o
                            .tags()
                            .iter()
                            .map(|t| (t.key().to_string(), t.value().to_string()))
                            .collect();
                        tags.sort();
                        json!({"Tags": tags})
                    })
                    .map_err(|e| sdk_err!(e)),
            };
            result.unwrap_or_else(|e| e)
        }
        other => panic!("the driver does not know operation {other}"),
    }
}

fn write_err(code: Option<&str>, item: Option<Value>) -> Value {
    json!({"error": code.unwrap_or("<no code>"), "Item": item})
}

trait PutErrItem {
    fn into_service_error_item_put(self) -> Option<Value>;
}

impl<R: std::fmt::Debug + Send + Sync + 'static> PutErrItem
    for aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError, R>
{
    fn into_service_error_item_put(self) -> Option<Value> {
        match self.into_service_error() {
            aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(x) => {
                x.item().map(item_out)
            }
            _ => None,
        }
    }
}
