//! The order, config and QR repositories on DynamoDB.
//!
//! Items are [`presso_core::keys`]' JSON objects, converted mechanically to attribute values
//! ([`to_attribute`], [`from_attribute`]). Every write the ports call conditional is one
//! conditional `PutItem`/`UpdateItem` or one `TransactWriteItems`, never a read followed by a
//! write. Attribute names always go through the `#` aliases of
//! [`presso_core::keys::expressions::NAMES`], and each request names only the aliases its
//! expressions use (DynamoDB refuses unused ones).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use presso_core::config::StoreConfig;
use presso_core::ids::{EventId, OrderId, QrToken, UserId};
use presso_core::keys::{self, Item, expressions as x};
use presso_core::order::{Change, Order, OrderStatus};
use presso_core::ports::{
    ConfigRepository, JourneyEntry, OrderRepository, QrRepository, StoreError, TakeTokenError,
};
use presso_core::qr::{QrBucket, WindowId};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

use crate::settings::Env;

/// The four tables, by name (the template's physical names arrive through the environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub orders: String,
    pub config: String,
    pub counting: String,
    pub validator: String,
}

impl Default for TableNames {
    fn default() -> Self {
        Self {
            orders: keys::ORDER_TABLE.to_owned(),
            config: keys::CONFIG_TABLE.to_owned(),
            counting: keys::COUNTING_TABLE.to_owned(),
            validator: keys::VALIDATOR_TABLE.to_owned(),
        }
    }
}

impl TableNames {
    /// `ORDER_TABLE`, `CONFIG_TABLE`, `COUNTING_TABLE`, `VALIDATOR_TABLE`; the defaults of
    /// [`presso_core::keys`] for those not set.
    pub fn from_env(env: &Env) -> Self {
        let d = Self::default();
        let get = |k: &str, default: String| {
            env.get(k)
                .filter(|v| !v.is_empty())
                .cloned()
                .unwrap_or(default)
        };
        Self {
            orders: get("ORDER_TABLE", d.orders),
            config: get("CONFIG_TABLE", d.config),
            counting: get("COUNTING_TABLE", d.counting),
            validator: get("VALIDATOR_TABLE", d.validator),
        }
    }
}

/// A JSON value as an attribute value.
pub fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), to_attribute(v)))
                .collect(),
        ),
    }
}

fn number(n: &str) -> Result<Value, StoreError> {
    if let Ok(i) = n.parse::<i64>() {
        return Ok(Value::from(i));
    }
    if let Ok(u) = n.parse::<u64>() {
        return Ok(Value::from(u));
    }
    n.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| StoreError::Corrupt(format!("number {n:?} does not fit")))
}

/// An attribute value as JSON (sets become arrays; binary is refused: no item has any).
pub fn from_attribute(attr: &AttributeValue) -> Result<Value, StoreError> {
    Ok(match attr {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n)?,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(items) => {
            Value::Array(items.iter().map(from_attribute).collect::<Result<_, _>>()?)
        }
        AttributeValue::M(map) => Value::Object(from_map(map)?),
        AttributeValue::Ss(items) => {
            Value::Array(items.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(items) => {
            Value::Array(items.iter().map(|n| number(n)).collect::<Result<_, _>>()?)
        }
        other => {
            return Err(StoreError::Corrupt(format!(
                "unexpected attribute value {other:?}"
            )));
        }
    })
}

fn to_map(item: &Item) -> HashMap<String, AttributeValue> {
    item.iter()
        .map(|(k, v)| (k.clone(), to_attribute(v)))
        .collect()
}

fn from_map(map: &HashMap<String, AttributeValue>) -> Result<Map<String, Value>, StoreError> {
    let mut out = Map::new();
    // Sorted, so an item reads back the same whatever order the hash map gives.
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for k in keys {
        out.insert(k.clone(), from_attribute(&map[k])?);
    }
    Ok(out)
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The `#` aliases among [`x::NAMES`] that `aliases` lists.
fn names(aliases: &[&str]) -> HashMap<String, String> {
    x::NAMES
        .iter()
        .filter(|(alias, _)| aliases.contains(alias))
        .map(|(a, name)| ((*a).to_owned(), (*name).to_owned()))
        .collect()
}

fn unavailable<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(DisplayErrorContext(err).to_string())
}

/// Maps a failed conditional request: a failed condition is a conflict, anything else is the
/// store being unavailable.
fn conditional<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    if err.code() == Some("ConditionalCheckFailedException") {
        StoreError::Conflict
    } else {
        unavailable(err)
    }
}

/// The cancellation reasons of a cancelled transaction, or the error as a store error.
fn cancellation_reasons<R: std::fmt::Debug>(
    err: SdkError<TransactWriteItemsError, R>,
) -> Result<Vec<CancellationReason>, StoreError> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            Ok(e.cancellation_reasons().to_vec())
        }
        _ => Err(unavailable(err)),
    }
}

fn failed_condition(reason: Option<&CancellationReason>) -> bool {
    reason.and_then(CancellationReason::code) == Some("ConditionalCheckFailed")
}

/// The three repositories over one DynamoDB client.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    tables: TableNames,
}

impl DynamoStore {
    pub fn new(client: Client, tables: TableNames) -> Self {
        Self { client, tables }
    }

    /// A store from the shared SDK configuration and the environment's table names.
    pub fn from_config(config: &aws_config::SdkConfig, env: &Env) -> Self {
        Self::new(Client::new(config), TableNames::from_env(env))
    }

    pub fn tables(&self) -> &TableNames {
        &self.tables
    }

    async fn get_item(
        &self,
        table: &str,
        key: HashMap<String, AttributeValue>,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item().map(from_map).transpose()
    }

    fn order_key(id: &OrderId) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (keys::PK.to_owned(), s(keys::order_pk(id))),
            (keys::SK.to_owned(), s(keys::ORDER_SK)),
        ])
    }

    fn pk(value: String) -> HashMap<String, AttributeValue> {
        HashMap::from([(keys::PK.to_owned(), s(value))])
    }

    fn create_order_put(&self, order: &Order) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.tables.orders)
            .set_item(Some(to_map(&keys::order_to_item(order)?)))
            .condition_expression(x::CREATE_ONLY)
            .set_expression_attribute_names(Some(names(&["#pk"])))
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Queries an index for one hash key, following pages until `limit` items.
    async fn query_index(
        &self,
        index: &str,
        hash_attr: &str,
        hash: String,
        forward: bool,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.tables.orders)
                .index_name(index)
                .key_condition_expression("#h = :h")
                .expression_attribute_names("#h", hash_attr)
                .expression_attribute_values(":h", s(hash.clone()))
                .scan_index_forward(forward)
                .limit(i32::try_from(limit - out.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                let order = keys::order_from_item(&from_map(item)?)?;
                out.push(order);
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() || out.len() >= limit {
                break;
            }
        }
        // A GSI is eventually consistent and keeps equal `createdAt`s in no defined order:
        // break ties by id, as the in-memory store does.
        out.sort_by(|a, b| {
            let ord = (a.created_at, &a.order_id).cmp(&(b.created_at, &b.order_id));
            if forward { ord } else { ord.reverse() }
        });
        out.truncate(limit);
        Ok(out)
    }

    async fn put_order_if_version(&self, change: &Change) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.tables.orders)
            .set_item(Some(to_map(&keys::order_to_item(&change.order)?)))
            .condition_expression(x::SAME_VERSION)
            .set_expression_attribute_names(Some(names(&["#version"])))
            .expression_attribute_values(":expected", n(change.expected_version))
            .send()
            .await
            .map_err(conditional)?;
        Ok(())
    }
}

impl OrderRepository for DynamoStore {
    async fn get(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.get_item(&self.tables.orders, Self::order_key(id))
            .await?
            .map(|item| keys::order_from_item(&item))
            .transpose()
    }

    async fn create(&self, order: &Order) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.tables.orders)
            .set_item(Some(to_map(&keys::order_to_item(order)?)))
            .condition_expression(x::CREATE_ONLY)
            .set_expression_attribute_names(Some(names(&["#pk"])))
            .send()
            .await
            .map_err(conditional)?;
        Ok(())
    }

    async fn save(&self, change: &Change) -> Result<(), StoreError> {
        if !change.release_capacity {
            return self.put_order_if_version(change).await;
        }
        let put = Put::builder()
            .table_name(&self.tables.orders)
            .set_item(Some(to_map(&keys::order_to_item(&change.order)?)))
            .condition_expression(x::SAME_VERSION)
            .set_expression_attribute_names(Some(names(&["#version"])))
            .expression_attribute_values(":expected", n(change.expected_version))
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        // The order's id leaves the set of holders: releasing twice, or what was never taken,
        // changes nothing.
        let release = Update::builder()
            .table_name(&self.tables.counting)
            .set_key(Some(Self::pk(keys::capacity_counter_pk(
                &change.order.event_id,
            ))))
            .update_expression(x::RELEASE_CAPACITY)
            .set_expression_attribute_names(Some(names(&["#holders"])))
            .expression_attribute_values(
                ":order",
                AttributeValue::Ss(vec![change.order.order_id.as_str().to_owned()]),
            )
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().update(release).build())
            .send()
            .await;
        let Err(err) = result else { return Ok(()) };
        let reasons = cancellation_reasons(err)?;
        if failed_condition(reasons.first()) {
            return Err(StoreError::Conflict);
        }
        Err(StoreError::Unavailable(format!(
            "transaction cancelled: {:?}",
            reasons.iter().map(|r| r.code()).collect::<Vec<_>>()
        )))
    }

    async fn list_by_status(
        &self,
        event: &EventId,
        status: OrderStatus,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.query_index(
            keys::GSI_STATUS,
            keys::GSI_STATUS_HASH,
            keys::event_state(event, status),
            true,
            limit,
        )
        .await
    }

    async fn list_by_user(&self, user: &UserId, limit: usize) -> Result<Vec<Order>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.query_index(
            keys::GSI_USER,
            keys::GSI_USER_HASH,
            user.as_str().to_owned(),
            false,
            limit,
        )
        .await
    }

    async fn append_journey(&self, entry: &JourneyEntry) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.orders)
            .set_item(Some(to_map(&keys::journey_to_item(entry)?)))
            .condition_expression(x::CREATE_ONLY)
            .set_expression_attribute_names(Some(names(&["#pk"])))
            .send()
            .await
            .map_err(conditional);
        match result {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn journey(&self, id: &OrderId) -> Result<Vec<JourneyEntry>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.tables.orders)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", s(keys::order_pk(id)))
                .expression_attribute_values(":prefix", s(keys::JOURNEY_SK_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                out.push(keys::journey_from_item(&from_map(item)?)?);
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(out);
            }
        }
    }
}

impl ConfigRepository for DynamoStore {
    async fn get(&self, event: &EventId) -> Result<Option<StoreConfig>, StoreError> {
        self.get_item(&self.tables.config, Self::pk(keys::config_pk(event)))
            .await?
            .map(|item| keys::config_from_item(&item))
            .transpose()
    }

    /// The config and the workflow's gate on the capacity item (its copy of `open`, `paused`
    /// and `maxOrdersInQueue`), in one transaction: the gate never disagrees with the config.
    async fn put(
        &self,
        config: &StoreConfig,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError> {
        let put = Put::builder()
            .table_name(&self.tables.config)
            .set_item(Some(to_map(&keys::config_to_item(config)?)));
        let put = match expected_version {
            None => put
                .condition_expression(x::CREATE_ONLY)
                .set_expression_attribute_names(Some(names(&["#pk"]))),
            Some(v) => put
                .condition_expression(x::SAME_VERSION)
                .set_expression_attribute_names(Some(names(&["#version"])))
                .expression_attribute_values(":expected", n(v)),
        }
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let gate = Update::builder()
            .table_name(&self.tables.counting)
            .set_key(Some(Self::pk(keys::capacity_counter_pk(&config.event_id))))
            .update_expression(x::SET_GATE)
            .set_expression_attribute_names(Some(names(&["#gateOpen", "#gatePaused", "#gateMax"])))
            .expression_attribute_values(":open", AttributeValue::Bool(config.open))
            .expression_attribute_values(":paused", AttributeValue::Bool(config.paused))
            .expression_attribute_values(":max", n(config.max_orders_in_queue))
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().update(gate).build())
            .send()
            .await;
        let Err(err) = result else { return Ok(()) };
        let reasons = cancellation_reasons(err)?;
        if failed_condition(reasons.first()) {
            return Err(StoreError::Conflict);
        }
        Err(StoreError::Unavailable(format!(
            "transaction cancelled: {:?}",
            reasons.iter().map(|r| r.code()).collect::<Vec<_>>()
        )))
    }

    /// A scan of the config table's keys: one item per event, so it stays small.
    async fn list_events(&self) -> Result<Vec<EventId>, StoreError> {
        let prefix = keys::CONFIG_PK_PREFIX;
        let mut events = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.tables.config)
                .projection_expression("#pk")
                .filter_expression("begins_with(#pk, :prefix)")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_values(":prefix", s(prefix))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                if let Some(AttributeValue::S(pk)) = item.get(keys::PK)
                    && let Some(Ok(event)) = pk.strip_prefix(prefix).map(EventId::parse)
                {
                    events.push(event);
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(events);
            }
        }
    }
}

impl DynamoStore {
    fn bucket_key(event: &EventId, window: WindowId) -> HashMap<String, AttributeValue> {
        Self::pk(keys::bucket_pk(event, window))
    }

    /// Why a token take failed, from the bucket as it was (or as it is now, when the store did
    /// not return the old item).
    async fn classify_take(
        &self,
        event: &EventId,
        window: WindowId,
        code: &QrToken,
        old: Option<&HashMap<String, AttributeValue>>,
    ) -> Result<TakeTokenError, StoreError> {
        let bucket = match old.filter(|m| !m.is_empty()) {
            Some(map) => Some(keys::bucket_from_item(&from_map(map)?)?),
            None => QrRepository::get_bucket(self, event, window).await?,
        };
        Ok(match bucket {
            Some(b) if &b.code == code && b.available_tokens == 0 => TakeTokenError::Exhausted,
            Some(b) if &b.code == code => {
                // The condition failed on a bucket that has tokens now: someone returned one or
                // the failure raced; report it as used up rather than guess.
                TakeTokenError::Exhausted
            }
            _ => TakeTokenError::InvalidCode,
        })
    }
}

impl QrRepository for DynamoStore {
    async fn get_bucket(
        &self,
        event: &EventId,
        window: WindowId,
    ) -> Result<Option<QrBucket>, StoreError> {
        self.get_item(&self.tables.validator, Self::bucket_key(event, window))
            .await?
            .map(|item| keys::bucket_from_item(&item))
            .transpose()
    }

    async fn create_bucket(&self, bucket: &QrBucket) -> Result<QrBucket, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.validator)
            .set_item(Some(to_map(&keys::bucket_to_item(bucket)?)))
            .condition_expression(x::CREATE_ONLY)
            .set_expression_attribute_names(Some(names(&["#pk"])))
            .send()
            .await
            .map_err(conditional);
        match result {
            Ok(_) => Ok(bucket.clone()),
            Err(StoreError::Conflict) => {
                QrRepository::get_bucket(self, &bucket.event_id, bucket.window_id)
                    .await?
                    .ok_or_else(|| {
                        StoreError::Unavailable("the bucket vanished after a conflict".to_owned())
                    })
            }
            Err(e) => Err(e),
        }
    }

    async fn take_token(
        &self,
        event: &EventId,
        window: WindowId,
        code: &QrToken,
        order: &Order,
    ) -> Result<QrBucket, TakeTokenError> {
        let take = Update::builder()
            .table_name(&self.tables.validator)
            .set_key(Some(Self::bucket_key(event, window)))
            .update_expression(x::TAKE_TOKEN_UPDATE)
            .condition_expression(x::TAKE_TOKEN_CONDITION)
            .set_expression_attribute_names(Some(names(&["#tokens", "#code"])))
            .expression_attribute_values(":code", s(code.as_str()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let create = self.create_order_put(order)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(take).build())
            .transact_items(TransactWriteItem::builder().put(create).build())
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(err) => {
                let reasons = cancellation_reasons(err)?;
                if failed_condition(reasons.first()) {
                    let old = reasons.first().and_then(|r| r.item());
                    return Err(self.classify_take(event, window, code, old).await?);
                }
                if failed_condition(reasons.get(1)) {
                    return Err(TakeTokenError::OrderExists);
                }
                return Err(StoreError::Unavailable(format!(
                    "transaction cancelled: {:?}",
                    reasons.iter().map(|r| r.code()).collect::<Vec<_>>()
                ))
                .into());
            }
        }
        // Transactions return no values: read the bucket back. Under concurrent takes it may
        // show fewer tokens than right after this one (it is a display hint, not a count).
        QrRepository::get_bucket(self, event, window)
            .await?
            .ok_or_else(|| {
                StoreError::Unavailable("the bucket vanished after a take".to_owned()).into()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_attribute_values_convert_both_ways() {
        let v = json!({"a": "x", "n": 42, "neg": -3, "f": 1.5, "b": true, "z": null,
                       "l": [1, "two", {"m": false}], "big": 18446744073709551615u64});
        let attr = to_attribute(&v);
        assert_eq!(from_attribute(&attr).unwrap(), v);
        assert!(matches!(to_attribute(&json!(7)), AttributeValue::N(ref s) if s == "7"));
    }

    #[test]
    fn a_request_names_only_the_aliases_it_uses() {
        let m = names(&["#tokens", "#code"]);
        assert_eq!(m.len(), 2);
        assert_eq!(m["#tokens"], "availableTokens");
        assert!(from_attribute(&AttributeValue::B(vec![1u8].into())).is_err());
    }
}
