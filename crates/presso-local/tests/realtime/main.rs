//! The realtime broker driven by real MQTT clients (rumqttc over WebSocket and TCP): tokens at
//! CONNECT, the ACL at SUBSCRIBE, refused client publications, and the IoT data plane's
//! `Publish` through the Rust SDK and the `aws` CLI.

mod support;

use rumqttc::ConnectReturnCode;
use rumqttc::SubscribeReasonCode::{Failure, Success};
use support::*;

const CONFIG: &str = "serverlesspresso-config-default";
const ADMIN: &str = "serverlesspresso-admin-default";

fn iot_client(endpoint: &str) -> aws_sdk_iotdataplane::Client {
    use aws_sdk_iotdataplane::config::{BehaviorVersion, Credentials, Region};
    let conf = aws_sdk_iotdataplane::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_iotdataplane::Client::from_conf(conf)
}

async fn sdk_publish(endpoint: &str, topic: &str, payload: &str) {
    iot_client(endpoint)
        .publish()
        .topic(topic)
        .qos(1)
        .payload(aws_sdk_iotdataplane::primitives::Blob::new(
            payload.as_bytes(),
        ))
        .send()
        .await
        .expect("IoT data Publish");
}

const Q1: rumqttc::SubscribeReasonCode = Success(rumqttc::QoS::AtLeastOnce);

#[tokio::test]
async fn anonymous_clients_subscribe_to_public_topics_only() {
    let presso = spawn_presso().await;
    let (client, mut events) =
        connect(ws_options(presso.port, "serverlesspresso-anon", None)).await;
    let codes = subscribe(
        &client,
        &mut events,
        &[CONFIG, "serverlesspresso-user-someone", ADMIN],
    )
    .await;
    assert_eq!(codes, [Q1, Failure, Failure]);
}

#[tokio::test]
async fn a_customer_gets_their_own_user_topic_and_an_admin_the_admin_topic() {
    let presso = spawn_presso().await;
    let pool = pool(&presso.endpoint).await;
    let ada = user(&presso.endpoint, &pool, "ada@example.com", false).await;
    let barista = user(&presso.endpoint, &pool, "barista@example.com", true).await;
    let own = format!("serverlesspresso-user-{}", ada.sub);
    let other = format!("serverlesspresso-user-{}", barista.sub);

    let (client, mut events) = connect(ws_options(
        presso.port,
        "serverlesspresso-ada",
        Some(&ada.token),
    ))
    .await;
    let codes = subscribe(&client, &mut events, &[&own, &other, ADMIN, CONFIG]).await;
    assert_eq!(codes, [Q1, Failure, Failure, Q1]);

    let (client, mut events) = connect(ws_options(
        presso.port,
        "serverlesspresso-barista",
        Some(&barista.token),
    ))
    .await;
    let codes = subscribe(&client, &mut events, &[ADMIN, &other, &own]).await;
    assert_eq!(codes, [Q1, Q1, Failure]);
}

#[tokio::test]
async fn wildcard_system_and_shared_filters_are_refused_even_for_admins() {
    let presso = spawn_presso().await;
    let pool = pool(&presso.endpoint).await;
    let barista = user(&presso.endpoint, &pool, "barista@example.com", true).await;
    let (client, mut events) = connect(ws_options(
        presso.port,
        "serverlesspresso-barista",
        Some(&barista.token),
    ))
    .await;
    let codes = subscribe(
        &client,
        &mut events,
        &[
            "#",
            "+",
            "serverlesspresso-admin-default/#",
            "$SYS/broker",
            "$share/g/serverlesspresso-admin-default",
        ],
    )
    .await;
    assert_eq!(codes, [Failure; 5]);
}

#[tokio::test]
async fn forged_foreign_expired_and_garbage_tokens_get_connack_5() {
    let presso = spawn_presso().await;
    let pool = pool(&presso.endpoint).await;
    let ada = user(&presso.endpoint, &pool, "ada@example.com", false).await;
    // Another presso signs with another key: its tokens name a local issuer but are foreign.
    let other = spawn_presso().await;
    let other_pool = support::pool(&other.endpoint).await;
    let stranger = user(&other.endpoint, &other_pool, "eve@example.com", false).await;
    let mut forged = ada.token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for (name, token) in [
        ("forged", forged.as_str()),
        ("foreign", stranger.token.as_str()),
        ("garbage", "not-a-jwt"),
    ] {
        let code = refused_with(ws_options(presso.port, "serverlesspresso-x", Some(token))).await;
        assert_eq!(code, ConnectReturnCode::NotAuthorized, "{name} token");
    }
    // The genuine token works until it expires on presso's clock (ID tokens last an hour).
    connect(ws_options(
        presso.port,
        "serverlesspresso-ada",
        Some(&ada.token),
    ))
    .await;
    advance_clock(&presso.endpoint, 2 * 3600).await;
    let code = refused_with(ws_options(
        presso.port,
        "serverlesspresso-ada",
        Some(&ada.token),
    ))
    .await;
    assert_eq!(code, ConnectReturnCode::NotAuthorized, "expired token");
}

#[tokio::test]
async fn a_client_publish_is_refused_and_never_delivered() {
    let presso = spawn_presso().await;
    let (sub, mut sub_events) =
        connect(ws_options(presso.port, "serverlesspresso-sub", None)).await;
    assert_eq!(subscribe(&sub, &mut sub_events, &[CONFIG]).await, [Q1]);
    let (publisher, mut events) =
        connect(ws_options(presso.port, "serverlesspresso-pub", None)).await;
    publisher
        .publish(CONFIG, rumqttc::QoS::AtMostOnce, false, "forged")
        .await
        .expect("queue publish");
    connection_error(&mut events).await;
    // The first message the subscriber sees is the server's, not the forged one.
    let endpoint = presso.endpoint.clone();
    let (publish, ()) = tokio::join!(
        next_publish(&mut sub_events),
        sdk_publish(&endpoint, CONFIG, "marker")
    );
    assert_eq!(&publish.payload[..], b"marker");
}

#[tokio::test]
async fn iot_data_publish_from_the_sdk_and_the_cli_reaches_a_subscriber() {
    let presso = spawn_presso().await;
    let (sub, mut events) = connect(ws_options(presso.port, "serverlesspresso-sub", None)).await;
    assert_eq!(subscribe(&sub, &mut events, &[CONFIG]).await, [Q1]);

    let (publish, ()) = tokio::join!(
        next_publish(&mut events),
        sdk_publish(&presso.endpoint, CONFIG, r#"{"type":"Config.Changed"}"#)
    );
    assert_eq!(&publish.payload[..], br#"{"type":"Config.Changed"}"#);

    let endpoint = presso.endpoint.clone();
    let cli = tokio::task::spawn_blocking(move || {
        aws(
            &endpoint,
            &[
                "iot-data",
                "publish",
                "--topic",
                CONFIG,
                "--qos",
                "1",
                "--payload",
                r#"{"type":"from-cli"}"#,
            ],
        )
    });
    let publish = next_publish(&mut events).await;
    cli.await.unwrap();
    assert_eq!(&publish.payload[..], br#"{"type":"from-cli"}"#);
    assert_eq!(publish.topic, CONFIG);
}

#[tokio::test]
async fn the_plain_mqtt_port_works_on_port_0_and_the_broker_stops_with_the_server() {
    let process = tokio::task::spawn_blocking(PressoProcess::start)
        .await
        .unwrap();
    let mut options =
        rumqttc::MqttOptions::new("serverlesspresso-tcp", "127.0.0.1", process.mqtt_port);
    options.set_keep_alive(std::time::Duration::from_secs(30));
    let (sub, mut events) = connect(options).await;
    assert_eq!(
        subscribe(&sub, &mut events, &[CONFIG, ADMIN]).await,
        [Q1, Failure]
    );
    let (publish, ()) = tokio::join!(
        next_publish(&mut events),
        sdk_publish(&process.endpoint, CONFIG, "tcp")
    );
    assert_eq!(&publish.payload[..], b"tcp");

    // In process: stopping the server ends WebSocket sessions too.
    let presso = spawn_presso().await;
    let (_client, mut ws_events) =
        connect(ws_options(presso.port, "serverlesspresso-ws", None)).await;
    presso.stop().await;
    connection_error(&mut ws_events).await;
}
