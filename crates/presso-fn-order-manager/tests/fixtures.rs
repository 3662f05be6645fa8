//! The order manager's handlers on the committed fixtures (`events/order-manager/`), over
//! presso-core's in-memory adapters.

use presso_aws::SharedClock;
use presso_core::config::StoreConfig;
use presso_core::ids::{EventId, OrderId, OrderNumber, TaskToken, UserId};
use presso_core::order::{Order, Resumption};
use presso_core::ports::OrderRepository;
use presso_core::testing::{InMemoryStore, ManualClock, RecordingEvents, RecordingResumer};
use presso_core::time::Timestamp;
use presso_fn_common::testing::call;
use presso_fn_order_manager::{Deps, router};
use std::sync::Arc;

const NOW: i64 = 1_767_225_600_000;
const CUSTOMER: &str = "c0ffee00-0000-4000-8000-000000000001";

type TestDeps = Deps<InMemoryStore, RecordingResumer, RecordingEvents>;

fn deps() -> Arc<TestDeps> {
    let store = InMemoryStore::with_config(StoreConfig::seed_default(Timestamp::from_millis(NOW)));
    Arc::new(
        Deps::new(store, RecordingResumer::new(), RecordingEvents::new())
            .with_clock(SharedClock(Arc::new(ManualClock::at(NOW)))),
    )
}

fn now() -> Timestamp {
    Timestamp::from_millis(NOW)
}

/// The customer's order, pending, with the workflow's first wait recorded.
async fn started_order(deps: &TestDeps) -> Order {
    let order = Order::new_pending(
        OrderId::parse("order-0001").unwrap(),
        EventId::default_event(),
        UserId::parse(CUSTOMER).unwrap(),
        None,
        now(),
    );
    deps.store.create(&order).await.unwrap();
    let change = order
        .record_workflow_started(TaskToken::parse("drink-token").unwrap(), now())
        .unwrap()
        .unwrap();
    deps.store.save(&change).await.unwrap();
    change.order
}

/// The same order with its drink given and its number allocated: in the barista's queue.
async fn queued_order(deps: &TestDeps) -> Order {
    let order = started_order(deps).await;
    let drink = StoreConfig::seed_default(now())
        .menu
        .check_order(&presso_core::menu::DrinkRequest {
            drink: "Americano".to_owned(),
            modifiers: vec![],
        })
        .unwrap();
    let change = order.submit_drink(drink, now()).unwrap().unwrap();
    deps.store.save(&change).await.unwrap();
    let change = change
        .order
        .record_waiting_completion(
            OrderNumber::new(1).unwrap(),
            TaskToken::parse("barista-token").unwrap(),
            now(),
        )
        .unwrap()
        .unwrap();
    deps.store.save(&change).await.unwrap();
    change.order
}

#[tokio::test]
async fn the_customer_gives_a_valid_drink_and_the_workflow_resumes_once() {
    let deps = deps();
    started_order(&deps).await;
    let answer = call(router(deps.clone()), "order-manager", "submit-drink").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["state"], "submitted");
    assert_eq!(answer.body["drinkOrder"]["drink"], "Flat White");
    assert_eq!(
        deps.workflow.resumed(),
        [(
            TaskToken::parse("drink-token").unwrap(),
            Resumption::Submitted
        )]
    );
    assert_eq!(deps.events.detail_types(), ["OrderManager.OrderSubmitted"]);
    let again = call(router(deps.clone()), "order-manager", "submit-drink").await;
    assert_eq!(deps.workflow.resumed().len(), 1, "{}", again.body);
}

#[tokio::test]
async fn an_unknown_drink_is_a_422_with_the_reason() {
    let deps = deps();
    started_order(&deps).await;
    let answer = call(
        router(deps.clone()),
        "order-manager",
        "submit-unknown-drink",
    )
    .await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.body["code"], "unknown_drink");
    assert!(deps.workflow.resumed().is_empty());
}

#[tokio::test]
async fn baristas_make_and_complete_and_customers_may_not() {
    let deps = deps();
    queued_order(&deps).await;
    let refused = call(
        router(deps.clone()),
        "order-manager",
        "make-order-as-customer",
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let made = call(router(deps.clone()), "order-manager", "make-order").await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert_eq!(made.body["state"], "inProgress");
    let done = call(router(deps.clone()), "order-manager", "complete-order").await;
    assert_eq!(done.body["state"], "completed");
    assert_eq!(
        deps.workflow.resumed().last().unwrap(),
        &(
            TaskToken::parse("barista-token").unwrap(),
            Resumption::Completed
        )
    );
    let twice = call(router(deps.clone()), "order-manager", "complete-order").await;
    assert_eq!(twice.status, 409, "{}", twice.body);
}

#[tokio::test]
async fn lists_are_for_baristas_and_my_orders_for_the_caller() {
    let deps = deps();
    queued_order(&deps).await;
    let list = call(router(deps.clone()), "order-manager", "list-queued-orders").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert!(
        !list.body.to_string().contains("token"),
        "task tokens never leave the backend"
    );
    let refused = call(
        router(deps.clone()),
        "order-manager",
        "list-orders-as-customer",
    )
    .await;
    assert_eq!(refused.status, 403);
    let mine = call(router(deps.clone()), "order-manager", "my-orders").await;
    assert_eq!(mine.body[0]["orderId"], "order-0001");
    let one = call(router(deps.clone()), "order-manager", "get-order").await;
    assert_eq!(one.body["queuePosition"], 1, "{}", one.body);
    let journey = call(router(deps), "order-manager", "order-journey").await;
    assert_eq!(journey.status, 200);
    assert_eq!(journey.body, serde_json::json!([]));
}

#[tokio::test]
async fn a_customer_cancels_their_pending_order_and_the_workflow_hears_it() {
    let deps = deps();
    started_order(&deps).await;
    let answer = call(router(deps.clone()), "order-manager", "customer-cancels").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["state"], "cancelled");
    assert_eq!(
        deps.workflow.resumed(),
        [(
            TaskToken::parse("drink-token").unwrap(),
            Resumption::Cancelled
        )]
    );
    assert_eq!(deps.events.detail_types(), ["OrderManager.OrderCancelled"]);
}
