//! Per-event store configuration: open, paused, limits and the menu with its availability.
//!
//! One [`StoreConfig`] per event. "Paused" means open but taking no new orders: orders already
//! taken go on to completion. Updates arrive as a [`ConfigUpdate`] patch, are validated as a
//! whole, and bump `version`, which repositories use for optimistic concurrency.

use crate::ids::{DrinkId, EventId, OptionId};
use crate::menu::{Menu, MenuError};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreConfig {
    pub event_id: EventId,
    /// The barista has opened the store.
    pub open: bool,
    /// Open, but no new orders are taken (orders in flight still complete).
    pub paused: bool,
    /// Orders one QR window's code is good for.
    pub drinks_per_barcode: u32,
    /// Orders between taking capacity and finishing, per event.
    pub max_orders_in_queue: u32,
    /// Unfinished orders one customer may hold in this event.
    pub max_orders_per_user: u32,
    /// Average preparation time, for the customer's estimated wait.
    pub seconds_per_drink: u32,
    pub menu: Menu,
    /// Bumped by every accepted change; a stored write is conditional on the version read.
    pub version: u64,
    pub updated_at: Timestamp,
}

/// The store as the apps show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StoreState {
    Closed,
    Open,
    Paused,
}

impl StoreState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::Paused => "paused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "closed" => Some(Self::Closed),
            "open" => Some(Self::Open),
            "paused" => Some(Self::Paused),
            _ => None,
        }
    }
}

/// A partial update of a config (the admin `PUT`). Absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drinks_per_barcode: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_orders_in_queue: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_orders_per_user: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_per_drink: Option<u32>,
    /// Replaces the whole menu (availability included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<Menu>,
    /// Marks drinks and options (by id) available or sold out; applied after `menu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<AvailabilityUpdate>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AvailabilityUpdate {
    #[serde(default)]
    pub drinks: BTreeMap<DrinkId, bool>,
    #[serde(default)]
    pub options: BTreeMap<OptionId, bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{field} must be between {min} and {max}, got {got}")]
    OutOfRange {
        field: &'static str,
        min: u32,
        max: u32,
        got: u32,
    },
    #[error("the update changes nothing")]
    EmptyUpdate,
    #[error("the menu has no drink {0}")]
    UnknownDrink(DrinkId),
    #[error("no drink on the menu offers option {0}")]
    UnknownOption(OptionId),
    #[error("invalid menu: {0}")]
    Menu(#[from] MenuError),
}

impl StoreConfig {
    pub const DEFAULT_DRINKS_PER_BARCODE: u32 = 10;
    pub const DEFAULT_MAX_ORDERS_IN_QUEUE: u32 = 20;
    pub const DEFAULT_MAX_ORDERS_PER_USER: u32 = 1;
    pub const DEFAULT_SECONDS_PER_DRINK: u32 = 90;

    /// A new event's config: open, not paused, default limits, the reference's menu.
    pub fn new_event(event_id: EventId, now: Timestamp) -> Self {
        Self {
            event_id,
            open: true,
            paused: false,
            drinks_per_barcode: Self::DEFAULT_DRINKS_PER_BARCODE,
            max_orders_in_queue: Self::DEFAULT_MAX_ORDERS_IN_QUEUE,
            max_orders_per_user: Self::DEFAULT_MAX_ORDERS_PER_USER,
            seconds_per_drink: Self::DEFAULT_SECONDS_PER_DRINK,
            menu: Menu::reference_default(),
            version: 1,
            updated_at: now,
        }
    }

    /// What `presso serve` seeds on first start: event `default` with the reference's menu.
    pub fn seed_default(now: Timestamp) -> Self {
        Self::new_event(EventId::default_event(), now)
    }

    pub fn store_state(&self) -> StoreState {
        match (self.open, self.paused) {
            (false, _) => StoreState::Closed,
            (true, true) => StoreState::Paused,
            (true, false) => StoreState::Open,
        }
    }

    /// Whether a new order may start now.
    pub fn accepts_new_orders(&self) -> bool {
        self.store_state() == StoreState::Open
    }

    /// Checks every bound; the menu's structure included.
    pub fn validate(&self) -> Result<(), ConfigError> {
        range("drinksPerBarcode", self.drinks_per_barcode, 1, 1000)?;
        range("maxOrdersInQueue", self.max_orders_in_queue, 1, 10_000)?;
        range("maxOrdersPerUser", self.max_orders_per_user, 1, 100)?;
        range("secondsPerDrink", self.seconds_per_drink, 1, 3600)?;
        self.menu.validate()?;
        Ok(())
    }

    /// Applies a patch, validates the result and bumps the version.
    pub fn apply(&self, update: &ConfigUpdate, now: Timestamp) -> Result<Self, ConfigError> {
        if update == &ConfigUpdate::default() {
            return Err(ConfigError::EmptyUpdate);
        }
        let mut next = self.clone();
        if let Some(v) = update.open {
            next.open = v;
        }
        if let Some(v) = update.paused {
            next.paused = v;
        }
        if let Some(v) = update.drinks_per_barcode {
            next.drinks_per_barcode = v;
        }
        if let Some(v) = update.max_orders_in_queue {
            next.max_orders_in_queue = v;
        }
        if let Some(v) = update.max_orders_per_user {
            next.max_orders_per_user = v;
        }
        if let Some(v) = update.seconds_per_drink {
            next.seconds_per_drink = v;
        }
        if let Some(menu) = &update.menu {
            next.menu = menu.clone();
        }
        if let Some(a) = &update.availability {
            for (drink, available) in &a.drinks {
                if !next.menu.set_drink_available(drink, *available) {
                    return Err(ConfigError::UnknownDrink(drink.clone()));
                }
            }
            for (option, available) in &a.options {
                if !next.menu.set_option_available(option, *available) {
                    return Err(ConfigError::UnknownOption(option.clone()));
                }
            }
        }
        next.validate()?;
        next.version = self.version.saturating_add(1);
        next.updated_at = now;
        Ok(next)
    }

    /// Sets open/paused from one store state (the barista's open / pause / close buttons).
    pub fn with_store_state(&self, state: StoreState, now: Timestamp) -> Self {
        let mut next = self.clone();
        (next.open, next.paused) = match state {
            StoreState::Closed => (false, false),
            StoreState::Open => (true, false),
            StoreState::Paused => (true, true),
        };
        next.version = self.version.saturating_add(1);
        next.updated_at = now;
        next
    }

    /// The public view (`GET /api/events/{eventId}/config`).
    pub fn view(&self) -> ConfigView {
        ConfigView {
            store_state: self.store_state(),
            config: self.clone(),
        }
    }
}

/// A config as the API and the `ConfigService.ConfigChanged` event show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigView {
    pub store_state: StoreState,
    #[serde(flatten)]
    pub config: StoreConfig,
}

fn range(field: &'static str, got: u32, min: u32, max: u32) -> Result<(), ConfigError> {
    if got < min || got > max {
        return Err(ConfigError::OutOfRange {
            field,
            min,
            max,
            got,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> StoreConfig {
        StoreConfig::seed_default(Timestamp::from_millis(1_000))
    }

    #[test]
    fn the_seeded_event_is_open_with_ten_drinks_per_barcode() {
        let c = config();
        assert_eq!(c.event_id.as_str(), "default");
        assert!(c.accepts_new_orders());
        assert_eq!(c.drinks_per_barcode, 10);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn a_paused_store_is_open_but_takes_no_new_orders() {
        let c = config().with_store_state(StoreState::Paused, Timestamp::from_millis(2));
        assert!(c.open);
        assert_eq!(c.store_state(), StoreState::Paused);
        assert!(!c.accepts_new_orders());
        let closed = c.with_store_state(StoreState::Closed, Timestamp::from_millis(3));
        assert!(!closed.open && !closed.paused);
    }

    #[test]
    fn an_update_bumps_the_version_and_changes_only_what_it_names() {
        let c = config();
        let next = c
            .apply(
                &ConfigUpdate {
                    max_orders_in_queue: Some(5),
                    ..Default::default()
                },
                Timestamp::from_millis(9),
            )
            .unwrap();
        assert_eq!(next.max_orders_in_queue, 5);
        assert_eq!(next.version, c.version + 1);
        assert_eq!(next.menu, c.menu);
    }

    #[test]
    fn out_of_range_limits_are_refused_by_name() {
        let err = config()
            .apply(
                &ConfigUpdate {
                    drinks_per_barcode: Some(0),
                    ..Default::default()
                },
                Timestamp::from_millis(9),
            )
            .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::OutOfRange {
                field: "drinksPerBarcode",
                ..
            }
        ));
    }

    #[test]
    fn availability_updates_name_known_drinks_and_options() {
        let c = config();
        let update: ConfigUpdate = serde_json::from_value(serde_json::json!({
            "availability": {"drinks": {"cappuccino": true}, "options": {"oat": false}}
        }))
        .unwrap();
        let next = c.apply(&update, Timestamp::from_millis(9)).unwrap();
        let cap = next
            .menu
            .drinks
            .iter()
            .find(|d| d.id.as_str() == "cappuccino");
        assert_eq!(cap.map(|d| d.available), Some(true));

        let unknown: ConfigUpdate = serde_json::from_value(serde_json::json!({
            "availability": {"options": {"soy": false}}
        }))
        .unwrap();
        assert!(matches!(
            c.apply(&unknown, Timestamp::from_millis(9)),
            Err(ConfigError::UnknownOption(_))
        ));
    }

    #[test]
    fn updates_with_unknown_fields_do_not_parse() {
        let r: Result<ConfigUpdate, _> =
            serde_json::from_value(serde_json::json!({"storeOpen": true}));
        assert!(r.is_err());
    }

    #[test]
    fn an_empty_update_is_refused() {
        assert_eq!(
            config().apply(&ConfigUpdate::default(), Timestamp::from_millis(9)),
            Err(ConfigError::EmptyUpdate)
        );
    }

    #[test]
    fn the_view_carries_the_store_state_next_to_the_config_fields() {
        let v = serde_json::to_value(config().view()).unwrap();
        assert_eq!(v["storeState"], "open");
        assert_eq!(v["eventId"], "default");
        assert_eq!(v["drinksPerBarcode"], 10);
    }
}
