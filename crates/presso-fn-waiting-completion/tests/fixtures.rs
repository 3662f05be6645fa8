//! The handler on the committed fixtures (`events/waiting-completion/`), over presso-core's in-memory adapters.
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
use presso_fn_waiting_completion::{Deps, handle};
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
async fn the_order_is_queued_with_its_number_and_the_barista_hears_of_it_once() {
    let deps = deps();
    submitted(&deps);
    let out = handle(
        &deps,
        lambda_event("waiting-completion", "waiting-completion"),
    )
    .await
    .unwrap();
    assert_eq!(out["handled"], "applied");
    let order = stored(&deps);
    assert_eq!(order.status(), OrderStatus::Queued);
    assert_eq!(order.order_number, Some(OrderNumber::new(7).unwrap()));
    assert_eq!(
        deps.events.detail_types(),
        ["OrderManager.WaitingCompletion"]
    );
    handle(
        &deps,
        lambda_event("waiting-completion", "waiting-completion"),
    )
    .await
    .unwrap();
    assert_eq!(
        deps.events.detail_types().len(),
        1,
        "a redelivery emits nothing"
    );
    assert!(
        deps.workflow
            .resumed()
            .iter()
            .all(|(t, _)| t.as_str() != TOKEN)
    );
}
