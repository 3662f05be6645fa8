//! The adapters against moto's server (pip-installed by CI's setup from
//! `.ci/requirements.txt`): the DynamoDB repositories with their conditional writes and
//! transactions, and the EventBridge publisher (checked through a rule whose target is an SQS
//! queue).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use presso_aws::AwsSettings;
use presso_aws::bus::EventBridgePublisher;
use presso_aws::dynamo::{DynamoStore, TableNames};
use presso_core::config::StoreConfig;
use presso_core::events::Event;
use presso_core::ids::{EventId, OrderId, QrToken, TaskToken, UserId};
use presso_core::keys;
use presso_core::order::{Order, OrderStatus};
use presso_core::ports::{
    ConfigRepository, EventPublisher, JourneyEntry, OrderRepository, QrRepository, StoreError,
    TakeTokenError,
};
use presso_core::qr::{QrBucket, WindowId};
use presso_core::time::Timestamp;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Moto {
    endpoint: String,
    child: Child,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto's server on a free port. Fails (never skips) when it is not installed.
fn spawn_moto() -> Moto {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs moto's server (pip install -r .ci/requirements.txt)");
    let mut moto = Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        child,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = moto.child.try_wait() {
            panic!(
                "moto's server exited with {status}: is moto[server] installed? \
                 (pip install -r .ci/requirements.txt)"
            );
        }
        assert!(
            Instant::now() < deadline,
            "moto's server did not start within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    moto
}

async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    AwsSettings {
        region: Some("us-east-1".to_owned()),
        endpoint_url: Some(endpoint.to_owned()),
        credentials: Some(("testing".to_owned(), "testing".to_owned(), None)),
    }
    .load()
    .await
}

fn attr(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(t)
        .build()
        .unwrap()
}

fn key(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(t)
        .build()
        .unwrap()
}

fn gsi(name: &str, hash: &str) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash))
        .key_schema(key(keys::GSI_RANGE, KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .unwrap()
}

/// The tables as the template declares them.
async fn create_tables(client: &aws_sdk_dynamodb::Client, tables: &TableNames) {
    client
        .create_table()
        .table_name(&tables.orders)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(keys::PK, ScalarAttributeType::S))
        .attribute_definitions(attr(keys::SK, ScalarAttributeType::S))
        .attribute_definitions(attr(keys::GSI_STATUS_HASH, ScalarAttributeType::S))
        .attribute_definitions(attr(keys::GSI_USER_HASH, ScalarAttributeType::S))
        .attribute_definitions(attr(keys::GSI_RANGE, ScalarAttributeType::N))
        .key_schema(key(keys::PK, KeyType::Hash))
        .key_schema(key(keys::SK, KeyType::Range))
        .global_secondary_indexes(gsi(keys::GSI_STATUS, keys::GSI_STATUS_HASH))
        .global_secondary_indexes(gsi(keys::GSI_USER, keys::GSI_USER_HASH))
        .send()
        .await
        .expect("order table");
    for table in [&tables.config, &tables.counting, &tables.validator] {
        client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(keys::PK, ScalarAttributeType::S))
            .key_schema(key(keys::PK, KeyType::Hash))
            .send()
            .await
            .expect("table");
    }
}

fn event() -> EventId {
    EventId::parse("expo-1").unwrap()
}

fn order(id: &str, user: &str, at: i64) -> Order {
    Order::new_pending(
        OrderId::parse(id).unwrap(),
        event(),
        UserId::parse(user).unwrap(),
        None,
        Timestamp::from_millis(at),
    )
}

/// The orders holding capacity in the test event.
async fn capacity(client: &aws_sdk_dynamodb::Client, tables: &TableNames) -> Vec<String> {
    client
        .get_item()
        .table_name(&tables.counting)
        .key(
            keys::PK,
            AttributeValue::S(keys::capacity_counter_pk(&event())),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item()
        .and_then(|i| i.get(keys::CAPACITY_ATTR))
        .and_then(|v| v.as_ss().ok().cloned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_repositories_keep_their_conditions_against_moto() {
    let moto = spawn_moto();
    let config = sdk_config(&moto.endpoint).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let tables = TableNames::default();
    create_tables(&client, &tables).await;
    let store = DynamoStore::new(client.clone(), tables.clone());

    // Orders: create only once, save only at the version read.
    let o1 = order("o1", "alice", 1_000);
    store.create(&o1).await.unwrap();
    assert_eq!(store.create(&o1).await, Err(StoreError::Conflict));
    assert_eq!(
        OrderRepository::get(&store, &o1.order_id).await.unwrap(),
        Some(o1.clone())
    );
    assert_eq!(
        OrderRepository::get(&store, &OrderId::parse("nope").unwrap())
            .await
            .unwrap(),
        None
    );

    let token = TaskToken::parse("token-1").unwrap();
    let started = o1
        .record_workflow_started(token, Timestamp::from_millis(1_100))
        .unwrap()
        .expect("a change");
    store.save(&started).await.unwrap();
    assert_eq!(
        store.save(&started).await,
        Err(StoreError::Conflict),
        "stale version"
    );

    // Releasing capacity happens in the same transaction: the order leaves the holders, once.
    client
        .put_item()
        .table_name(&tables.counting)
        .item(
            keys::PK,
            AttributeValue::S(keys::capacity_counter_pk(&event())),
        )
        .item(
            keys::CAPACITY_ATTR,
            AttributeValue::Ss(vec![o1.order_id.as_str().to_owned(), "other".into()]),
        )
        .send()
        .await
        .unwrap();
    let current = OrderRepository::get(&store, &o1.order_id)
        .await
        .unwrap()
        .unwrap();
    let failed = current
        .fail("boom", true, Timestamp::from_millis(1_200))
        .unwrap()
        .expect("a change");
    assert!(failed.release_capacity);
    store.save(&failed).await.unwrap();
    assert_eq!(capacity(&client, &tables).await, ["other"]);
    assert_eq!(store.save(&failed).await, Err(StoreError::Conflict));
    assert_eq!(capacity(&client, &tables).await, ["other"]);

    let o2 = order("o2", "alice", 2_000);
    store.create(&o2).await.unwrap();
    let at_zero = o2
        .fail("boom", true, Timestamp::from_millis(2_100))
        .unwrap()
        .expect("a change");
    store.save(&at_zero).await.unwrap();
    assert_eq!(
        capacity(&client, &tables).await,
        ["other"],
        "an order that held nothing releases nothing"
    );
    assert_eq!(
        OrderRepository::get(&store, &o2.order_id)
            .await
            .unwrap()
            .unwrap()
            .status(),
        OrderStatus::Failed
    );

    // The indexes: an event's orders in a state oldest first, a user's newest first.
    let o3 = order("o3", "bob", 3_000);
    let o4 = order("o4", "alice", 4_000);
    store.create(&o3).await.unwrap();
    store.create(&o4).await.unwrap();
    let pending = store
        .list_by_status(&event(), OrderStatus::Pending, 10)
        .await
        .unwrap();
    let ids: Vec<&str> = pending.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids, ["o3", "o4"]);
    let failed = store
        .list_by_status(&event(), OrderStatus::Failed, 1)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    let alice = store
        .list_by_user(&UserId::parse("alice").unwrap(), 10)
        .await
        .unwrap();
    let ids: Vec<&str> = alice.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids, ["o4", "o2", "o1"]);

    // The journey: each key once, read back in order, and not listed as an order.
    let entry = |at: i64, state: &str| JourneyEntry {
        order_id: o1.order_id.clone(),
        at: Timestamp::from_millis(at),
        detail_type: "OrderManager.MakeOrder".to_owned(),
        state: state.to_owned(),
        message: "made".to_owned(),
        detail: serde_json::json!({"orderId": "o1", "nested": {"n": 1}}),
    };
    assert!(
        store
            .append_journey(&entry(20, "inProgress"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .append_journey(&entry(20, "inProgress"))
            .await
            .unwrap()
    );
    assert!(store.append_journey(&entry(10, "queued")).await.unwrap());
    let journey = store.journey(&o1.order_id).await.unwrap();
    assert_eq!(journey, vec![entry(10, "queued"), entry(20, "inProgress")]);
    assert_eq!(
        store
            .list_by_user(&UserId::parse("alice").unwrap(), 10)
            .await
            .unwrap()
            .len(),
        3
    );

    // Configs: created once, then written only at the version read.
    let cfg = StoreConfig::new_event(event(), Timestamp::from_millis(0));
    ConfigRepository::put(&store, &cfg, None).await.unwrap();
    assert_eq!(
        ConfigRepository::put(&store, &cfg, None).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        ConfigRepository::get(&store, &event()).await.unwrap(),
        Some(cfg.clone())
    );
    let mut next = cfg.clone();
    next.version += 1;
    next.max_orders_in_queue = 7;
    ConfigRepository::put(&store, &next, Some(cfg.version))
        .await
        .unwrap();
    assert_eq!(
        ConfigRepository::put(&store, &next, Some(cfg.version)).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        ConfigRepository::get(&store, &event())
            .await
            .unwrap()
            .unwrap()
            .max_orders_in_queue,
        7
    );
    // Every config write also wrote the workflow's gate on the capacity item, and kept
    // the counter the workflow took.
    let gate = client
        .get_item()
        .table_name(&tables.counting)
        .key("PK", AttributeValue::S(keys::capacity_counter_pk(&event())))
        .send()
        .await
        .unwrap();
    let gate = gate.item().expect("the gate item");
    assert_eq!(gate.get("gateMax"), Some(&AttributeValue::N("7".into())));
    assert_eq!(gate.get("gateOpen"), Some(&AttributeValue::Bool(next.open)));
    assert_eq!(
        gate.get("gatePaused"),
        Some(&AttributeValue::Bool(next.paused))
    );

    // QR buckets: one per window whoever asks first, tokens taken with the order's creation.
    let window = WindowId::from_raw(100);
    let code = QrToken::parse("ABCDEFGHIJ").unwrap();
    let first = QrBucket::new(event(), window, code.clone(), 2, Timestamp::from_millis(0));
    let other = QrBucket::new(
        event(),
        window,
        QrToken::parse("ZZZZZZZZZZ").unwrap(),
        2,
        Timestamp::from_millis(1),
    );
    assert_eq!(store.create_bucket(&first).await.unwrap(), first);
    assert_eq!(
        store.create_bucket(&other).await.unwrap(),
        first,
        "the winner's bucket"
    );

    let after = store
        .take_token(&event(), window, &code, &order("q1", "carol", 5_000))
        .await
        .unwrap();
    assert_eq!(after.available_tokens, 1);
    assert_eq!(
        store
            .take_token(&event(), window, &code, &order("q1", "carol", 5_000))
            .await,
        Err(TakeTokenError::OrderExists)
    );
    assert_eq!(
        store
            .get_bucket(&event(), window)
            .await
            .unwrap()
            .unwrap()
            .available_tokens,
        1,
        "a refused transaction takes nothing"
    );
    assert_eq!(
        store
            .take_token(
                &event(),
                window,
                &QrToken::parse("ZZZZZZZZZZ").unwrap(),
                &order("q2", "carol", 5_000)
            )
            .await,
        Err(TakeTokenError::InvalidCode)
    );
    assert_eq!(
        store
            .take_token(
                &event(),
                WindowId::from_raw(99),
                &code,
                &order("q2", "carol", 5_000)
            )
            .await,
        Err(TakeTokenError::InvalidCode),
        "no bucket for that window"
    );
    store
        .take_token(&event(), window, &code, &order("q2", "dave", 5_000))
        .await
        .unwrap();
    assert_eq!(
        store
            .take_token(&event(), window, &code, &order("q3", "erin", 5_000))
            .await,
        Err(TakeTokenError::Exhausted)
    );
    assert!(
        OrderRepository::get(&store, &OrderId::parse("q2").unwrap())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        OrderRepository::get(&store, &OrderId::parse("q3").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_scans_never_take_more_tokens_than_the_bucket_holds() {
    let moto = spawn_moto();
    let config = sdk_config(&moto.endpoint).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let tables = TableNames::default();
    create_tables(&client, &tables).await;
    let store = std::sync::Arc::new(DynamoStore::new(client, tables));
    let window = WindowId::from_raw(7);
    let code = QrToken::parse("KKKKKKKKKK").unwrap();
    store
        .create_bucket(&QrBucket::new(
            event(),
            window,
            code.clone(),
            3,
            Timestamp::from_millis(0),
        ))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let code = code.clone();
        tasks.push(tokio::spawn(async move {
            store
                .take_token(&event(), window, &code, &order(&format!("c{i}"), "u", 1))
                .await
        }));
    }
    let mut taken = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => taken += 1,
            Err(TakeTokenError::Exhausted)
            | Err(TakeTokenError::Store(StoreError::Unavailable(_))) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert!(taken <= 3, "{taken} tokens taken from a bucket of 3");
    let left = store.get_bucket(&event(), window).await.unwrap().unwrap();
    assert_eq!(left.available_tokens, 3 - taken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_events_reach_the_bus_with_source_detail_type_and_detail() {
    let moto = spawn_moto();
    let config = sdk_config(&moto.endpoint).await;
    let eb = aws_sdk_eventbridge::Client::new(&config);
    eb.create_event_bus()
        .name("Serverlesspresso")
        .send()
        .await
        .unwrap();

    // moto delivers to a rule's SQS target as the event is put; the aws CLI reads the queue.
    let aws = |args: &[&str]| -> serde_json::Value {
        let out = Command::new("aws")
            .args([
                "--endpoint-url",
                &moto.endpoint,
                "--region",
                "us-east-1",
                "--output",
                "json",
            ])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .expect("the aws CLI runs (pip install -r .ci/requirements.txt)");
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    };
    let queue = aws(&["sqs", "create-queue", "--queue-name", "seen"]);
    let queue_url = queue["QueueUrl"].as_str().unwrap().to_owned();
    eb.put_rule()
        .name("all")
        .event_bus_name("Serverlesspresso")
        .event_pattern(r#"{"source":["awsserverlessda.serverlesspresso"]}"#)
        .send()
        .await
        .unwrap();
    eb.put_targets()
        .rule("all")
        .event_bus_name("Serverlesspresso")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("q")
                .arn("arn:aws:sqs:us-east-1:123456789012:seen")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let publisher = EventBridgePublisher::from_config(&config, &Default::default());
    assert_eq!(publisher.bus_name(), "Serverlesspresso");
    let cfg = StoreConfig::new_event(event(), Timestamp::from_millis(0));
    let events: Vec<Event> = (0..12)
        .map(|_| Event::ConfigChanged(presso_core::events::ConfigChanged::of(&cfg)))
        .collect();
    publisher
        .publish(&events)
        .await
        .expect("12 events in two calls");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < 12 && Instant::now() < deadline {
        let got = aws(&[
            "sqs",
            "receive-message",
            "--queue-url",
            &queue_url,
            "--max-number-of-messages",
            "10",
            "--wait-time-seconds",
            "1",
        ]);
        for m in got["Messages"].as_array().into_iter().flatten() {
            let body: serde_json::Value =
                serde_json::from_str(m["Body"].as_str().unwrap()).unwrap();
            seen.push(body);
            aws(&[
                "sqs",
                "delete-message",
                "--queue-url",
                &queue_url,
                "--receipt-handle",
                m["ReceiptHandle"].as_str().unwrap(),
            ]);
        }
    }
    assert_eq!(seen.len(), 12, "every event arrives once");
    for body in &seen {
        assert_eq!(body["source"], "awsserverlessda.serverlesspresso");
        assert_eq!(body["detail-type"], "ConfigService.ConfigChanged");
        assert_eq!(body["detail"]["eventId"], "expo-1");
        assert_eq!(body["detail"]["state"], "open");
    }

    let missing = EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&config), "NoSuchBus");
    assert!(
        missing.publish(&events[..1]).await.is_err(),
        "a bus that does not exist is an error, not a silent success"
    );
}
