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
