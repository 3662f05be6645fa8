//! The one error type of the use cases, and its mapping to HTTP.
//!
//! | status | code(s) | when |
//! |---|---|---|
//! | 400 | `bad_request`, `invalid_code` | a malformed id or parameter; a QR code that is wrong or expired |
//! | 401 | `unauthenticated` | no signed-in user where one is needed |
//! | 403 | `admin_only` | a customer calls an admin route (barista actions, QR for displays, store control, order lists) |
//! | 404 | `event_not_found`, `order_not_found` | no such event or order; also someone else's order, so that ids leak nothing |
//! | 409 | `store_closed`, `store_paused`, `event_exists`, `conflict`, and every [`TransitionError`] code (`order_already_completed`, `customer_cannot_cancel_once_being_made`, ...) | the request is valid but the state does not allow it |
//! | 422 | every [`DrinkOrderError`] code (`unknown_drink`, `drink_unavailable`, `unknown_modifier`, `unknown_option`, `option_unavailable`, `missing_choice`, `too_many_choices`, ...), `invalid_config` | a well-formed body the domain refuses |
//! | 429 | `no_tokens_remaining` (with `Retry-After` until the next window), `too_many_open_orders` | a limit is reached |
//! | 500 | `corrupt_data` | a stored item does not decode |
//! | 503 | `unavailable` | a store, the bus or the workflow service failed transiently; retrying is safe |

use crate::config::ConfigError;
use crate::events::EventError;
use crate::ids::{EventId, IdError, OrderId};
use crate::menu::DrinkOrderError;
use crate::order::TransitionError;
use crate::ports::{PublishError, ResumeError, StoreError};
use crate::qr::QrError;
use crate::time::Timestamp;

#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    #[error("sign in first")]
    Unauthenticated,
    #[error("this needs the admin group")]
    AdminOnly,
    #[error("{0}")]
    BadRequest(String),
    #[error("there is no event {0}")]
    EventNotFound(EventId),
    #[error("there is no order {0}")]
    OrderNotFound(OrderId),
    #[error("event {0} exists already")]
    EventExists(EventId),
    #[error("the store is closed")]
    StoreClosed,
    #[error("the store is not taking new orders right now")]
    StorePaused,
    #[error("you already have {max} unfinished order(s) in this event")]
    TooManyOpenOrders { max: u32 },
    #[error(transparent)]
    Qr(#[from] QrError),
    #[error(transparent)]
    InvalidDrink(#[from] DrinkOrderError),
    #[error(transparent)]
    InvalidConfig(#[from] ConfigError),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Concurrent writers kept winning: the request may be retried.
    #[error("the item kept changing under this request; try again")]
    Contention,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Resume(#[from] ResumeError),
    #[error(transparent)]
    Event(#[from] EventError),
}

impl From<IdError> for UseCaseError {
    fn from(e: IdError) -> Self {
        Self::BadRequest(e.to_string())
    }
}

impl UseCaseError {
    /// The HTTP status the edge answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Qr(QrError::InvalidCode) => 400,
            Self::Unauthenticated => 401,
            Self::AdminOnly => 403,
            Self::EventNotFound(_) | Self::OrderNotFound(_) => 404,
            Self::EventExists(_)
            | Self::StoreClosed
            | Self::StorePaused
            | Self::Transition(_)
            | Self::Contention => 409,
            Self::Store(StoreError::Conflict) => 409,
            Self::InvalidDrink(_) | Self::InvalidConfig(_) => 422,
            Self::Qr(QrError::NoTokensRemaining { .. }) | Self::TooManyOpenOrders { .. } => 429,
            Self::Store(StoreError::Corrupt(_)) | Self::Event(_) => 500,
            Self::Store(StoreError::Unavailable(_)) | Self::Publish(_) | Self::Resume(_) => 503,
        }
    }

    /// A stable machine-readable code (the problem document's `code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::AdminOnly => "admin_only",
            Self::BadRequest(_) => "bad_request",
            Self::EventNotFound(_) => "event_not_found",
            Self::OrderNotFound(_) => "order_not_found",
            Self::EventExists(_) => "event_exists",
            Self::StoreClosed => "store_closed",
            Self::StorePaused => "store_paused",
            Self::TooManyOpenOrders { .. } => "too_many_open_orders",
            Self::Qr(QrError::InvalidCode) => "invalid_code",
            Self::Qr(QrError::NoTokensRemaining { .. }) => "no_tokens_remaining",
            Self::InvalidDrink(e) => e.code(),
            Self::InvalidConfig(_) => "invalid_config",
            Self::Transition(e) => e.code(),
            Self::Contention | Self::Store(StoreError::Conflict) => "conflict",
            Self::Store(StoreError::Corrupt(_)) | Self::Event(_) => "corrupt_data",
            Self::Store(StoreError::Unavailable(_)) | Self::Publish(_) | Self::Resume(_) => {
                "unavailable"
            }
        }
    }

    /// Seconds until retrying makes sense (`Retry-After`), `now` being the request's time.
    pub fn retry_after_seconds(&self, now: Timestamp) -> Option<u64> {
        match self {
            Self::Qr(QrError::NoTokensRemaining { next_window_at }) => {
                let ms = next_window_at.millis_since(now).max(0);
                Some(u64::try_from(ms).unwrap_or(0).div_ceil(1000))
            }
            Self::Store(StoreError::Unavailable(_))
            | Self::Publish(_)
            | Self::Resume(_)
            | Self::Contention => Some(1),
            _ => None,
        }
    }
}
