//! The publisher on the committed fixtures (`events/publisher/`), with a recording broker.

use presso_core::testing::RecordingRealtime;
use presso_fn_common::testing::lambda_event;
use presso_fn_publisher::{Deps, handle};

#[tokio::test]
async fn a_completed_order_goes_to_the_admin_and_the_customers_topics() {
    let deps = Deps {
        realtime: RecordingRealtime::new(),
    };
    let out = handle(&deps, lambda_event("publisher", "order-completed"))
        .await
        .unwrap();
    let topics: Vec<String> = deps
        .realtime
        .published()
        .iter()
        .map(|(t, _)| t.name())
        .collect();
    assert!(
        topics.contains(&"serverlesspresso-admin-default".to_owned()),
        "{topics:?}"
    );
    assert!(
        topics.contains(&"serverlesspresso-user-c0ffee00-0000-4000-8000-000000000001".to_owned()),
        "{topics:?}"
    );
    assert_eq!(out["topics"].as_array().unwrap().len(), topics.len());
    let (_, message) = &deps.realtime.published()[0];
    assert_eq!(message.kind, "OrderManager.OrderCompleted");
    assert_eq!(message.detail["orderNumber"], 7);
}

#[tokio::test]
async fn task_tokens_never_reach_a_topic() {
    let deps = Deps {
        realtime: RecordingRealtime::new(),
    };
    handle(&deps, lambda_event("publisher", "workflow-started"))
        .await
        .unwrap();
    for (topic, message) in deps.realtime.published() {
        let payload = String::from_utf8(message.to_bytes().unwrap()).unwrap();
        assert!(!payload.contains("fixture-token"), "{topic}: {payload}");
        assert!(!payload.contains("TaskToken"), "{topic}: {payload}");
    }
}
