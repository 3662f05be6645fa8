//! Use-case tests over the in-memory ports: whole journeys, races, limits and permissions.

use super::config::{self as cfg, ConfigPorts};
use super::orders::{self, OrderAction};
use super::publish;
use super::qr::{self, QrPorts};
use super::workflow;
use super::{Handled, OrderPorts, UseCaseError};
use crate::config::{ConfigUpdate, StoreConfig, StoreState};
use crate::events::{
    Event, OrderFailed, OrderTimeOut, ProcessorWaitingCompletion, WorkflowStarted, detail_type,
};
use crate::identity::{Caller, Principal};
use crate::ids::{DisplayName, EventId, OrderId, OrderNumber, TaskToken, UserId};
use crate::menu::DrinkRequest;
use crate::order::{Change, Order, OrderStatus, Resumption};
use crate::ports::{Clock, JourneyEntry, OrderRepository, StoreError};
use crate::qr::{GRACE_MS, WINDOW_MS, WindowId};
use crate::testing::{
    InMemoryStore, ManualClock, RecordingEvents, RecordingRealtime, RecordingResumer,
    SeqRandomness, block_on,
};
use crate::time::Timestamp;
use std::sync::atomic::Ordering;

/// A moment one minute into a window.
const T0: i64 = 5_484_001 * WINDOW_MS + 60_000;

struct World {
    store: InMemoryStore,
    events: RecordingEvents,
    resumer: RecordingResumer,
    clock: ManualClock,
    rng: SeqRandomness,
}

fn user(sub: &str, admin: bool) -> Principal {
    Principal::User(Caller {
        user_id: UserId::parse(sub).unwrap(),
        display_name: DisplayName::from_claim(&format!("{sub} name")),
        groups: if admin {
            vec!["admin".to_owned()]
        } else {
            vec![]
        },
    })
}
fn customer(sub: &str) -> Principal {
    user(sub, false)
}
fn barista() -> Principal {
    user("barista", true)
}
fn ev() -> EventId {
    EventId::default_event()
}
fn americano() -> DrinkRequest {
    DrinkRequest {
        drink: "Americano".to_owned(),
        modifiers: vec!["Oat".to_owned()],
    }
}
fn token(s: &str) -> TaskToken {
    TaskToken::parse(s).unwrap()
}

impl World {
    fn new() -> Self {
        Self::with(|_| {})
    }

    fn with(adjust: impl FnOnce(&mut StoreConfig)) -> Self {
        let mut config = StoreConfig::seed_default(Timestamp::from_millis(0));
        config.max_orders_per_user = 3;
        adjust(&mut config);
        Self {
            store: InMemoryStore::with_config(config),
            events: RecordingEvents::new(),
            resumer: RecordingResumer::new(),
            clock: ManualClock::at(T0),
            rng: SeqRandomness::new(1),
        }
    }

    fn ports(
        &self,
    ) -> OrderPorts<'_, InMemoryStore, RecordingResumer, RecordingEvents, ManualClock> {
        OrderPorts {
            store: &self.store,
            workflow: &self.resumer,
            events: &self.events,
            clock: &self.clock,
        }
    }

    fn qr(&self) -> QrPorts<'_, InMemoryStore, RecordingEvents, ManualClock, SeqRandomness> {
        QrPorts {
            store: &self.store,
            events: &self.events,
            clock: &self.clock,
            rng: &self.rng,
        }
    }

    fn cfg(&self) -> ConfigPorts<'_, InMemoryStore, RecordingEvents, ManualClock> {
        ConfigPorts {
            store: &self.store,
            events: &self.events,
            clock: &self.clock,
        }
    }

    fn code(&self) -> String {
        let view = block_on(qr::get_qr_code(&self.qr(), &barista(), &ev())).unwrap();
        view.bucket.code.as_str().to_owned()
    }

    fn scan(&self, who: &Principal) -> Result<OrderId, UseCaseError> {
        let code = self.code();
        block_on(qr::verify_qr_and_create_order(
            &self.qr(),
            who,
            &ev(),
            &code,
        ))
        .map(|v| v.order_id)
    }

    fn order(&self, id: &OrderId) -> Order {
        self.store.order(id).unwrap()
    }

    /// The workflow's first steps: take capacity, then hand over the first wait's token.
    fn workflow_started(&self, id: &OrderId) -> Handled {
        assert!(self.store.take_capacity(&ev(), id.as_str(), 20));
        let o = self.order(id);
        let e = WorkflowStarted {
            order_id: id.clone(),
            user_id: o.user_id.clone(),
            event_id: o.event_id.clone(),
            state: OrderStatus::Pending,
            task_token: token(&format!("tt1-{id}")),
            message: String::new(),
        };
        block_on(workflow::handle_workflow_started(&self.ports(), &e)).unwrap()
    }

    /// The workflow after the drink: a number, then the barista wait's token.
    fn waiting_completion(&self, id: &OrderId) -> Result<Handled, UseCaseError> {
        let o = self.order(id);
        let n = self.store.next_order_number(&ev());
        let e = ProcessorWaitingCompletion {
            order_id: id.clone(),
            user_id: o.user_id.clone(),
            event_id: o.event_id.clone(),
            order_number: OrderNumber::new(n).unwrap(),
            state: OrderStatus::Queued,
            task_token: token(&format!("tt2-{id}")),
            message: String::new(),
        };
        block_on(workflow::handle_waiting_completion(&self.ports(), &e))
    }

    fn submit(&self, who: &Principal, id: &OrderId) -> Result<OrderStatus, UseCaseError> {
        block_on(orders::submit_drink(
            &self.ports(),
            who,
            id,
            None,
            &americano(),
        ))
        .map(|v| v.state)
    }

    fn act(
        &self,
        who: &Principal,
        id: &OrderId,
        action: OrderAction,
    ) -> Result<OrderStatus, UseCaseError> {
        block_on(orders::order_action(&self.ports(), who, id, None, action)).map(|v| v.state)
    }

    fn queued_order(&self, who: &Principal) -> OrderId {
        let id = self.scan(who).unwrap();
        self.workflow_started(&id);
        self.submit(who, &id).unwrap();
        self.waiting_completion(&id).unwrap();
        id
    }

    fn resumptions(&self) -> Vec<(String, Resumption)> {
        self.resumer
            .resumed()
            .into_iter()
            .map(|(t, r)| (t.as_str().to_owned(), r))
            .collect()
    }
}

#[test]
fn a_whole_order_resumes_each_wait_once_and_releases_its_capacity() {
    let w = World::new();
    let alice = customer("alice");
    let id = w.scan(&alice).unwrap();
    assert_eq!(w.order(&id).status(), OrderStatus::Pending);
    assert_eq!(w.order(&id).user_id.as_str(), "alice");
    assert_eq!(
        w.order(&id).display_name.as_ref().map(|d| d.as_str()),
        Some("alice name"),
        "the given_name becomes the display name"
    );

    w.workflow_started(&id);
    assert_eq!(w.submit(&alice, &id).unwrap(), OrderStatus::Submitted);
    w.waiting_completion(&id).unwrap();
    assert_eq!(w.order(&id).status(), OrderStatus::Queued);
    assert_eq!(
        w.act(&barista(), &id, OrderAction::Make).unwrap(),
        OrderStatus::InProgress
    );
    assert_eq!(
        w.act(&barista(), &id, OrderAction::Complete).unwrap(),
        OrderStatus::Completed
    );

    assert_eq!(
        w.resumptions(),
        vec![
            (format!("tt1-{id}"), Resumption::Submitted),
            (format!("tt2-{id}"), Resumption::Completed),
        ]
    );
    assert_eq!(w.store.capacity_in_use(&ev()), 0);
    assert_eq!(
        w.events.detail_types(),
        vec![
            detail_type::NEW_ORDER,
            detail_type::ORDER_SUBMITTED,
            detail_type::WAITING_COMPLETION,
            detail_type::MAKE_ORDER,
            detail_type::ORDER_COMPLETED,
        ]
    );
}

#[test]
fn a_drink_given_before_the_workflow_waits_is_resumed_by_the_workflow_started_handler() {
    let w = World::new();
    let alice = customer("alice");
    let id = w.scan(&alice).unwrap();
    w.submit(&alice, &id).unwrap();
    assert!(w.resumptions().is_empty());
    assert_eq!(w.workflow_started(&id), Handled::Applied);
    assert_eq!(
        w.resumptions(),
        vec![(format!("tt1-{id}"), Resumption::Submitted)]
    );
}

#[test]
fn a_redelivered_workflow_event_changes_and_resumes_nothing_twice() {
    let w = World::new();
    let alice = customer("alice");
    let id = w.scan(&alice).unwrap();
    w.submit(&alice, &id).unwrap();
    w.workflow_started(&id);
    let e = WorkflowStarted {
        order_id: id.clone(),
        user_id: UserId::parse("alice").unwrap(),
        event_id: ev(),
        state: OrderStatus::Pending,
        task_token: token(&format!("tt1-{id}")),
        message: String::new(),
    };
    let again = block_on(workflow::handle_workflow_started(&w.ports(), &e)).unwrap();
    assert_eq!(again, Handled::Unchanged);
    assert_eq!(w.resumptions().len(), 1);

    assert_eq!(w.waiting_completion(&id).unwrap(), Handled::Applied);
    let events_before = w.events.events().len();
    assert_eq!(w.waiting_completion(&id).unwrap(), Handled::Unchanged);
    assert_eq!(
        w.events.events().len(),
        events_before,
        "no second WaitingCompletion"
    );
    assert_eq!(w.order(&id).order_number.map(OrderNumber::get), Some(1));
}

/// A store whose first order write loses a race: just before it, the workflow's token lands.
struct RacingStore<'a> {
    inner: &'a InMemoryStore,
    raced: std::sync::atomic::AtomicBool,
    token: TaskToken,
}

impl OrderRepository for RacingStore<'_> {
    async fn get(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        OrderRepository::get(self.inner, id).await
    }
    async fn create(&self, order: &Order) -> Result<(), StoreError> {
        self.inner.create(order).await
    }
    async fn save(&self, change: &Change) -> Result<(), StoreError> {
        if !self.raced.swap(true, Ordering::SeqCst) {
            let current = self.inner.order(&change.order.order_id).unwrap();
            let concurrent = current
                .record_workflow_started(self.token.clone(), Timestamp::from_millis(T0))
                .unwrap()
                .unwrap();
            self.inner.save(&concurrent).await?;
        }
        self.inner.save(change).await
    }
    async fn list_by_status(
        &self,
        e: &EventId,
        s: OrderStatus,
        l: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.inner.list_by_status(e, s, l).await
    }
    async fn list_by_user(&self, u: &UserId, l: usize) -> Result<Vec<Order>, StoreError> {
        self.inner.list_by_user(u, l).await
    }
    async fn append_journey(&self, e: &JourneyEntry) -> Result<bool, StoreError> {
        self.inner.append_journey(e).await
    }
    async fn journey(&self, id: &OrderId) -> Result<Vec<JourneyEntry>, StoreError> {
        self.inner.journey(id).await
    }
}

impl crate::ports::ConfigRepository for RacingStore<'_> {
    async fn get(&self, e: &EventId) -> Result<Option<StoreConfig>, StoreError> {
        crate::ports::ConfigRepository::get(self.inner, e).await
    }
    async fn put(&self, c: &StoreConfig, v: Option<u64>) -> Result<(), StoreError> {
        self.inner.put(c, v).await
    }
    async fn list_events(&self) -> Result<Vec<EventId>, StoreError> {
        self.inner.list_events().await
    }
}

#[test]
fn a_drink_racing_the_workflow_start_resumes_the_workflow_exactly_once() {
    let w = World::new();
    let alice = customer("alice");
    let id = w.scan(&alice).unwrap();
    let racing = RacingStore {
        inner: &w.store,
        raced: false.into(),
        token: token("tt-race"),
    };
    let ports = OrderPorts {
        store: &racing,
        workflow: &w.resumer,
        events: &w.events,
        clock: &w.clock,
    };
    // The drink's write conflicts with the token's, re-reads, and is the second writer: it
    // resumes.
    block_on(orders::submit_drink(
        &ports,
        &alice,
        &id,
        None,
        &americano(),
    ))
    .unwrap();
    assert_eq!(
        w.resumptions(),
        vec![("tt-race".to_owned(), Resumption::Submitted)]
    );
    assert!(w.order(&id).drink_wait.unwrap().resumed);
}

#[test]
fn two_displays_asking_in_one_window_get_the_same_code() {
    let w = World::new();
    let first = w.code();
    let other_rng = SeqRandomness::new(99);
    let ports = QrPorts {
        store: &w.store,
        events: &w.events,
        clock: &w.clock,
        rng: &other_rng,
    };
    let second = block_on(qr::get_qr_code(&ports, &barista(), &ev())).unwrap();
    assert_eq!(second.bucket.code.as_str(), first);
    assert_eq!(second.bucket.available_tokens, 10);
    assert_eq!(second.store_state, StoreState::Open);
}

#[test]
fn never_more_orders_than_tokens() {
    let w = World::with(|c| c.drinks_per_barcode = 2);
    assert!(w.scan(&customer("a")).is_ok());
    assert!(w.scan(&customer("b")).is_ok());
    let err = w.scan(&customer("c")).unwrap_err();
    assert_eq!((err.status(), err.code()), (429, "no_tokens_remaining"));
    assert_eq!(err.retry_after_seconds(w.clock.now()), Some(240));
    let bucket = w
        .store
        .bucket(&ev(), WindowId::containing(w.clock.now()))
        .unwrap();
    assert_eq!(bucket.available_tokens, 0);
    assert_eq!(w.store.orders().len(), 2);
}

#[test]
fn a_code_stays_good_for_fifteen_seconds_into_the_next_window() {
    let w = World::new();
    let code = w.code();
    let next_window = WindowId::containing(w.clock.now())
        .start()
        .plus_millis(WINDOW_MS);
    w.clock.set(next_window.plus_millis(GRACE_MS - 1));
    assert!(
        block_on(qr::verify_qr_and_create_order(
            &w.qr(),
            &customer("a"),
            &ev(),
            &code
        ))
        .is_ok()
    );
    w.clock.set(next_window.plus_millis(GRACE_MS));
    let err = block_on(qr::verify_qr_and_create_order(
        &w.qr(),
        &customer("b"),
        &ev(),
        &code,
    ))
    .unwrap_err();
    assert_eq!((err.status(), err.code()), (400, "invalid_code"));
}

#[test]
fn malformed_and_wrong_codes_are_invalid() {
    let w = World::new();
    w.code();
    for bad in ["", "short", "ZZZZZZZZZZ", "../../etc/x"] {
        let err = block_on(qr::verify_qr_and_create_order(
            &w.qr(),
            &customer("a"),
            &ev(),
            bad,
        ))
        .unwrap_err();
        assert_eq!(err.code(), "invalid_code", "{bad}");
    }
}

#[test]
fn a_closed_or_paused_store_refuses_scans_without_using_a_token() {
    for (state, code) in [
        (StoreState::Closed, "store_closed"),
        (StoreState::Paused, "store_paused"),
    ] {
        let w = World::new();
        let qr_code = w.code();
        block_on(cfg::set_store_state(&w.cfg(), &barista(), &ev(), state)).unwrap();
        let err = block_on(qr::verify_qr_and_create_order(
            &w.qr(),
            &customer("a"),
            &ev(),
            &qr_code,
        ))
        .unwrap_err();
        assert_eq!((err.status(), err.code()), (409, code));
        let bucket = w
            .store
            .bucket(&ev(), WindowId::containing(w.clock.now()))
            .unwrap();
        assert_eq!(bucket.available_tokens, 10);
    }
}

#[test]
fn max_orders_per_user_counts_the_users_unfinished_orders_in_the_event() {
    let w = World::with(|c| c.max_orders_per_user = 1);
    let alice = customer("alice");
    let id = w.scan(&alice).unwrap();
    let err = w.scan(&alice).unwrap_err();
    assert_eq!((err.status(), err.code()), (429, "too_many_open_orders"));
    assert!(
        w.scan(&customer("bob")).is_ok(),
        "other users are not affected"
    );
    w.act(&alice, &id, OrderAction::Cancel).unwrap();
    assert!(w.scan(&alice).is_ok(), "a finished order no longer counts");
}

#[test]
fn an_orphan_pending_order_no_workflow_looks_after_does_not_block_its_customer() {
    let w = World::with(|c| c.max_orders_per_user = 1);
    let alice = customer("alice");
    // Stored, but its workflow never started (the process died before the event).
    let orphan = crate::order::Order::new_pending(
        crate::ids::OrderId::parse("orphan-1").unwrap(),
        ev(),
        crate::ids::UserId::parse("alice").unwrap(),
        None,
        w.clock.now(),
    );
    w.store.insert_order(orphan.clone());
    let err = w.scan(&alice).unwrap_err();
    assert_eq!(
        err.code(),
        "too_many_open_orders",
        "a young pending order counts"
    );
    w.clock.advance_millis(
        (i64::from(crate::order::Wait::DRINK_SECONDS) + qr::ORPHAN_AFTER_SECONDS + 1) * 1000,
    );
    assert!(qr::is_orphan(&orphan, w.clock.now()));
    // The orphan no longer counts.
    assert!(w.scan(&alice).is_ok());
}

#[test]
fn the_sweep_fails_orphans_once_and_leaves_live_orders_alone() {
    let w = World::new();
    let alice = customer("alice");
    let orphan_id = crate::ids::OrderId::parse("orphan-1").unwrap();
    w.store.insert_order(crate::order::Order::new_pending(
        orphan_id.clone(),
        ev(),
        crate::ids::UserId::parse("alice").unwrap(),
        None,
        w.clock.now(),
    ));
    // A second orphan whose workflow took capacity without the order hearing of it.
    let held_id = w.scan(&alice).unwrap();
    assert_eq!(w.workflow_started(&held_id), Handled::Applied);
    let sweep = || block_on(workflow::sweep_orphans(&w.ports())).unwrap();
    assert_eq!(sweep(), 0, "young pending orders are left alone");
    w.clock.advance_millis(
        (i64::from(crate::order::Wait::DRINK_SECONDS) + qr::ORPHAN_AFTER_SECONDS + 1) * 1000,
    );
    // Live orders, younger than the orphans: pending, and queued.
    let young = w.scan(&customer("bob")).unwrap();
    let queued = w.queued_order(&customer("carol"));
    assert_eq!(w.store.capacity_in_use(&ev()), 2);
    let resumed_before = w.resumptions();

    assert_eq!(sweep(), 2);
    for id in [&orphan_id, &held_id] {
        let o = w.order(id);
        assert_eq!(o.status(), OrderStatus::Failed, "{id}");
        assert!(o.finished_at.is_some());
    }
    assert_eq!(w.order(&young).status(), OrderStatus::Pending);
    assert_eq!(w.order(&queued).status(), OrderStatus::Queued);
    // The held capacity is released; the workflow's wait, long past its heartbeat, is not
    // resumed.
    assert_eq!(w.store.capacity_in_use(&ev()), 1);
    assert_eq!(w.resumptions(), resumed_before);
    assert_eq!(sweep(), 0, "a second sweep fails nothing twice");
}

#[test]
fn barista_actions_qr_codes_and_store_control_need_the_admin_group() {
    let w = World::new();
    let alice = customer("alice");
    let id = w.queued_order(&alice);
    let err = w.act(&alice, &id, OrderAction::Complete).unwrap_err();
    assert_eq!((err.status(), err.code()), (403, "admin_only"));
    let err = w.act(&alice, &id, OrderAction::Make).unwrap_err();
    assert_eq!(err.status(), 403);
    let err = block_on(qr::get_qr_code(&w.qr(), &alice, &ev())).unwrap_err();
    assert_eq!(err.status(), 403);
    let err = block_on(cfg::set_store_state(
        &w.cfg(),
        &alice,
        &ev(),
        StoreState::Closed,
    ))
    .unwrap_err();
    assert_eq!(err.status(), 403);
    let err = block_on(orders::list_orders(
        &w.store,
        &alice,
        &ev(),
        OrderStatus::Queued,
        None,
    ))
    .unwrap_err();
    assert_eq!(err.status(), 403);
    let err = block_on(qr::get_qr_code(&w.qr(), &Principal::Anonymous, &ev())).unwrap_err();
    assert_eq!((err.status(), err.code()), (401, "unauthenticated"));
}

#[test]
fn a_customer_sees_and_cancels_only_their_own_orders() {
    let w = World::new();
    let id = w.scan(&customer("alice")).unwrap();
    let mallory = customer("mallory");
    let err = block_on(orders::get_order(&w.store, &mallory, &id)).unwrap_err();
    assert_eq!((err.status(), err.code()), (404, "order_not_found"));
    assert_eq!(
        w.act(&mallory, &id, OrderAction::Cancel)
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(w.submit(&mallory, &id).unwrap_err().status(), 404);
    assert!(block_on(orders::get_order(&w.store, &barista(), &id)).is_ok());
    assert_eq!(w.order(&id).status(), OrderStatus::Pending);
}

#[test]
fn an_invalid_drink_gets_a_422_with_its_reason_and_changes_nothing() {
    let w = World::new();
    let alice = customer("alice");
    let id = w.scan(&alice).unwrap();
    let req = DrinkRequest {
        drink: "Cappuccino".to_owned(),
        modifiers: vec!["Oat".to_owned()],
    };
    let err = block_on(orders::submit_drink(&w.ports(), &alice, &id, None, &req)).unwrap_err();
    assert_eq!((err.status(), err.code()), (422, "drink_unavailable"));
    assert_eq!(err.to_string(), "Cappuccino is not available right now");
    assert_eq!(w.order(&id).status(), OrderStatus::Pending);
}

#[test]
fn customer_cannot_cancel_once_being_made() {
    let w = World::new();
    let alice = customer("alice");
    let id = w.queued_order(&alice);
    w.act(&barista(), &id, OrderAction::Make).unwrap();
    let err = w.act(&alice, &id, OrderAction::Cancel).unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (409, "customer_cannot_cancel_once_being_made")
    );
}

#[test]
fn order_cannot_be_completed_twice() {
    let w = World::new();
    let id = w.queued_order(&customer("alice"));
    w.act(&barista(), &id, OrderAction::Complete).unwrap();
    let err = w.act(&barista(), &id, OrderAction::Complete).unwrap_err();
    assert_eq!((err.status(), err.code()), (409, "order_already_completed"));
    let completed = w
        .events
        .detail_types()
        .into_iter()
        .filter(|d| *d == detail_type::ORDER_COMPLETED)
        .count();
    assert_eq!(completed, 1);
    assert_eq!(
        w.resumptions().len(),
        2,
        "drink wait once, barista wait once"
    );
    assert_eq!(w.store.capacity_in_use(&ev()), 0);
}

#[test]
fn cancelling_before_the_drink_ends_the_workflow_without_an_order_number() {
    let w = World::new();
    let alice = customer("alice");
    let id = w.scan(&alice).unwrap();
    w.workflow_started(&id);
    assert_eq!(
        w.act(&alice, &id, OrderAction::Cancel).unwrap(),
        OrderStatus::Cancelled
    );
    assert_eq!(
        w.resumptions(),
        vec![(format!("tt1-{id}"), Resumption::Cancelled)]
    );
    assert_eq!(w.store.capacity_in_use(&ev()), 0);
    assert_eq!(w.order(&id).order_number, None);
    let err = w.submit(&alice, &id).unwrap_err();
    assert_eq!(err.code(), "order_already_cancelled");
}

#[test]
fn a_timeout_delivered_twice_releases_capacity_once() {
    let w = World::new();
    let alice = customer("alice");
    let id = w.queued_order(&alice);
    // Another order holds capacity too, so a double release would show.
    let other = w.queued_order(&customer("bob"));
    assert_eq!(w.store.capacity_in_use(&ev()), 2);
    let e = OrderTimeOut {
        order_id: id.clone(),
        user_id: UserId::parse("alice").unwrap(),
        event_id: ev(),
        state: OrderStatus::TimedOut,
        cause: "Barista timedout".to_owned(),
        message: String::new(),
    };
    assert_eq!(
        block_on(workflow::handle_timeout(&w.ports(), &e)).unwrap(),
        Handled::Applied
    );
    assert_eq!(
        block_on(workflow::handle_timeout(&w.ports(), &e)).unwrap(),
        Handled::Unchanged
    );
    assert_eq!(w.store.capacity_in_use(&ev()), 1);
    assert_eq!(w.order(&id).status(), OrderStatus::TimedOut);
    assert_eq!(w.order(&other).status(), OrderStatus::Queued);
}

#[test]
fn a_workflow_failure_fails_the_order_and_releases_its_capacity() {
    let w = World::new();
    let id = w.scan(&customer("alice")).unwrap();
    w.workflow_started(&id);
    let e = Event::OrderFailed(OrderFailed {
        order_id: id.clone(),
        user_id: UserId::parse("alice").unwrap(),
        event_id: ev(),
        state: OrderStatus::Failed,
        error: "States.TaskFailed".to_owned(),
        cause: String::new(),
        capacity_taken: true,
        message: String::new(),
    });
    assert_eq!(
        block_on(workflow::handle_event(&w.ports(), &e)).unwrap(),
        Handled::Applied
    );
    assert_eq!(w.order(&id).status(), OrderStatus::Failed);
    assert_eq!(w.store.capacity_in_use(&ev()), 0);
}

#[test]
fn a_resume_that_failed_is_retried_by_the_next_delivery() {
    let w = World::new();
    let alice = customer("alice");
    let id = w.scan(&alice).unwrap();
    w.workflow_started(&id);
    w.resumer.fail_next.store(true, Ordering::SeqCst);
    let err = w.submit(&alice, &id).unwrap_err();
    assert_eq!((err.status(), err.code()), (503, "unavailable"));
    assert!(w.resumptions().is_empty());
    assert!(
        !w.order(&id).drink_wait.unwrap().resumed,
        "the claim was undone"
    );
    // The customer's retry (same drink) resumes the workflow now.
    assert_eq!(w.submit(&alice, &id).unwrap(), OrderStatus::Submitted);
    assert_eq!(
        w.resumptions(),
        vec![(format!("tt1-{id}"), Resumption::Submitted)]
    );
}

#[test]
fn an_order_reports_its_queue_position_and_estimated_wait() {
    let w = World::with(|c| c.seconds_per_drink = 60);
    let first = w.queued_order(&customer("a"));
    let second = w.queued_order(&customer("b"));
    let third = w.queued_order(&customer("c"));
    w.act(&barista(), &first, OrderAction::Complete).unwrap();
    let view = block_on(orders::get_order(&w.store, &customer("c"), &third)).unwrap();
    let q = view.queue.unwrap();
    assert_eq!((q.queue_position, q.estimated_wait_seconds), (2, 120));
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["queuePosition"], 2);
    assert_eq!(json["estimatedWaitSeconds"], 120);
    assert!(
        !json.to_string().contains("tt2-"),
        "no task token in a view"
    );
    let _ = second;
}

#[test]
fn lists_filter_by_state_for_admins_and_by_owner_for_customers() {
    let w = World::new();
    let alice = customer("alice");
    let a = w.queued_order(&alice);
    let _b = w.queued_order(&customer("bob"));
    w.act(&barista(), &a, OrderAction::Complete).unwrap();
    let queued = block_on(orders::list_orders(
        &w.store,
        &barista(),
        &ev(),
        OrderStatus::Queued,
        None,
    ))
    .unwrap();
    assert_eq!(queued.len(), 1);
    let completed = block_on(orders::list_orders(
        &w.store,
        &barista(),
        &ev(),
        OrderStatus::Completed,
        None,
    ))
    .unwrap();
    assert_eq!(completed[0].order_id, a);
    let mine = block_on(orders::my_orders(&w.store, &alice, Some(&ev()), None)).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].order_id, a);
}

#[test]
fn publishing_routes_to_admin_and_user_topics_without_task_tokens() {
    let realtime = RecordingRealtime::new();
    let e = Event::WorkflowStarted(WorkflowStarted {
        order_id: OrderId::parse("o1").unwrap(),
        user_id: UserId::parse("alice").unwrap(),
        event_id: ev(),
        state: OrderStatus::Pending,
        task_token: token("secret-token"),
        message: String::new(),
    });
    let topics = block_on(publish::publish_event(&realtime, &e)).unwrap();
    assert_eq!(topics.len(), 2);
    for (topic, message) in realtime.published() {
        assert!(topic.name().starts_with("serverlesspresso-"));
        assert_eq!(message.kind, detail_type::WORKFLOW_STARTED);
        assert!(
            !serde_json::to_string(&message)
                .unwrap()
                .contains("secret-token")
        );
    }
}

#[test]
fn events_of_the_same_second_keep_the_order_s_lifecycle_order() {
    // EventBridge's `time` has whole seconds: a fast journey's events share one.
    let w = World::new();
    let alice = customer("alice");
    let id = w.queued_order(&alice);
    let at = Timestamp::from_millis(T0);
    for e in w.events.events().iter().rev() {
        assert!(block_on(publish::record_journey(&w.store, e, at)).unwrap());
    }
    let journey = block_on(orders::order_journey(&w.store, &alice, &id)).unwrap();
    let types: Vec<&str> = journey.iter().map(|j| j.detail_type.as_str()).collect();
    assert_eq!(
        types,
        [
            detail_type::NEW_ORDER,
            detail_type::ORDER_SUBMITTED,
            detail_type::WAITING_COMPLETION
        ]
    );
}

#[test]
fn the_journey_keeps_each_event_once_in_time_order() {
    let w = World::new();
    let alice = customer("alice");
    let id = w.queued_order(&alice);
    for (i, e) in w.events.events().iter().enumerate() {
        let at = Timestamp::from_millis(T0 + i64::try_from(i).unwrap());
        assert!(block_on(publish::record_journey(&w.store, e, at)).unwrap());
        assert!(
            !block_on(publish::record_journey(&w.store, e, at)).unwrap(),
            "redelivery"
        );
    }
    let journey = block_on(orders::order_journey(&w.store, &alice, &id)).unwrap();
    let types: Vec<&str> = journey.iter().map(|j| j.detail_type.as_str()).collect();
    assert_eq!(
        types,
        [
            detail_type::NEW_ORDER,
            detail_type::ORDER_SUBMITTED,
            detail_type::WAITING_COMPLETION
        ]
    );
    assert!(journey.iter().all(|j| !j.message.is_empty()));
    let err = block_on(orders::order_journey(&w.store, &customer("bob"), &id)).unwrap_err();
    assert_eq!(err.status(), 404);
}

#[test]
fn config_updates_are_validated_and_announced() {
    let w = World::new();
    let update = ConfigUpdate {
        max_orders_in_queue: Some(5),
        ..Default::default()
    };
    let view = block_on(cfg::update_config(&w.cfg(), &barista(), &ev(), &update)).unwrap();
    assert_eq!(view.config.max_orders_in_queue, 5);
    assert_eq!(w.events.detail_types(), [detail_type::CONFIG_CHANGED]);

    let bad = ConfigUpdate {
        drinks_per_barcode: Some(0),
        ..Default::default()
    };
    let err = block_on(cfg::update_config(&w.cfg(), &barista(), &ev(), &bad)).unwrap_err();
    assert_eq!((err.status(), err.code()), (422, "invalid_config"));
    assert_eq!(w.events.events().len(), 1);
}

#[test]
fn setting_the_current_store_state_again_emits_nothing() {
    let w = World::new();
    let v = block_on(cfg::set_store_state(
        &w.cfg(),
        &barista(),
        &ev(),
        StoreState::Open,
    ))
    .unwrap();
    assert_eq!(v.store_state, StoreState::Open);
    assert!(w.events.events().is_empty());
    block_on(cfg::set_store_state(
        &w.cfg(),
        &barista(),
        &ev(),
        StoreState::Paused,
    ))
    .unwrap();
    let public = block_on(cfg::get_config(&w.store, &ev())).unwrap();
    assert_eq!(public.store_state, StoreState::Paused);
    assert_eq!(w.events.detail_types(), [detail_type::CONFIG_CHANGED]);
}

#[test]
fn seeding_never_overwrites_and_events_are_created_once() {
    let w = World::with(|c| c.open = false);
    assert!(!block_on(cfg::seed_default_event(&w.store, &w.clock)).unwrap());
    assert!(
        !block_on(cfg::get_config(&w.store, &ev()))
            .unwrap()
            .config
            .open
    );

    let empty = InMemoryStore::new();
    assert!(block_on(cfg::seed_default_event(&empty, &w.clock)).unwrap());

    let venue = EventId::parse("summit-2026").unwrap();
    let created = block_on(cfg::create_event(&w.cfg(), &barista(), &venue, None)).unwrap();
    assert_eq!(created.config.version, 1);
    let err = block_on(cfg::create_event(&w.cfg(), &barista(), &venue, None)).unwrap_err();
    assert_eq!((err.status(), err.code()), (409, "event_exists"));
    let err = block_on(cfg::get_config(&w.store, &EventId::parse("nope").unwrap())).unwrap_err();
    assert_eq!(err.status(), 404);
}

#[test]
fn a_new_event_needs_no_hand_made_items_to_take_orders() {
    let w = World::new();
    let venue = EventId::parse("summit-2026").unwrap();
    block_on(cfg::create_event(&w.cfg(), &barista(), &venue, None)).unwrap();
    let code = block_on(qr::get_qr_code(&w.qr(), &barista(), &venue))
        .unwrap()
        .bucket
        .code;
    let v = block_on(qr::verify_qr_and_create_order(
        &w.qr(),
        &customer("a"),
        &venue,
        code.as_str(),
    ))
    .unwrap();
    assert_eq!(v.event_id, venue);
}

#[test]
fn a_store_outage_is_a_503_and_a_failed_publish_fails_the_new_order() {
    let w = World::new();
    let code = w.code();
    w.events.fail.store(true, Ordering::SeqCst);
    let err = block_on(qr::verify_qr_and_create_order(
        &w.qr(),
        &customer("a"),
        &ev(),
        &code,
    ))
    .unwrap_err();
    assert_eq!(err.status(), 503);
    assert!(
        w.store
            .orders()
            .iter()
            .all(|o| o.status() == OrderStatus::Failed)
    );

    w.store.unavailable.store(true, Ordering::SeqCst);
    let err = block_on(orders::get_order(
        &w.store,
        &customer("a"),
        &OrderId::parse("x").unwrap(),
    ))
    .unwrap_err();
    assert_eq!((err.status(), err.code()), (503, "unavailable"));
}

#[test]
fn an_unknown_action_is_a_bad_request() {
    let err = OrderAction::parse("brew").unwrap_err();
    assert_eq!((err.status(), err.code()), (400, "bad_request"));
}

#[test]
fn an_order_put_on_the_bus_by_a_robot_is_created_once_and_flows_normally() {
    let w = World::new();
    let detail = serde_json::json!({"orderId": "robot-1", "userId": "robot", "eventId": "default"});
    let e = Event::from_parts(detail_type::NEW_ORDER, detail).unwrap();
    assert_eq!(
        block_on(workflow::handle_event(&w.ports(), &e)).unwrap(),
        Handled::Applied
    );
    assert_eq!(
        block_on(workflow::handle_event(&w.ports(), &e)).unwrap(),
        Handled::Unchanged
    );
    let id = OrderId::parse("robot-1").unwrap();
    assert!(w.order(&id).robot);
    w.workflow_started(&id);
    assert_eq!(
        w.submit(&customer("robot"), &id).unwrap(),
        OrderStatus::Submitted
    );
}

#[test]
fn an_order_created_by_a_scan_is_left_alone_by_the_new_order_handler() {
    let w = World::new();
    let id = w.scan(&customer("alice")).unwrap();
    let e = w.events.events().remove(0);
    assert_eq!(
        block_on(workflow::handle_event(&w.ports(), &e)).unwrap(),
        Handled::Unchanged
    );
    assert!(!w.order(&id).robot);
}

#[test]
fn concurrent_scans_never_take_more_orders_than_tokens() {
    for _ in 0..20 {
        let w = World::with(|c| {
            c.drinks_per_barcode = 5;
            c.max_orders_per_user = 1;
        });
        let code = w.code();
        let successes = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for i in 0..12 {
                let (w, code, successes) = (&w, &code, &successes);
                s.spawn(move || {
                    let who = customer(&format!("c{i}"));
                    if block_on(qr::verify_qr_and_create_order(&w.qr(), &who, &ev(), code)).is_ok()
                    {
                        successes.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(successes.load(Ordering::SeqCst), 5);
        assert_eq!(w.store.orders().len(), 5);
    }
}

#[test]
fn a_drink_and_the_workflow_start_arriving_together_resume_exactly_once() {
    for _ in 0..50 {
        let w = World::new();
        let alice = customer("alice");
        let id = w.scan(&alice).unwrap();
        assert!(w.store.take_capacity(&ev(), id.as_str(), 20));
        let started = WorkflowStarted {
            order_id: id.clone(),
            user_id: UserId::parse("alice").unwrap(),
            event_id: ev(),
            state: OrderStatus::Pending,
            task_token: token("tt-together"),
            message: String::new(),
        };
        std::thread::scope(|s| {
            s.spawn(|| block_on(workflow::handle_workflow_started(&w.ports(), &started)).unwrap());
            s.spawn(|| w.submit(&alice, &id).unwrap());
        });
        assert_eq!(
            w.resumptions(),
            vec![("tt-together".to_owned(), Resumption::Submitted)]
        );
    }
}

#[test]
fn concurrent_barista_completions_complete_and_release_once() {
    let w = World::new();
    let id = w.queued_order(&customer("alice"));
    let oks = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                if w.act(&barista(), &id, OrderAction::Complete).is_ok() {
                    oks.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    assert_eq!(oks.load(Ordering::SeqCst), 1);
    assert_eq!(w.store.capacity_in_use(&ev()), 0);
    assert_eq!(w.resumptions().len(), 2);
}
