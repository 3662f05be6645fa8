//! Operations by name, with DynamoDB's JSON shapes in and out.
//!
//! The HTTP endpoint and the Step Functions DynamoDB integrations (`arn:aws:states:::dynamodb:putItem`
//! and friends, whose `Parameters` are these same request shapes) both call the store this way.

use crate::error::{Error, Result};
use crate::store::Store;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The operations [`Store::call`] answers, by their DynamoDB names.
pub const OPERATIONS: &[&str] = &[
    "CreateTable",
    "DescribeTable",
    "ListTables",
    "DeleteTable",
    "UpdateTable",
    "PutItem",
    "GetItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
    "TagResource",
    "UntagResource",
    "ListTagsOfResource",
];

impl Store {
    /// Runs the operation named `operation` on a JSON request body and returns the JSON
    /// response body.
    pub fn call_json(&self, operation: &str, body: &[u8]) -> Result<Vec<u8>> {
        let body = if body.is_empty() {
            b"{}".as_slice()
        } else {
            body
        };
        match operation {
            "CreateTable" => run(body, |i| self.create_table(i)),
            "DescribeTable" => run(body, |i| self.describe_table(i)),
            "ListTables" => run(body, |i| self.list_tables(i)),
            "DeleteTable" => run(body, |i| self.delete_table(i)),
            "UpdateTable" => run(body, |i| self.update_table(i)),
            "PutItem" => run(body, |i| self.put_item(i)),
            "GetItem" => run(body, |i| self.get_item(i)),
            "UpdateItem" => run(body, |i| self.update_item(i)),
            "DeleteItem" => run(body, |i| self.delete_item(i)),
            "Query" => run(body, |i| self.query(i)),
            "Scan" => run(body, |i| self.scan(i)),
            "BatchGetItem" => run(body, |i| self.batch_get_item(i)),
            "BatchWriteItem" => run(body, |i| self.batch_write_item(i)),
            "TransactWriteItems" => run(body, |i| self.transact_write_items(i)),
            "TransactGetItems" => run(body, |i| self.transact_get_items(i)),
            "UpdateTimeToLive" => run(body, |i| self.update_time_to_live(i)),
            "DescribeTimeToLive" => run(body, |i| self.describe_time_to_live(i)),
            "TagResource" => run(body, |i| self.tag_resource(i)),
            "UntagResource" => run(body, |i| self.untag_resource(i)),
            "ListTagsOfResource" => run(body, |i| self.list_tags_of_resource(i)),
            other => Err(Error::UnknownOperation(format!(
                "Unknown operation: {other}"
            ))),
        }
    }

    /// [`Store::call_json`] on `serde_json` values.
    pub fn call(&self, operation: &str, input: &Value) -> Result<Value> {
        let body = serde_json::to_vec(input).map_err(|e| Error::Internal(e.to_string()))?;
        let out = self.call_json(operation, &body)?;
        serde_json::from_slice(&out).map_err(|e| Error::Internal(e.to_string()))
    }
}

fn run<I: DeserializeOwned, O: Serialize>(
    body: &[u8],
    op: impl FnOnce(I) -> Result<O>,
) -> Result<Vec<u8>> {
    let input: I = serde_json::from_slice(body).map_err(bad_body)?;
    let output = op(input)?;
    serde_json::to_vec(&output).map_err(|e| Error::Internal(e.to_string()))
}

/// A body that is not the operation's shape: a missing required member is a
/// ValidationException (as DynamoDB reports it), anything else a SerializationException.
fn bad_body(err: serde_json::Error) -> Error {
    let text = err.to_string();
    if let Some(rest) = text.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        let mut camel = field.to_string();
        if let Some(first) = camel.get_mut(0..1) {
            first.make_ascii_lowercase();
        }
        return Error::Validation(format!(
            "1 validation error detected: Value null at '{camel}' failed to satisfy constraint: Member must not be null"
        ));
    }
    Error::Serialization(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_run_by_name_on_json() {
        let store = Store::open_in_memory().expect("store");
        store
            .call(
                "CreateTable",
                &json!({"TableName": "Orders", "BillingMode": "PAY_PER_REQUEST",
                        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}),
            )
            .expect("create");
        store
            .call(
                "PutItem",
                &json!({"TableName": "Orders", "Item": {"id": {"S": "1"}, "n": {"N": "01.0"}}}),
            )
            .expect("put");
        let got = store
            .call(
                "GetItem",
                &json!({"TableName": "Orders", "Key": {"id": {"S": "1"}}}),
            )
            .expect("get");
        assert_eq!(got["Item"]["n"], json!({"N": "1"}));
        let err = store.call("Nope", &json!({})).expect_err("unknown");
        assert_eq!(err.aws_type(), "UnknownOperationException");
        let err = store
            .call("GetItem", &json!({"Key": {}}))
            .expect_err("missing table name");
        assert_eq!(err.aws_type(), "ValidationException");
    }

    #[test]
    fn tags_are_unique_per_key_and_ttl_toggles() {
        let store = Store::open_in_memory().expect("store");
        store
            .call(
                "CreateTable",
                &json!({"TableName": "Tagged", "BillingMode": "PAY_PER_REQUEST",
                        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}),
            )
            .expect("create");
        let arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/Tagged";
        for value in ["dev", "prod"] {
            store
                .call(
                    "TagResource",
                    &json!({"ResourceArn": arn, "Tags": [{"Key": "env", "Value": value}]}),
                )
                .expect("tag");
        }
        let tags = store
            .call("ListTagsOfResource", &json!({"ResourceArn": arn}))
            .expect("list");
        assert_eq!(tags["Tags"], json!([{"Key": "env", "Value": "prod"}]));
        let spec = json!({"TableName": "Tagged", "TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": true}});
        store.call("UpdateTimeToLive", &spec).expect("enable");
        let again = store
            .call("UpdateTimeToLive", &spec)
            .expect_err("already enabled");
        assert_eq!(again.aws_type(), "ValidationException");
        let ttl = store
            .call("DescribeTimeToLive", &json!({"TableName": "Tagged"}))
            .expect("describe");
        assert_eq!(
            ttl["TimeToLiveDescription"],
            json!({"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"})
        );
    }
}
