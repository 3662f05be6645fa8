//! The config function's handlers on the committed fixtures (`events/config/`), over
//! presso-core's in-memory adapters.

use presso_aws::SharedClock;
use presso_core::config::StoreConfig;
use presso_core::testing::{InMemoryStore, ManualClock, RecordingEvents};
use presso_core::time::Timestamp;
use presso_fn_common::env::env_of;
use presso_fn_common::testing::call;
use presso_fn_config::{Deps, router, runtime_settings};
use std::sync::Arc;

const NOW: i64 = 1_767_225_600_000;

fn deps() -> Arc<Deps<InMemoryStore, RecordingEvents>> {
    let store = InMemoryStore::with_config(StoreConfig::seed_default(Timestamp::from_millis(NOW)));
    let env = env_of([
        ("AWS_REGION", "eu-west-1"),
        ("USER_POOL_ID", "eu-west-1_Pool"),
        ("USER_POOL_CLIENT_ID", "client"),
        ("IOT_DATA_ENDPOINT", "abc-ats.iot.eu-west-1.amazonaws.com"),
        ("ORDER_APP_URL", "https://d111.cloudfront.net/order/"),
    ]);
    Arc::new(
        Deps::new(store, RecordingEvents::new(), runtime_settings(&env))
            .with_clock(SharedClock(Arc::new(ManualClock::at(NOW)))),
    )
}

#[tokio::test]
async fn anyone_reads_an_events_config() {
    let answer = call(router(deps()), "config", "get-config").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["eventId"], "default");
}

#[tokio::test]
async fn an_admin_updates_limits_and_pauses_the_store_and_each_change_is_an_event() {
    let deps = deps();
    let updated = call(router(deps.clone()), "config", "update-config").await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["maxOrdersInQueue"], 5);
    let paused = call(router(deps.clone()), "config", "pause-store").await;
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert_eq!(
        deps.events.detail_types(),
        ["ConfigService.ConfigChanged", "ConfigService.ConfigChanged"]
    );
    let refused = call(router(deps.clone()), "config", "update-config-as-customer").await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn an_admin_creates_an_event_once() {
    let deps = deps();
    let created = call(router(deps.clone()), "config", "create-event").await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["drinksPerBarcode"], 20);
    let again = call(router(deps), "config", "create-event").await;
    assert_eq!(again.status, 409);
}

#[tokio::test]
async fn config_json_comes_from_the_environment() {
    let answer = call(router(deps()), "config", "runtime-settings").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["region"], "eu-west-1");
    assert_eq!(answer.body["apiBase"], "/api");
    assert_eq!(answer.body["mqttAuth"], "jwt");
    assert_eq!(
        answer.body["mqttUrl"],
        "wss://abc-ats.iot.eu-west-1.amazonaws.com/mqtt?x-amz-customauthorizer-name=serverlesspresso-jwt"
    );
    assert_eq!(
        answer.body["cognitoEndpoint"],
        "https://cognito-idp.eu-west-1.amazonaws.com/"
    );
    assert_eq!(answer.body["defaultEventId"], "default");
}

fn deps_on(store: InMemoryStore) -> Arc<Deps<InMemoryStore, RecordingEvents>> {
    let env = env_of([("AWS_REGION", "eu-west-1")]);
    Arc::new(
        Deps::new(store, RecordingEvents::new(), runtime_settings(&env))
            .with_clock(SharedClock(Arc::new(ManualClock::at(NOW)))),
    )
}

#[tokio::test]
async fn a_fresh_table_answers_with_the_seeded_default_event_and_its_menu() {
    let deps = deps_on(InMemoryStore::new());
    let answer = call(router(deps.clone()), "config", "get-config").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["eventId"], "default");
    let drinks: Vec<&str> = answer.body["menu"]["drinks"]
        .as_array()
        .expect("a menu")
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(drinks.contains(&"Americano"), "{drinks:?}");
    assert!(drinks.contains(&"Flat White"), "{drinks:?}");
}

#[tokio::test]
async fn the_seed_never_overwrites_an_existing_default_event() {
    // A config already changed by a barista (version 7, five drinks per barcode) stays as it
    // is on a new instance's first request.
    let mut config = StoreConfig::seed_default(Timestamp::from_millis(NOW));
    config.drinks_per_barcode = 5;
    config.version = 7;
    let deps = deps_on(InMemoryStore::with_config(config));
    let answer = call(router(deps), "config", "get-config").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["drinksPerBarcode"], 5);
}

#[tokio::test]
async fn a_failed_seed_is_tried_again_on_the_next_request() {
    use std::sync::atomic::Ordering;
    let deps = deps_on(InMemoryStore::new());
    deps.store.unavailable.store(true, Ordering::SeqCst);
    let first = call(router(deps.clone()), "config", "get-config").await;
    assert_eq!(first.status, 503, "{}", first.body);
    deps.store.unavailable.store(false, Ordering::SeqCst);
    let second = call(router(deps), "config", "get-config").await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.body["eventId"], "default");
}
