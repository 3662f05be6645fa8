//! Orders and their state machine.
//!
//! An order is created `pending` when its QR code is verified, becomes `submitted` when the
//! customer gives the drink, `queued` when the workflow allocates its number, `inProgress` while
//! a barista makes it, and ends `completed`, `cancelled`, `timedOut`, `rejected` (the store
//! was closed, paused or at capacity when the workflow checked) or `failed`.
//!
//! Every transition is a pure method returning a [`Change`]: the next order (version bumped),
//! the version it was computed from (repositories write conditionally on it), whether the order's
//! capacity must be released, and which workflow wait must be resumed. Two facts make the
//! workflow handshake exactly-once:
//! - a wait is resumed by whichever write makes it resumable (token known *and* outcome known),
//!   and that same write marks it resumed; since writes are conditional on the version, only
//!   one writer ever sees an unresumed, resumable wait;
//! - capacity is `held` from the workflow's start until the order is finished, and the write
//!   that finishes the order turns it `released`; a finished order never holds capacity.

use crate::ids::{DisplayName, EventId, OrderId, OrderNumber, TaskToken, UserId};
use crate::menu::DrinkOrder;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The state names, as stored and as sent in every event's `state` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderStatus {
    Pending,
    Submitted,
    Queued,
    InProgress,
    Completed,
    Cancelled,
    TimedOut,
    Rejected,
    Failed,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        Self::Pending,
        Self::Submitted,
        Self::Queued,
        Self::InProgress,
        Self::Completed,
        Self::Cancelled,
        Self::TimedOut,
        Self::Rejected,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Submitted => "submitted",
            Self::Queued => "queued",
            Self::InProgress => "inProgress",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timedOut",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Finished orders never change again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Cancelled | Self::TimedOut | Self::Rejected | Self::Failed
        )
    }

    /// Orders in the barista's queue (they hold a number and count for the queue position).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Queued | Self::InProgress)
    }
}

/// Which human the workflow was waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Wait {
    /// Up to [`Wait::DRINK_SECONDS`] for the customer's drink.
    Drink,
    /// Up to [`Wait::BARISTA_SECONDS`] for the barista.
    Barista,
}

impl Wait {
    pub const DRINK_SECONDS: u32 = 300;
    pub const BARISTA_SECONDS: u32 = 900;

    /// The reference's `cause` text in `OrderProcessor.OrderTimeOut`.
    pub fn cause(self) -> &'static str {
        match self {
            Self::Drink => "Customer timedout",
            Self::Barista => "Barista timedout",
        }
    }

    pub fn from_cause(cause: &str) -> Option<Self> {
        match cause {
            "Customer timedout" | "drink" => Some(Self::Drink),
            "Barista timedout" | "barista" => Some(Self::Barista),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CancelledBy {
    Customer,
    Barista,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RejectReason {
    StoreClosed,
    StorePaused,
    AtCapacity,
}

/// The state with the data that belongs to it. Stored flattened into the order:
/// `{"state":"inProgress","baristaUserId":"..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "state",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum OrderState {
    Pending,
    Submitted,
    Queued,
    InProgress {
        barista_user_id: UserId,
    },
    Completed {
        completed_by: UserId,
    },
    Cancelled {
        cancelled_by: CancelledBy,
        cancelled_by_user: UserId,
    },
    TimedOut {
        timed_out_wait: Wait,
    },
    Rejected {
        reject_reason: RejectReason,
    },
    Failed {
        failure: String,
    },
}

impl OrderState {
    pub fn status(&self) -> OrderStatus {
        match self {
            Self::Pending => OrderStatus::Pending,
            Self::Submitted => OrderStatus::Submitted,
            Self::Queued => OrderStatus::Queued,
            Self::InProgress { .. } => OrderStatus::InProgress,
            Self::Completed { .. } => OrderStatus::Completed,
            Self::Cancelled { .. } => OrderStatus::Cancelled,
            Self::TimedOut { .. } => OrderStatus::TimedOut,
            Self::Rejected { .. } => OrderStatus::Rejected,
            Self::Failed { .. } => OrderStatus::Failed,
        }
    }
}

/// A workflow wait the order knows the token of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitToken {
    pub token: TaskToken,
    /// Set by the one write that decided to resume this wait.
    pub resumed: bool,
}

/// Whether the order holds one unit of its event's queue capacity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Capacity {
    /// The workflow has not taken capacity (or never will: rejected orders).
    #[default]
    NotTaken,
    Held,
    Released,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: OrderId,
    pub event_id: EventId,
    /// The owner: the `sub` of the customer who scanned the code. Never taken from a body.
    pub user_id: UserId,
    /// The owner's `given_name`, shown on the display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<DisplayName>,
    #[serde(flatten)]
    pub state: OrderState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drink_order: Option<DrinkOrder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_number: Option<OrderNumber>,
    #[serde(default)]
    pub robot: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drink_wait: Option<WaitToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barista_wait: Option<WaitToken>,
    #[serde(default)]
    pub capacity: Capacity,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    pub version: u64,
}

/// What a resumed wait tells the workflow. Going on (`submitted`, `completed`) is a
/// `SendTaskSuccess` with output `{"outcome": "<name>"}`; a cancellation is a
/// `SendTaskFailure` with error [`Resumption::CANCELLED_ERROR`], which the workflow catches.
/// No Choice follows a wait, so the usual path costs no extra state transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Resumption {
    /// The customer gave the drink: allocate a number and wait for the barista.
    Submitted,
    Completed,
    Cancelled,
}

impl Resumption {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The error a cancelled wait fails with (the workflow's `Catch` names it).
    pub const CANCELLED_ERROR: &'static str = "OrderCancelled";

    /// The `SendTaskSuccess` output.
    pub fn output_json(self) -> String {
        format!(r#"{{"outcome":"{}"}}"#, self.as_str())
    }

    /// `Some((error, cause))` when the wait is resumed with `SendTaskFailure`.
    pub fn failure(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Cancelled => Some((Self::CANCELLED_ERROR, "The order was cancelled.")),
            Self::Submitted | Self::Completed => None,
        }
    }
}

/// A wait to resume after the change is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    pub wait: Wait,
    pub token: TaskToken,
    pub resumption: Resumption,
}

/// The outcome of a transition: store `order` if the stored version is still
/// `expected_version`, releasing one unit of the event's capacity in the same write when
/// `release_capacity`; then resume `resume`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub order: Order,
    pub expected_version: u64,
    pub release_capacity: bool,
    pub resume: Option<Resume>,
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the order is already completed")]
    AlreadyCompleted,
    #[error("the order is already cancelled")]
    AlreadyCancelled,
    #[error("the order is finished ({})", .0.as_str())]
    Finished(OrderStatus),
    #[error("the drink is already being made, so the order can no longer be cancelled")]
    CustomerCannotCancelOnceBeingMade,
    #[error("another barista is already making this order")]
    AlreadyBeingMade { barista_user_id: UserId },
    #[error("the order is not in the barista's queue yet ({})", .0.as_str())]
    NotQueuedYet(OrderStatus),
    #[error("the order is not being made")]
    NotBeingMade,
    #[error("a different drink was already given for this order")]
    DrinkAlreadySubmitted,
    #[error("the customer has not given the drink yet")]
    DrinkNotSubmitted,
}

impl TransitionError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::AlreadyCompleted => "order_already_completed",
            Self::AlreadyCancelled => "order_already_cancelled",
            Self::Finished(_) => "order_finished",
            Self::CustomerCannotCancelOnceBeingMade => "customer_cannot_cancel_once_being_made",
            Self::AlreadyBeingMade { .. } => "order_already_being_made",
            Self::NotQueuedYet(_) => "order_not_queued",
            Self::NotBeingMade => "order_not_being_made",
            Self::DrinkAlreadySubmitted => "drink_already_submitted",
            Self::DrinkNotSubmitted => "drink_not_submitted",
        }
    }
}

/// `Ok(None)`: nothing to do (the change was already applied: an idempotent repeat).
pub type TransitionResult = Result<Option<Change>, TransitionError>;

impl Order {
    /// A verified QR scan: the order exists, owned by `user_id`, waiting for the workflow and
    /// the drink.
    pub fn new_pending(
        order_id: OrderId,
        event_id: EventId,
        user_id: UserId,
        display_name: Option<DisplayName>,
        now: Timestamp,
    ) -> Self {
        Self {
            order_id,
            event_id,
            user_id,
            display_name,
            state: OrderState::Pending,
            drink_order: None,
            order_number: None,
            robot: false,
            drink_wait: None,
            barista_wait: None,
            capacity: Capacity::NotTaken,
            created_at: now,
            updated_at: now,
            submitted_at: None,
            queued_at: None,
            finished_at: None,
            version: 1,
        }
    }

    pub fn status(&self) -> OrderStatus {
        self.state.status()
    }

    pub fn is_finished(&self) -> bool {
        self.status().is_terminal()
    }

    pub fn barista(&self) -> Option<&UserId> {
        match &self.state {
            OrderState::InProgress { barista_user_id } => Some(barista_user_id),
            OrderState::Completed { completed_by } => Some(completed_by),
            _ => None,
        }
    }

    /// The customer gives the drink. Giving the same drink again is a no-op.
    pub fn submit_drink(&self, drink: DrinkOrder, now: Timestamp) -> TransitionResult {
        if self.is_finished() {
            return Err(self.finished_error());
        }
        if self.drink_order.as_ref() == Some(&drink) {
            return Ok(None);
        }
        if self.status() != OrderStatus::Pending {
            return Err(TransitionError::DrinkAlreadySubmitted);
        }
        let mut next = self.clone();
        next.state = OrderState::Submitted;
        next.drink_order = Some(drink);
        next.submitted_at = Some(now);
        Ok(Some(self.finish(next, now)))
    }

    /// The workflow reached its first wait (`OrderProcessor.WorkflowStarted`): it has taken
    /// capacity, and `token` resumes it. A repeat delivery is a no-op.
    pub fn record_workflow_started(&self, token: TaskToken, now: Timestamp) -> TransitionResult {
        if self.drink_wait.is_some() {
            return Ok(None);
        }
        let mut next = self.clone();
        next.drink_wait = Some(WaitToken {
            token,
            resumed: false,
        });
        if next.capacity == Capacity::NotTaken {
            next.capacity = Capacity::Held;
        }
        Ok(Some(self.finish(next, now)))
    }

    /// The workflow allocated `number` and waits for the barista with `token`
    /// (`OrderProcessor.WaitingCompletion`). A repeat delivery is a no-op.
    pub fn record_waiting_completion(
        &self,
        number: OrderNumber,
        token: TaskToken,
        now: Timestamp,
    ) -> TransitionResult {
        if self.barista_wait.is_some() {
            return Ok(None);
        }
        let mut next = self.clone();
        next.barista_wait = Some(WaitToken {
            token,
            resumed: false,
        });
        next.order_number = Some(number);
        match self.status() {
            OrderStatus::Submitted => {
                next.state = OrderState::Queued;
                next.queued_at = Some(now);
            }
            OrderStatus::Pending => return Err(TransitionError::DrinkNotSubmitted),
            // A finished order only records the token, so that a cancelled order's wait is
            // resumed at once (see `pending_resumption`).
            _ => {}
        }
        Ok(Some(self.finish(next, now)))
    }

    /// A barista claims the order.
    pub fn make(&self, barista: &UserId, now: Timestamp) -> TransitionResult {
        match &self.state {
            OrderState::Queued => {
                let mut next = self.clone();
                next.state = OrderState::InProgress {
                    barista_user_id: barista.clone(),
                };
                Ok(Some(self.finish(next, now)))
            }
            OrderState::InProgress { barista_user_id } if barista_user_id == barista => Ok(None),
            OrderState::InProgress { barista_user_id } => Err(TransitionError::AlreadyBeingMade {
                barista_user_id: barista_user_id.clone(),
            }),
            OrderState::Pending | OrderState::Submitted => {
                Err(TransitionError::NotQueuedYet(self.status()))
            }
            _ => Err(self.finished_error()),
        }
    }

    /// A barista puts the order back in the queue.
    pub fn unmake(&self, now: Timestamp) -> TransitionResult {
        match &self.state {
            OrderState::InProgress { .. } => {
                let mut next = self.clone();
                next.state = OrderState::Queued;
                Ok(Some(self.finish(next, now)))
            }
            OrderState::Queued => Ok(None),
            OrderState::Pending | OrderState::Submitted => Err(TransitionError::NotBeingMade),
            _ => Err(self.finished_error()),
        }
    }

    /// A barista hands the drink over.
    pub fn complete(&self, barista: &UserId, now: Timestamp) -> TransitionResult {
        match &self.state {
            OrderState::Queued | OrderState::InProgress { .. } => {
                let mut next = self.clone();
                next.state = OrderState::Completed {
                    completed_by: barista.clone(),
                };
                Ok(Some(self.finish(next, now)))
            }
            OrderState::Pending | OrderState::Submitted => {
                Err(TransitionError::NotQueuedYet(self.status()))
            }
            _ => Err(self.finished_error()),
        }
    }

    /// Cancels the order. A customer may cancel until a barista starts making the drink; a
    /// barista may cancel any unfinished order.
    pub fn cancel(&self, by: CancelledBy, user: &UserId, now: Timestamp) -> TransitionResult {
        if self.is_finished() {
            return Err(self.finished_error());
        }
        if by == CancelledBy::Customer && self.status() == OrderStatus::InProgress {
            return Err(TransitionError::CustomerCannotCancelOnceBeingMade);
        }
        let mut next = self.clone();
        next.state = OrderState::Cancelled {
            cancelled_by: by,
            cancelled_by_user: user.clone(),
        };
        Ok(Some(self.finish(next, now)))
    }

    /// The workflow gave up waiting (`OrderProcessor.OrderTimeOut`). Ignored once finished.
    pub fn time_out(&self, wait: Wait, now: Timestamp) -> TransitionResult {
        if self.is_finished() {
            return Ok(None);
        }
        let mut next = self.clone();
        next.state = OrderState::TimedOut {
            timed_out_wait: wait,
        };
        // Both waits come after the workflow took capacity, even when the event saying so
        // never reached the order.
        if next.capacity == Capacity::NotTaken {
            next.capacity = Capacity::Held;
        }
        // The timed-out wait's token is dead: never resume it.
        match wait {
            Wait::Drink => mark_resumed(&mut next.drink_wait),
            Wait::Barista => mark_resumed(&mut next.barista_wait),
        }
        Ok(Some(self.finish(next, now)))
    }

    /// The workflow found the store closed, paused or full (`OrderProcessor.ShopUnavailable`).
    pub fn reject(&self, reason: RejectReason, now: Timestamp) -> TransitionResult {
        if self.is_finished() {
            return Ok(None);
        }
        let mut next = self.clone();
        next.state = OrderState::Rejected {
            reject_reason: reason,
        };
        Ok(Some(self.finish(next, now)))
    }

    /// The workflow failed (`OrderProcessor.OrderFailed`). `capacity_taken` says whether it had
    /// taken capacity before failing, which the order may not know yet.
    pub fn fail(&self, failure: &str, capacity_taken: bool, now: Timestamp) -> TransitionResult {
        if self.is_finished() {
            return Ok(None);
        }
        let mut next = self.clone();
        next.state = OrderState::Failed {
            failure: failure.chars().take(256).collect(),
        };
        if capacity_taken && next.capacity == Capacity::NotTaken {
            next.capacity = Capacity::Held;
        }
        mark_resumed(&mut next.drink_wait);
        mark_resumed(&mut next.barista_wait);
        Ok(Some(self.finish(next, now)))
    }

    fn finished_error(&self) -> TransitionError {
        match self.status() {
            OrderStatus::Completed => TransitionError::AlreadyCompleted,
            OrderStatus::Cancelled => TransitionError::AlreadyCancelled,
            s => TransitionError::Finished(s),
        }
    }

    /// Bumps the version and decides capacity release and resumption for `next`.
    fn finish(&self, mut next: Order, now: Timestamp) -> Change {
        next.version = self.version.saturating_add(1);
        next.updated_at = now;
        let mut release_capacity = false;
        if next.is_finished() {
            if next.finished_at.is_none() {
                next.finished_at = Some(now);
            }
            // Releasing is removing the order's id from the holders: harmless when it holds
            // nothing, so a finished order always releases — also when the workflow took
            // capacity without the order hearing of it (a task cut short by a crash).
            next.capacity = Capacity::Released;
            release_capacity = true;
        }
        let resume = next.pending_resumption();
        if let Some(r) = &resume {
            match r.wait {
                Wait::Drink => mark_resumed(&mut next.drink_wait),
                Wait::Barista => mark_resumed(&mut next.barista_wait),
            }
        }
        Change {
            order: next,
            expected_version: self.version,
            release_capacity,
            resume,
        }
    }

    /// The wait this order's state can resume and nobody has resumed yet.
    ///
    /// A wait whose token arrives after the order ended without the barista (cancelled, or
    /// failed or rejected on another path) is resumed with `cancelled`, so the workflow ends
    /// at once instead of waiting for its heartbeat to expire.
    pub fn pending_resumption(&self) -> Option<Resume> {
        let status = self.status();
        let ended_early = matches!(
            status,
            OrderStatus::Cancelled | OrderStatus::Failed | OrderStatus::Rejected
        );
        if let Some(w) = self.drink_wait.as_ref().filter(|w| !w.resumed) {
            let resumption = match status {
                _ if ended_early => Some(Resumption::Cancelled),
                _ if self.drink_order.is_some() && !status.is_terminal() => {
                    Some(Resumption::Submitted)
                }
                _ => None,
            };
            if let Some(resumption) = resumption {
                return Some(Resume {
                    wait: Wait::Drink,
                    token: w.token.clone(),
                    resumption,
                });
            }
        }
        if let Some(w) = self.barista_wait.as_ref().filter(|w| !w.resumed) {
            let resumption = match status {
                _ if ended_early => Some(Resumption::Cancelled),
                OrderStatus::Completed => Some(Resumption::Completed),
                _ => None,
            };
            if let Some(resumption) = resumption {
                return Some(Resume {
                    wait: Wait::Barista,
                    token: w.token.clone(),
                    resumption,
                });
            }
        }
        None
    }

    /// A change that only claims the wait [`Order::pending_resumption`] names, if any: how a
    /// repeated request or event heals a resumption that failed before.
    pub fn claim_pending_resumption(&self, now: Timestamp) -> Option<Change> {
        self.pending_resumption()?;
        Some(self.finish(self.clone(), now))
    }

    /// Un-marks a resumption whose `SendTaskSuccess` failed, so a later write can retry it.
    pub fn undo_resume(&self, resume: &Resume, now: Timestamp) -> Change {
        let mut next = self.clone();
        let slot = match resume.wait {
            Wait::Drink => &mut next.drink_wait,
            Wait::Barista => &mut next.barista_wait,
        };
        if let Some(w) = slot.as_mut() {
            w.resumed = false;
        }
        next.version = self.version.saturating_add(1);
        next.updated_at = now;
        Change {
            order: next,
            expected_version: self.version,
            release_capacity: false,
            resume: None,
        }
    }
}

fn mark_resumed(slot: &mut Option<WaitToken>) {
    if let Some(w) = slot.as_mut() {
        w.resumed = true;
    }
}

/// Where an order stands in its event's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueEstimate {
    /// 1 for the next drink: one more than the active orders with a smaller number.
    pub queue_position: u32,
    pub estimated_wait_seconds: u32,
}

/// The queue position of `order` among `active` (the event's queued and in-progress orders),
/// and the wait at `seconds_per_drink` each. `None` for orders without a number or not active.
pub fn queue_estimate(
    order: &Order,
    active: &[Order],
    seconds_per_drink: u32,
) -> Option<QueueEstimate> {
    if !order.status().is_active() {
        return None;
    }
    let mine = order.order_number?;
    let ahead = active
        .iter()
        .filter(|o| o.event_id == order.event_id && o.order_id != order.order_id)
        .filter(|o| o.status().is_active())
        .filter(|o| o.order_number.is_some_and(|n| n < mine))
        .count();
    let position = u32::try_from(ahead).unwrap_or(u32::MAX).saturating_add(1);
    Some(QueueEstimate {
        queue_position: position,
        estimated_wait_seconds: position.saturating_mul(seconds_per_drink),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::DrinkId;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }
    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }
    fn token(s: &str) -> TaskToken {
        TaskToken::parse(s).unwrap()
    }
    fn drink() -> DrinkOrder {
        DrinkOrder {
            drink_id: DrinkId::parse("americano").unwrap(),
            drink: "Americano".to_owned(),
            icon: "i".to_owned(),
            modifiers: vec![],
        }
    }
    fn pending() -> Order {
        Order::new_pending(
            OrderId::parse("o1").unwrap(),
            EventId::parse("E").unwrap(),
            uid("alice"),
            None,
            t(0),
        )
    }
    fn apply(o: &Order, r: TransitionResult) -> (Order, Change) {
        let _ = o;
        let c = r.unwrap().unwrap();
        (c.order.clone(), c)
    }
    fn queued() -> Order {
        let o = pending();
        let (o, _) = apply(&o, o.record_workflow_started(token("tt1"), t(1)));
        let (o, _) = apply(&o, o.submit_drink(drink(), t(2)));
        let (o, _) = apply(
            &o,
            o.record_waiting_completion(OrderNumber::new(7).unwrap(), token("tt2"), t(3)),
        );
        o
    }

    #[test]
    fn the_drink_given_after_the_workflow_started_resumes_the_first_wait() {
        let o = pending();
        let (o, c1) = apply(&o, o.record_workflow_started(token("tt1"), t(1)));
        assert_eq!(c1.resume, None);
        assert_eq!(o.capacity, Capacity::Held);
        let (o, c2) = apply(&o, o.submit_drink(drink(), t(2)));
        let r = c2.resume.unwrap();
        assert_eq!((r.wait, r.resumption), (Wait::Drink, Resumption::Submitted));
        assert_eq!(r.token, token("tt1"));
        assert!(o.drink_wait.unwrap().resumed);
    }

    #[test]
    fn the_workflow_starting_after_the_drink_resumes_the_first_wait() {
        let o = pending();
        let (o, c1) = apply(&o, o.submit_drink(drink(), t(1)));
        assert_eq!(c1.resume, None);
        assert_eq!(o.status(), OrderStatus::Submitted);
        let (o, c2) = apply(&o, o.record_workflow_started(token("tt1"), t(2)));
        assert_eq!(c2.resume.map(|r| r.resumption), Some(Resumption::Submitted));
        // A repeat delivery of WorkflowStarted changes nothing and resumes nothing.
        assert_eq!(o.record_workflow_started(token("tt1"), t(3)), Ok(None));
    }

    #[test]
    fn giving_the_same_drink_twice_is_a_no_op_and_a_different_one_is_refused() {
        let o = pending();
        let (o, _) = apply(&o, o.submit_drink(drink(), t(1)));
        assert_eq!(o.submit_drink(drink(), t(2)), Ok(None));
        let mut other = drink();
        other.drink = "Flat White".to_owned();
        assert_eq!(
            o.submit_drink(other, t(2)),
            Err(TransitionError::DrinkAlreadySubmitted)
        );
    }

    #[test]
    fn waiting_completion_queues_the_order_with_its_number() {
        let o = queued();
        assert_eq!(o.status(), OrderStatus::Queued);
        assert_eq!(o.order_number.map(OrderNumber::get), Some(7));
        assert_eq!(
            o.record_waiting_completion(OrderNumber::new(7).unwrap(), token("tt2"), t(9)),
            Ok(None)
        );
    }

    #[test]
    fn waiting_completion_before_the_drink_is_refused() {
        let o = pending();
        assert_eq!(
            o.record_waiting_completion(OrderNumber::new(1).unwrap(), token("x"), t(1)),
            Err(TransitionError::DrinkNotSubmitted)
        );
    }

    #[test]
    fn completing_releases_capacity_and_resumes_the_barista_wait() {
        let o = queued();
        let (o, c) = apply(&o, o.complete(&uid("bob"), t(5)));
        assert!(c.release_capacity);
        assert_eq!(o.capacity, Capacity::Released);
        let r = c.resume.unwrap();
        assert_eq!(
            (r.wait, r.resumption),
            (Wait::Barista, Resumption::Completed)
        );
        assert_eq!(o.finished_at, Some(t(5)));
    }

    #[test]
    fn order_cannot_be_completed_twice() {
        let o = queued();
        let (o, _) = apply(&o, o.complete(&uid("bob"), t(5)));
        assert_eq!(
            o.complete(&uid("bob"), t(6)),
            Err(TransitionError::AlreadyCompleted)
        );
    }

    #[test]
    fn customer_cannot_cancel_once_being_made() {
        let o = queued();
        let (o, _) = apply(&o, o.make(&uid("bob"), t(5)));
        assert_eq!(
            o.cancel(CancelledBy::Customer, &uid("alice"), t(6)),
            Err(TransitionError::CustomerCannotCancelOnceBeingMade)
        );
        assert!(o.cancel(CancelledBy::Barista, &uid("bob"), t(6)).is_ok());
    }

    #[test]
    fn a_second_barista_cannot_claim_an_order_being_made() {
        let o = queued();
        let (o, _) = apply(&o, o.make(&uid("bob"), t(5)));
        assert_eq!(o.make(&uid("bob"), t(6)), Ok(None));
        assert!(matches!(
            o.make(&uid("carol"), t(6)),
            Err(TransitionError::AlreadyBeingMade { .. })
        ));
        let (o, _) = apply(&o, o.unmake(t(7)));
        assert_eq!(o.status(), OrderStatus::Queued);
        assert!(o.make(&uid("carol"), t(8)).unwrap().is_some());
    }

    #[test]
    fn cancelling_a_pending_order_resumes_the_first_wait_with_cancelled() {
        let o = pending();
        let (o, _) = apply(&o, o.record_workflow_started(token("tt1"), t(1)));
        let (o, c) = apply(&o, o.cancel(CancelledBy::Customer, &uid("alice"), t(2)));
        assert!(c.release_capacity);
        let r = c.resume.unwrap();
        assert_eq!((r.wait, r.resumption), (Wait::Drink, Resumption::Cancelled));
        assert_eq!(o.capacity, Capacity::Released);
    }

    #[test]
    fn cancelling_before_the_workflow_starts_releases_its_capacity_when_it_does() {
        let o = pending();
        let (o, c) = apply(&o, o.cancel(CancelledBy::Customer, &uid("alice"), t(1)));
        assert!(
            c.release_capacity,
            "a finishing write releases: a no-op when nothing is held"
        );
        let (o, c2) = apply(&o, o.record_workflow_started(token("tt1"), t(2)));
        assert!(
            c2.release_capacity,
            "taken by the workflow, released at once"
        );
        assert_eq!(c2.resume.map(|r| r.resumption), Some(Resumption::Cancelled));
        assert_eq!(o.capacity, Capacity::Released);
    }

    #[test]
    fn a_cancel_between_the_two_waits_resumes_the_barista_wait_when_it_arrives() {
        let o = pending();
        let (o, _) = apply(&o, o.record_workflow_started(token("tt1"), t(1)));
        let (o, _) = apply(&o, o.submit_drink(drink(), t(2)));
        let (o, c) = apply(&o, o.cancel(CancelledBy::Customer, &uid("alice"), t(3)));
        assert_eq!(c.resume, None, "the first wait was already resumed");
        let (_, c2) = apply(
            &o,
            o.record_waiting_completion(OrderNumber::new(3).unwrap(), token("tt2"), t(4)),
        );
        let r = c2.resume.unwrap();
        assert_eq!(
            (r.wait, r.resumption),
            (Wait::Barista, Resumption::Cancelled)
        );
        assert!(
            c2.release_capacity,
            "released again: removing an id the holders no longer have changes nothing"
        );
    }

    #[test]
    fn capacity_is_released_exactly_once_whatever_finishes_the_order() {
        let o = queued();
        let (o, c) = apply(&o, o.time_out(Wait::Barista, t(9)));
        assert!(c.release_capacity);
        assert_eq!(c.resume, None, "a timed-out wait is never resumed");
        assert_eq!(o.time_out(Wait::Barista, t(10)), Ok(None));
        assert!(o.cancel(CancelledBy::Barista, &uid("bob"), t(10)).is_err());
        assert_eq!(o.fail("boom", true, t(10)), Ok(None));
    }

    #[test]
    fn a_failure_after_taking_capacity_releases_it() {
        let o = pending();
        let (o, c) = apply(&o, o.fail("States.TaskFailed", true, t(1)));
        assert!(c.release_capacity);
        assert_eq!(o.status(), OrderStatus::Failed);
    }

    #[test]
    fn a_workflow_reaching_a_failed_order_is_released_and_ended_at_once() {
        let o = pending();
        let (o, _) = apply(&o, o.fail("could not start", false, t(1)));
        let (o, c) = apply(&o, o.record_workflow_started(token("tt1"), t(2)));
        assert!(c.release_capacity);
        assert_eq!(c.resume.map(|r| r.resumption), Some(Resumption::Cancelled));
        assert_eq!(o.capacity, Capacity::Released);
    }

    #[test]
    fn a_rejected_order_releases_whatever_it_might_hold() {
        let o = pending();
        let (o, c) = apply(&o, o.reject(RejectReason::AtCapacity, t(1)));
        assert!(c.release_capacity, "harmless when it holds nothing");
        assert_eq!(o.capacity, Capacity::Released);
    }

    #[test]
    fn a_timed_out_wait_releases_capacity_the_order_never_heard_was_taken() {
        // The WorkflowStarted event was lost with a crash; the heartbeat still ran out.
        let o = pending();
        let (o, c) = apply(&o, o.time_out(Wait::Drink, t(300)));
        assert!(c.release_capacity);
        assert_eq!(o.capacity, Capacity::Released);
    }

    #[test]
    fn every_change_bumps_the_version_it_was_computed_from() {
        let o = pending();
        let c = o.submit_drink(drink(), t(1)).unwrap().unwrap();
        assert_eq!(c.expected_version, o.version);
        assert_eq!(c.order.version, o.version + 1);
    }

    #[test]
    fn the_state_is_stored_flat_next_to_the_order_fields() {
        let o = queued();
        let (o, _) = apply(&o, o.make(&uid("bob"), t(5)));
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["state"], "inProgress");
        assert_eq!(v["baristaUserId"], "bob");
        assert_eq!(v["orderNumber"], 7);
        let back: Order = serde_json::from_value(v).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn queue_position_counts_active_orders_with_smaller_numbers() {
        let mut orders = Vec::new();
        for (i, status) in [(1, "queued"), (2, "done"), (3, "queued"), (4, "queued")] {
            let mut o = queued();
            o.order_id = OrderId::parse(format!("o{i}")).unwrap();
            o.order_number = Some(OrderNumber::new(i).unwrap());
            if status == "done" {
                o.state = OrderState::Completed {
                    completed_by: uid("bob"),
                };
            }
            orders.push(o);
        }
        let est = queue_estimate(&orders[3], &orders, 60).unwrap();
        assert_eq!(est.queue_position, 3);
        assert_eq!(est.estimated_wait_seconds, 180);
        assert_eq!(queue_estimate(&orders[1], &orders, 60), None);
        assert_eq!(queue_estimate(&pending(), &orders, 60), None);
    }

    #[test]
    fn resumption_outputs_name_the_outcome() {
        assert_eq!(
            Resumption::Cancelled.output_json(),
            r#"{"outcome":"cancelled"}"#
        );
    }
}
