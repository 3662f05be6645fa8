//! The journey function on the committed fixtures (`events/journey/`), over the in-memory store.

use presso_core::ids::OrderId;
use presso_core::ports::OrderRepository;
use presso_core::testing::InMemoryStore;
use presso_fn_common::testing::lambda_event;
use presso_fn_journey::{Deps, handle};

#[tokio::test]
async fn an_order_event_is_recorded_once_with_the_events_time() {
    let deps = Deps::new(InMemoryStore::new());
    let first = handle(&deps, lambda_event("journey", "make-order"))
        .await
        .unwrap();
    assert_eq!(first["added"], true);
    let again = handle(&deps, lambda_event("journey", "make-order"))
        .await
        .unwrap();
    assert_eq!(again["added"], false);
    let journey = deps
        .store
        .journey(&OrderId::parse("order-0001").unwrap())
        .await
        .unwrap();
    assert_eq!(journey.len(), 1);
    assert_eq!(journey[0].detail_type, "OrderManager.MakeOrder");
    assert_eq!(journey[0].state, "inProgress");
    assert_eq!(journey[0].at.as_millis(), 1_767_225_600_000);
}
