//! The validator's handlers on the committed fixtures (`events/validator/`), over
//! presso-core's in-memory adapters.

use presso_aws::{SharedClock, SharedRandomness};
use presso_core::config::StoreConfig;
use presso_core::ids::{EventId, QrToken};
use presso_core::qr::{QrBucket, WindowId};
use presso_core::testing::{InMemoryStore, ManualClock, RecordingEvents, SeqRandomness};
use presso_core::time::Timestamp;
use presso_fn_common::testing::call;
use presso_fn_validator::{Deps, router};
use std::sync::Arc;

/// The fixtures' `requestContext.timeEpoch`.
const NOW: i64 = 1_767_225_600_000;

fn deps() -> Arc<Deps<InMemoryStore, RecordingEvents>> {
    let now = Timestamp::from_millis(NOW);
    let store = InMemoryStore::with_config(StoreConfig::seed_default(now));
    Arc::new(
        Deps::new(store, RecordingEvents::new())
            .with_clock(SharedClock(Arc::new(ManualClock::at(NOW))))
            .with_rng(SharedRandomness(Arc::new(SeqRandomness::new(7)))),
    )
}

async fn with_bucket(deps: &Deps<InMemoryStore, RecordingEvents>, tokens: u32) {
    use presso_core::ports::QrRepository;
    let now = Timestamp::from_millis(NOW);
    let bucket = QrBucket::new(
        EventId::default_event(),
        WindowId::containing(now),
        QrToken::parse("ABCDEFGHJK").unwrap(),
        tokens,
        now,
    );
    deps.store.create_bucket(&bucket).await.unwrap();
}

#[tokio::test]
async fn an_admin_gets_the_current_windows_code_and_the_same_code_twice() {
    let deps = deps();
    let first = call(router(deps.clone()), "validator", "get-qr-code").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["storeState"], "open");
    assert_eq!(first.body["bucket"]["availableTokens"], 10);
    let second = call(router(deps), "validator", "get-qr-code").await;
    assert_eq!(second.body["bucket"]["code"], first.body["bucket"]["code"]);
}

#[tokio::test]
async fn a_customer_may_not_fetch_the_displays_code() {
    let answer = call(router(deps()), "validator", "get-qr-code-as-customer").await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.headers["content-type"], "application/problem+json");
    assert_eq!(answer.body["code"], "admin_only");
}

#[tokio::test]
async fn a_scan_creates_the_callers_pending_order_and_emits_new_order() {
    let deps = deps();
    with_bucket(&deps, 10).await;
    let answer = call(router(deps.clone()), "validator", "post-qr-code").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["state"], "pending");
    assert_eq!(answer.body["eventId"], "default");
    let orders = deps.store.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(
        orders[0].user_id.as_str(),
        "c0ffee00-0000-4000-8000-000000000001",
        "the user is the token's sub"
    );
    assert_eq!(deps.events.detail_types(), ["Validator.NewOrder"]);
}

#[tokio::test]
async fn a_scan_without_a_token_or_with_a_wrong_code_is_refused() {
    let deps = deps();
    with_bucket(&deps, 10).await;
    let anonymous = call(router(deps.clone()), "validator", "post-qr-code-anonymous").await;
    assert_eq!(anonymous.status, 401);
    let wrong = call(
        router(deps.clone()),
        "validator",
        "post-qr-code-wrong-token",
    )
    .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.body["code"], "invalid_code");
    assert!(deps.store.orders().is_empty());
}

#[tokio::test]
async fn an_exhausted_code_answers_429_with_retry_after() {
    let deps = deps();
    with_bucket(&deps, 0).await;
    let answer = call(router(deps), "validator", "post-qr-code").await;
    assert_eq!(answer.status, 429);
    assert!(answer.headers.contains_key("retry-after"));
}
