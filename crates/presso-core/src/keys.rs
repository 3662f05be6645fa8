//! Table layouts: names, keys, indexes, and the mapping of domain values to items.
//!
//! Items are written as JSON objects ([`Item`]); an adapter converts them to DynamoDB
//! attribute values mechanically (string → `S`, number → `N`, bool → `BOOL`, null → `NULL`,
//! array → `L`, object → `M`) and back, so the adapters stay free of domain knowledge.
//!
//! | table | key | items |
//! |---|---|---|
//! | `serverlesspresso-order-table` | `PK` S, `SK` S | order: `PK=ORDER#<orderId>`, `SK=ORDER`, the [`Order`] fields, plus `eventState` (`<eventId>#<state>`); journey entry: same `PK`, `SK=EVENT#<at:013>#<detailType>#<state>` |
//! | — GSI `GSI-status` | `eventState` S, `createdAt` N | orders only (journey entries lack `eventState`): an event's orders in a state, oldest first |
//! | — GSI `GSI-userId` | `userId` S, `createdAt` N | orders only: a user's orders |
//! | `serverlesspresso-config-table` | `PK` S | `PK=config-<eventId>`, the [`StoreConfig`] fields; the workflow reads `open` BOOL, `paused` BOOL and `maxOrdersInQueue` N |
//! | `serverlesspresso-counting-table` | `PK` S | `PK=orderID-<eventId>` with `IDvalue` N (order numbers); `PK=capacity-<eventId>` with `holders` SS (the ids of the orders holding capacity: taking and releasing are idempotent, so a task the workflow runs again after a crash takes nothing twice) and the gate `gateOpen` BOOL, `gatePaused` BOOL, `gateMax` N (the config's, written in the same transaction as the config). See [`expressions`]: capacity is taken by the workflow on a condition, and released by the write that finishes the order, whose version check makes the release exactly-once |
//! | `serverlesspresso-validator` | `PK` S | `PK=<eventId>-<windowId>`, the [`QrBucket`] fields |
//!
//! Orders are spread over one partition each (the reference put them all in partition
//! `orders`); counters start with `if_not_exists`, so a new event needs no hand-made items.

use crate::config::StoreConfig;
use crate::ids::{EventId, OrderId};
use crate::order::{Order, OrderStatus};
use crate::ports::{JourneyEntry, StoreError};
use crate::qr::{QrBucket, WindowId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// An item as a JSON object.
pub type Item = Map<String, Value>;

pub const ORDER_TABLE: &str = "serverlesspresso-order-table";
pub const CONFIG_TABLE: &str = "serverlesspresso-config-table";
pub const COUNTING_TABLE: &str = "serverlesspresso-counting-table";
pub const VALIDATOR_TABLE: &str = "serverlesspresso-validator";

pub const PK: &str = "PK";
pub const SK: &str = "SK";

pub const GSI_STATUS: &str = "GSI-status";
pub const GSI_STATUS_HASH: &str = "eventState";
pub const GSI_USER: &str = "GSI-userId";
pub const GSI_USER_HASH: &str = "userId";
/// The range key of both GSIs.
pub const GSI_RANGE: &str = "createdAt";

pub const ORDER_SK: &str = "ORDER";
pub const JOURNEY_SK_PREFIX: &str = "EVENT#";
/// The attribute every conditional order write checks.
pub const VERSION_ATTR: &str = "version";

pub const ORDER_NUMBER_ATTR: &str = "IDvalue";
pub const CAPACITY_ATTR: &str = "holders";
pub const TOKENS_ATTR: &str = "availableTokens";
pub const CODE_ATTR: &str = "code";

/// Condition and update expressions, as the adapters and the state machine write them.
/// Attribute names go through `#` aliases ([`expressions::NAMES`]) so no name ever collides
/// with a DynamoDB reserved word.
pub mod expressions {
    /// The aliases every expression below uses.
    pub const NAMES: [(&str, &str); 9] = [
        ("#pk", "PK"),
        ("#version", "version"),
        ("#code", "code"),
        ("#tokens", "availableTokens"),
        ("#number", "IDvalue"),
        ("#holders", "holders"),
        ("#gateOpen", "gateOpen"),
        ("#gatePaused", "gatePaused"),
        ("#gateMax", "gateMax"),
    ];
    /// Creating an order, a config or a bucket: never overwrite.
    pub const CREATE_ONLY: &str = "attribute_not_exists(#pk)";
    /// Saving an order or a config read at version `:expected`.
    pub const SAME_VERSION: &str = "#version = :expected";
    /// Taking a QR token (`:code`, `:zero` = 0, `:one` = 1). When the condition fails, read the
    /// old item (`ReturnValuesOnConditionCheckFailure=ALL_OLD`) to tell a wrong code from an
    /// empty bucket.
    pub const TAKE_TOKEN_UPDATE: &str = "SET #tokens = #tokens - :one";
    pub const TAKE_TOKEN_CONDITION: &str = "#code = :code AND #tokens > :zero";
    /// The next order number of an event (the state machine; `:zero` = 0, `:one` = 1).
    pub const NEXT_ORDER_NUMBER: &str = "SET #number = if_not_exists(#number, :zero) + :one";
    /// Taking capacity (the state machine; `:order` = the order's id as a string set, `:id` =
    /// the id). Adding an id already in the set changes nothing: a retried take is harmless.
    pub const TAKE_CAPACITY_UPDATE: &str = "ADD #holders :order";
    /// The state machine's first state: the gate on the capacity item (a copy of the config's
    /// `open`, `paused` and `maxOrdersInQueue`, written with every config) must say open, not
    /// paused and not full (`:true`, `:false`). One conditional write instead of reading the
    /// config and choosing: two state transitions fewer per order. When it fails (closed,
    /// paused, full, or no gate yet) the workflow reads the config to find out why.
    pub const GATED_TAKE_CAPACITY_CONDITION: &str = "#gateOpen = :true AND #gatePaused = :false AND (attribute_not_exists(#holders) OR size(#holders) < #gateMax OR contains(#holders, :id))";
    /// Taking capacity after reading the config (`:max` = its `maxOrdersInQueue`).
    pub const TAKE_CAPACITY_CONDITION: &str =
        "attribute_not_exists(#holders) OR size(#holders) < :max OR contains(#holders, :id)";
    /// The gate, in the transaction that stores a config (`:open`, `:paused`, `:max`).
    pub const SET_GATE: &str = "SET #gateOpen = :open, #gatePaused = :paused, #gateMax = :max";
    /// Releasing capacity, in the transaction that finishes the order (`:order` = its id as a
    /// string set): removing an id that is not there changes nothing.
    pub const RELEASE_CAPACITY: &str = "DELETE #holders :order";
}

pub fn order_pk(id: &OrderId) -> String {
    format!("ORDER#{id}")
}

/// The `GSI-status` hash key of an event's orders in one state.
pub fn event_state(event: &EventId, status: OrderStatus) -> String {
    format!("{event}#{}", status.as_str())
}

/// What every config item's key begins with.
pub const CONFIG_PK_PREFIX: &str = "config-";

pub fn config_pk(event: &EventId) -> String {
    format!("{CONFIG_PK_PREFIX}{event}")
}

pub fn order_counter_pk(event: &EventId) -> String {
    format!("orderID-{event}")
}

pub fn capacity_counter_pk(event: &EventId) -> String {
    format!("capacity-{event}")
}

/// As the reference: `<eventId>-<windowId>`. Window ids are digits only, so the last `-`
/// separates the two even when the event id contains dashes.
pub fn bucket_pk(event: &EventId, window: WindowId) -> String {
    format!("{event}-{}", window.get())
}

fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(StoreError::Corrupt("not an object".to_owned())),
        Err(e) => Err(StoreError::Corrupt(e.to_string())),
    }
}

fn from_item<T: DeserializeOwned>(item: &Item, what: &str) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(item.clone()))
        .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub fn order_to_item(order: &Order) -> Result<Item, StoreError> {
    let mut item = to_item(order)?;
    item.insert(PK.to_owned(), Value::String(order_pk(&order.order_id)));
    item.insert(SK.to_owned(), Value::String(ORDER_SK.to_owned()));
    item.insert(
        GSI_STATUS_HASH.to_owned(),
        Value::String(event_state(&order.event_id, order.status())),
    );
    Ok(item)
}

pub fn order_from_item(item: &Item) -> Result<Order, StoreError> {
    from_item(item, "order")
}

pub fn journey_sk(entry: &JourneyEntry) -> String {
    format!("{JOURNEY_SK_PREFIX}{}", entry.key())
}

pub fn journey_to_item(entry: &JourneyEntry) -> Result<Item, StoreError> {
    let mut item = to_item(entry)?;
    item.insert(PK.to_owned(), Value::String(order_pk(&entry.order_id)));
    item.insert(SK.to_owned(), Value::String(journey_sk(entry)));
    Ok(item)
}

pub fn journey_from_item(item: &Item) -> Result<JourneyEntry, StoreError> {
    from_item(item, "journey entry")
}

pub fn config_to_item(config: &StoreConfig) -> Result<Item, StoreError> {
    let mut item = to_item(config)?;
    item.insert(PK.to_owned(), Value::String(config_pk(&config.event_id)));
    Ok(item)
}

pub fn config_from_item(item: &Item) -> Result<StoreConfig, StoreError> {
    from_item(item, "config")
}

pub fn bucket_to_item(bucket: &QrBucket) -> Result<Item, StoreError> {
    let mut item = to_item(bucket)?;
    item.insert(
        PK.to_owned(),
        Value::String(bucket_pk(&bucket.event_id, bucket.window_id)),
    );
    Ok(item)
}

pub fn bucket_from_item(item: &Item) -> Result<QrBucket, StoreError> {
    from_item(item, "QR bucket")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::qr::QrBucket;
    use crate::time::Timestamp;

    #[test]
    fn an_order_item_carries_its_keys_and_index_attributes_and_reads_back() {
        let order = Order::new_pending(
            OrderId::parse("o1").unwrap(),
            EventId::parse("re-invent").unwrap(),
            UserId::parse("u1").unwrap(),
            None,
            Timestamp::from_millis(42),
        );
        let item = order_to_item(&order).unwrap();
        assert_eq!(item[PK], "ORDER#o1");
        assert_eq!(item[SK], "ORDER");
        assert_eq!(item[GSI_STATUS_HASH], "re-invent#pending");
        assert_eq!(item[GSI_USER_HASH], "u1");
        assert_eq!(item[GSI_RANGE], 42);
        assert_eq!(item[VERSION_ATTR], 1);
        assert_eq!(order_from_item(&item).unwrap(), order);
    }

    #[test]
    fn config_and_bucket_keys_follow_the_reference() {
        let config = StoreConfig::seed_default(Timestamp::from_millis(0));
        let item = config_to_item(&config).unwrap();
        assert_eq!(item[PK], "config-default");
        assert_eq!(config_from_item(&item).unwrap(), config);

        let bucket = QrBucket::new(
            EventId::parse("a-1").unwrap(),
            WindowId::from_raw(23),
            crate::ids::QrToken::parse("ABCDEFGHIJ").unwrap(),
            10,
            Timestamp::from_millis(0),
        );
        let item = bucket_to_item(&bucket).unwrap();
        assert_eq!(item[PK], "a-1-23");
        assert_eq!(item[TOKENS_ATTR], 10);
        assert_eq!(item[CODE_ATTR], "ABCDEFGHIJ");
        assert_eq!(bucket_from_item(&item).unwrap(), bucket);
        assert_eq!(order_counter_pk(&EventId::parse("E").unwrap()), "orderID-E");
    }

    #[test]
    fn a_corrupt_item_is_a_corrupt_error_not_a_panic() {
        let mut item = Item::new();
        item.insert("orderId".to_owned(), Value::from(3));
        assert!(matches!(
            order_from_item(&item),
            Err(StoreError::Corrupt(_))
        ));
    }
}
