//! The handler on the committed fixtures (`events/order-timeouts/`), over presso-core's in-memory adapters.
// The fixtures' helpers are the same in the three order-event functions; not every test here
// uses each of them.
#![allow(dead_code, unused_imports)]

use presso_aws::SharedClock;
use presso_core::config::StoreConfig;
use presso_core::ids::{EventId, OrderId, OrderNumber, TaskToken, UserId};
use presso_core::order::{Order, OrderStatus, Resumption};
use presso_core::ports::OrderRepository;
use presso_core::testing::{InMemoryStore, ManualClock, RecordingEvents, RecordingResumer};
use presso_core::time::Timestamp;
use presso_fn_common::testing::lambda_event;
use presso_fn_order_timeouts::{Deps, handle};
use std::sync::Arc;

const NOW: i64 = 1_767_225_600_000;
const CUSTOMER: &str = "c0ffee00-0000-4000-8000-000000000001";
const TOKEN: &str = "AQB8AAAAKgAAAAMAAAAAAAAAAeMCXn5lKWxKCrp3R2Dn0fixture-token";

type TestDeps = Deps<InMemoryStore, RecordingResumer, RecordingEvents>;

fn now() -> Timestamp {
    Timestamp::from_millis(NOW)
}

fn deps() -> TestDeps {
    let store = InMemoryStore::with_config(StoreConfig::seed_default(now()));
    Deps::new(store, RecordingResumer::new(), RecordingEvents::new())
        .with_clock(SharedClock(Arc::new(ManualClock::at(NOW))))
}

fn pending() -> Order {
    Order::new_pending(
        OrderId::parse("order-0001").unwrap(),
        EventId::default_event(),
        UserId::parse(CUSTOMER).unwrap(),
        None,
        now(),
    )
}

fn stored(deps: &TestDeps) -> Order {
    deps.store
        .order(&OrderId::parse("order-0001").unwrap())
        .expect("the order")
}

fn submitted(deps: &TestDeps) -> Order {
    let order = pending();
    deps.store.insert_order(order.clone());
    let drink = StoreConfig::seed_default(now())
        .menu
        .check_order(&presso_core::menu::DrinkRequest {
            drink: "Americano".to_owned(),
            modifiers: vec![],
        })
        .unwrap();
    let started = order
        .record_workflow_started(TaskToken::parse("first").unwrap(), now())
        .unwrap()
        .unwrap();
    let change = started.order.submit_drink(drink, now()).unwrap().unwrap();
    deps.store.insert_order(change.order.clone());
    change.order
}

#[tokio::test]
async fn a_customer_timeout_times_the_order_out_and_releases_its_capacity_once() {
    let deps = deps();
    let order = pending();
    deps.store.create(&order).await.unwrap();
    assert!(
        deps.store
            .take_capacity(&order.event_id, order.order_id.as_str(), 5)
    );
    let started = order
        .record_workflow_started(TaskToken::parse("first").unwrap(), now())
        .unwrap()
        .unwrap();
    deps.store.save(&started).await.unwrap();
    let out = handle(&deps, lambda_event("order-timeouts", "customer-timed-out"))
        .await
        .unwrap();
    assert_eq!(out["handled"], "applied");
    assert_eq!(stored(&deps).status(), OrderStatus::TimedOut);
    assert_eq!(deps.store.capacity_in_use(&order.event_id), 0);
    assert!(
        deps.store
            .take_capacity(&order.event_id, order.order_id.as_str(), 5)
    );
    handle(&deps, lambda_event("order-timeouts", "customer-timed-out"))
        .await
        .unwrap();
    assert_eq!(
        deps.store.capacity_in_use(&order.event_id),
        1,
        "released once"
    );
}

#[tokio::test]
async fn a_shop_unavailable_rejects_and_a_failure_fails_the_order() {
    let deps = deps();
    deps.store.create(&pending()).await.unwrap();
    handle(&deps, lambda_event("order-timeouts", "shop-unavailable"))
        .await
        .unwrap();
    assert_eq!(stored(&deps).status(), OrderStatus::Rejected);

    let deps = self::deps();
    deps.store.create(&pending()).await.unwrap();
    handle(&deps, lambda_event("order-timeouts", "order-failed"))
        .await
        .unwrap();
    assert_eq!(stored(&deps).status(), OrderStatus::Failed);
}

#[tokio::test]
async fn a_robots_new_order_creates_its_order_once() {
    let deps = deps();
    let first = handle(&deps, lambda_event("order-timeouts", "robot-new-order"))
        .await
        .unwrap();
    assert_eq!(first["handled"], "applied");
    let again = handle(&deps, lambda_event("order-timeouts", "robot-new-order"))
        .await
        .unwrap();
    assert_eq!(again["handled"], "unchanged");
    let robot = deps
        .store
        .order(&OrderId::parse("robot-0001").unwrap())
        .unwrap();
    assert!(robot.robot);
}

#[tokio::test]
async fn the_scheduled_sweep_fails_orders_no_workflow_looks_after() {
    // The deadline plus the grace (5 + 15 minutes) after the order was stored.
    let later = NOW + 21 * 60 * 1000;
    let store = InMemoryStore::with_config(StoreConfig::seed_default(now()));
    let deps: TestDeps = Deps::new(store, RecordingResumer::new(), RecordingEvents::new())
        .with_clock(SharedClock(Arc::new(ManualClock::at(later))));
    deps.store.insert_order(pending());
    let out = handle(&deps, lambda_event("order-timeouts", "scheduled-sweep"))
        .await
        .unwrap();
    assert_eq!(out["swept"], 1);
    assert_eq!(stored(&deps).status(), OrderStatus::Failed);
    let again = handle(&deps, lambda_event("order-timeouts", "scheduled-sweep"))
        .await
        .unwrap();
    assert_eq!(again["swept"], 0);

    // A young pending order is left alone.
    let deps = self::deps();
    deps.store.insert_order(pending());
    let out = handle(&deps, lambda_event("order-timeouts", "scheduled-sweep"))
        .await
        .unwrap();
    assert_eq!(out["swept"], 0);
    assert_eq!(stored(&deps).status(), OrderStatus::Pending);
}
