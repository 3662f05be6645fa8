//! The service through its JSON operations, as presso-local drives it: buses, rules, targets,
//! PutEvents matching, the log target, retries and dead letters.

use async_trait::async_trait;
use presso_events::{DeliveryError, EventBridge, Options, RetryPolicy, Storage, TargetInvoker};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Records deliveries; fails those to ARNs containing `broken` and refuses those containing
/// `unknown`.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<(String, Value)>>,
}

#[async_trait]
impl TargetInvoker for Recorder {
    async fn deliver(&self, arn: &str, input: Value) -> Result<(), DeliveryError> {
        self.seen.lock().unwrap().push((arn.to_string(), input));
        if arn.contains("broken") {
            return Err(DeliveryError::Failed("the function panicked".into()));
        }
        if arn.contains("unknown") {
            return Err(DeliveryError::NotFound(arn.to_string()));
        }
        Ok(())
    }
}

fn open(recorder: Arc<Recorder>) -> EventBridge {
    EventBridge::open(
        Storage::InMemory,
        Options {
            invoker: recorder,
            retry: RetryPolicy {
                attempts: 3,
                first_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(2),
            },
            ..Options::default()
        },
    )
    .unwrap()
}

fn call(eb: &EventBridge, op: &str, body: Value) -> Result<Value, (String, String)> {
    eb.call(op, &body)
        .map_err(|e| (e.type_name().to_string(), e.message().to_string()))
}

async fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "condition not met within 5 s");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

const LOG: &str = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/events/orders";

fn order_event(drink: &str) -> Value {
    json!({
        "Source": "awsserverlessda.serverlesspresso",
        "DetailType": "OrderManager.OrderCompleted",
        "Detail": json!({"eventId": "default", "drink": drink}).to_string(),
        "EventBusName": "Serverlesspresso",
    })
}

fn setup_bus_rule_target(eb: &EventBridge, target: Value) {
    call(eb, "CreateEventBus", json!({"Name": "Serverlesspresso"})).unwrap();
    call(
        eb,
        "PutRule",
        json!({
            "Name": "completed",
            "EventBusName": "Serverlesspresso",
            "EventPattern": r#"{"detail-type": ["OrderManager.OrderCompleted"], "detail": {"drink": ["Latte"]}}"#,
        }),
    )
    .unwrap();
    call(
        eb,
        "PutTargets",
        json!({"Rule": "completed", "EventBusName": "Serverlesspresso", "Targets": [target]}),
    )
    .unwrap();
}

#[tokio::test]
async fn the_default_bus_always_exists_and_cannot_be_deleted() {
    let eb = open(Arc::default());
    let bus = call(&eb, "DescribeEventBus", json!({})).unwrap();
    assert_eq!(bus["Name"], "default");
    assert_eq!(
        bus["Arn"],
        "arn:aws:events:us-east-1:123456789012:event-bus/default"
    );
    let err = call(&eb, "DeleteEventBus", json!({"Name": "default"})).unwrap_err();
    assert_eq!(err.0, "ValidationException");
}

#[tokio::test]
async fn buses_are_created_once_listed_by_prefix_and_deleted() {
    let eb = open(Arc::default());
    let arn = call(&eb, "CreateEventBus", json!({"Name": "Serverlesspresso"})).unwrap();
    assert_eq!(
        arn["EventBusArn"],
        "arn:aws:events:us-east-1:123456789012:event-bus/Serverlesspresso"
    );
    let err = call(&eb, "CreateEventBus", json!({"Name": "Serverlesspresso"})).unwrap_err();
    assert_eq!(err.0, "ResourceAlreadyExistsException");
    let listed = call(&eb, "ListEventBuses", json!({"NamePrefix": "Server"})).unwrap();
    assert_eq!(listed["EventBuses"].as_array().unwrap().len(), 1);
    call(&eb, "DeleteEventBus", json!({"Name": "Serverlesspresso"})).unwrap();
    let err = call(&eb, "DescribeEventBus", json!({"Name": "Serverlesspresso"})).unwrap_err();
    assert_eq!(err.0, "ResourceNotFoundException");
    assert_eq!(err.1, "Event bus Serverlesspresso does not exist.");
}

#[tokio::test]
async fn rules_are_described_listed_in_pages_and_need_their_targets_removed_before_deletion() {
    let eb = open(Arc::default());
    for i in 0..5 {
        call(
            &eb,
            "PutRule",
            json!({"Name": format!("rule-{i}"), "EventPattern": r#"{"source": ["a"]}"#}),
        )
        .unwrap();
    }
    call(
        &eb,
        "PutRule",
        json!({"Name": "other", "ScheduleExpression": "rate(5 minutes)"}),
    )
    .unwrap();
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({"NamePrefix": "rule-", "Limit": 2});
        if let Some(t) = &token {
            req["NextToken"] = json!(t);
        }
        let page = call(&eb, "ListRules", req).unwrap();
        names.extend(
            page["Rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["Name"].as_str().unwrap().to_string()),
        );
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(names, ["rule-0", "rule-1", "rule-2", "rule-3", "rule-4"]);
    let rule = call(&eb, "DescribeRule", json!({"Name": "rule-1"})).unwrap();
    assert_eq!(
        rule["Arn"],
        "arn:aws:events:us-east-1:123456789012:rule/rule-1"
    );
    assert_eq!(rule["State"], "ENABLED");
    call(&eb, "DisableRule", json!({"Name": "rule-1"})).unwrap();
    assert_eq!(
        call(&eb, "DescribeRule", json!({"Name": "rule-1"})).unwrap()["State"],
        "DISABLED"
    );
    call(
        &eb,
        "PutTargets",
        json!({"Rule": "rule-1", "Targets": [{"Id": "log", "Arn": LOG}]}),
    )
    .unwrap();
    let err = call(&eb, "DeleteRule", json!({"Name": "rule-1"})).unwrap_err();
    assert_eq!(err.0, "ValidationException");
    call(
        &eb,
        "RemoveTargets",
        json!({"Rule": "rule-1", "Ids": ["log"]}),
    )
    .unwrap();
    call(&eb, "DeleteRule", json!({"Name": "rule-1"})).unwrap();
    let err = call(&eb, "DescribeRule", json!({"Name": "rule-1"})).unwrap_err();
    assert_eq!(
        err,
        (
            "ResourceNotFoundException".into(),
            "Rule rule-1 does not exist on EventBus default.".into()
        )
    );
}

#[tokio::test]
async fn invalid_patterns_and_targets_are_refused_with_aws_errors() {
    let eb = open(Arc::default());
    let err = call(
        &eb,
        "PutRule",
        json!({"Name": "r", "EventPattern": r#"{"source": "a"}"#}),
    )
    .unwrap_err();
    assert_eq!(err.0, "InvalidEventPatternException");
    let err = call(&eb, "PutRule", json!({"Name": "r"})).unwrap_err();
    assert_eq!(err.0, "ValidationException");
    let err = call(
        &eb,
        "PutRule",
        json!({"Name": "r", "EventPattern": r#"{"source": ["a"]}"#, "EventBusName": "nope"}),
    )
    .unwrap_err();
    assert_eq!(err.0, "ResourceNotFoundException");
    call(
        &eb,
        "PutRule",
        json!({"Name": "r", "EventPattern": r#"{"source": ["a"]}"#}),
    )
    .unwrap();
    let err = call(
        &eb,
        "PutTargets",
        json!({"Rule": "r", "Targets": [{"Id": "t", "Arn": LOG, "Input": "{}", "InputPath": "$.detail"}]}),
    )
    .unwrap_err();
    assert_eq!(err.0, "ValidationException");
    let six: Vec<Value> = (0..6)
        .map(|i| json!({"Id": format!("t{i}"), "Arn": LOG}))
        .collect();
    let err = call(&eb, "PutTargets", json!({"Rule": "r", "Targets": six})).unwrap_err();
    assert_eq!(err.0, "LimitExceededException");
    assert!(
        call(&eb, "ListTargetsByRule", json!({"Rule": "r"})).unwrap()["Targets"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn matching_events_reach_the_log_target_and_others_do_not() {
    let eb = open(Arc::default());
    setup_bus_rule_target(&eb, json!({"Id": "log", "Arn": LOG}));
    let out = call(
        &eb,
        "PutEvents",
        json!({"Entries": [order_event("Latte"), order_event("Espresso")]}),
    )
    .unwrap();
    assert_eq!(out["FailedEntryCount"], 0);
    let latte_id = out["Entries"][0]["EventId"].as_str().unwrap().to_string();
    let events = wait_for(|| {
        let e = eb.log_events("/aws/events/orders", 100).unwrap();
        (!e.is_empty()).then_some(e)
    })
    .await;
    // The Espresso event matched nothing, so exactly one delivery happened.
    call(&eb, "PutEvents", json!({"Entries": [order_event("Latte")]})).unwrap();
    wait_for(|| (eb.log_events("aws/events/orders", 100).unwrap().len() == 2).then_some(())).await;
    let logged: Value = serde_json::from_str(events[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(logged["id"], latte_id.as_str());
    assert_eq!(logged["version"], "0");
    assert_eq!(logged["detail-type"], "OrderManager.OrderCompleted");
    assert_eq!(logged["account"], "123456789012");
    assert_eq!(logged["region"], "us-east-1");
    assert_eq!(logged["resources"], json!([]));
    assert_eq!(logged["detail"]["drink"], "Latte");
    assert!(logged["time"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn input_transformer_output_is_what_the_target_receives() {
    let rec = Arc::new(Recorder::default());
    let eb = open(rec.clone());
    setup_bus_rule_target(
        &eb,
        json!({
            "Id": "sfn",
            "Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:OrderProcessor",
            "InputTransformer": {
                "InputPathsMap": {"drink": "$.detail.drink", "id": "$.id"},
                "InputTemplate": r#"{"order": {"drink": <drink>}, "note": "event <id> for <drink>", "rule": "<aws.events.rule-name>"}"#
            }
        }),
    );
    let out = call(&eb, "PutEvents", json!({"Entries": [order_event("Latte")]})).unwrap();
    let id = out["Entries"][0]["EventId"].as_str().unwrap().to_string();
    let (arn, input) = wait_for(|| rec.seen.lock().unwrap().first().cloned()).await;
    assert_eq!(
        arn,
        "arn:aws:states:us-east-1:123456789012:stateMachine:OrderProcessor"
    );
    assert_eq!(
        input,
        json!({"order": {"drink": "Latte"}, "note": format!("event {id} for Latte"), "rule": "completed"})
    );
}

#[tokio::test]
async fn input_path_and_constant_input_select_what_is_sent() {
    let rec = Arc::new(Recorder::default());
    let eb = open(rec.clone());
    setup_bus_rule_target(
        &eb,
        json!({"Id": "a", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:a", "InputPath": "$.detail"}),
    );
    call(
        &eb,
        "PutTargets",
        json!({"Rule": "completed", "EventBusName": "Serverlesspresso",
               "Targets": [{"Id": "b", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:b", "Input": "{\"fixed\": 1}"}]}),
    )
    .unwrap();
    call(&eb, "PutEvents", json!({"Entries": [order_event("Latte")]})).unwrap();
    let mut seen = wait_for(|| {
        let s = rec.seen.lock().unwrap().clone();
        (s.len() == 2).then_some(s)
    })
    .await;
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(seen[0].1, json!({"eventId": "default", "drink": "Latte"}));
    assert_eq!(seen[1].1, json!({"fixed": 1}));
}

#[tokio::test]
async fn a_failing_target_is_retried_then_dead_lettered() {
    let rec = Arc::new(Recorder::default());
    let eb = open(rec.clone());
    setup_bus_rule_target(
        &eb,
        json!({"Id": "f", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:broken"}),
    );
    call(&eb, "PutEvents", json!({"Entries": [order_event("Latte")]})).unwrap();
    let dead = wait_for(|| {
        let d = eb.dead_letters(10).unwrap();
        (!d.is_empty()).then_some(d)
    })
    .await;
    assert_eq!(rec.seen.lock().unwrap().len(), 3, "three tries in all");
    assert_eq!(dead[0]["attempts"], 3);
    assert_eq!(dead[0]["error"], "the function panicked");
    assert_eq!(dead[0]["targetId"], "f");
    assert_eq!(dead[0]["input"]["detail"]["drink"], "Latte");
}

#[tokio::test]
async fn an_unknown_target_is_dead_lettered_without_retries() {
    let rec = Arc::new(Recorder::default());
    let eb = open(rec.clone());
    setup_bus_rule_target(
        &eb,
        json!({"Id": "f", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:unknown"}),
    );
    call(&eb, "PutEvents", json!({"Entries": [order_event("Latte")]})).unwrap();
    let dead = wait_for(|| {
        let d = eb.dead_letters(10).unwrap();
        (!d.is_empty()).then_some(d)
    })
    .await;
    assert_eq!(dead[0]["attempts"], 1);
    assert_eq!(rec.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn put_events_reports_bad_entries_one_by_one() {
    let eb = open(Arc::default());
    let out = call(
        &eb,
        "PutEvents",
        json!({"Entries": [
            {"Source": "a", "DetailType": "t", "Detail": "{}"},
            {"DetailType": "t", "Detail": "{}"},
            {"Source": "a", "DetailType": "t", "Detail": "[1]"},
            {"Source": "a", "DetailType": "t", "Detail": "{}", "EventBusName": "nope"},
        ]}),
    )
    .unwrap();
    assert_eq!(out["FailedEntryCount"], 3);
    assert!(out["Entries"][0]["EventId"].is_string());
    assert_eq!(out["Entries"][1]["ErrorCode"], "InvalidArgument");
    assert_eq!(
        out["Entries"][1]["ErrorMessage"],
        "Parameter Source is not valid. Reason: Source is a required argument."
    );
    assert_eq!(out["Entries"][2]["ErrorCode"], "MalformedDetail");
    assert_eq!(out["Entries"][3]["ErrorCode"], "ResourceNotFoundException");
}

#[tokio::test]
async fn put_events_refuses_more_than_ten_entries_and_more_than_256_kb() {
    let eb = open(Arc::default());
    let entry = json!({"Source": "a", "DetailType": "t", "Detail": "{}"});
    let err = call(&eb, "PutEvents", json!({"Entries": vec![entry; 11]})).unwrap_err();
    assert_eq!(err.0, "ValidationException");
    let big = json!({"Source": "a", "DetailType": "t",
        "Detail": json!({"x": "y".repeat(130 * 1024)}).to_string()});
    let err = call(&eb, "PutEvents", json!({"Entries": [big.clone(), big]})).unwrap_err();
    assert_eq!(err.0, "ValidationException");
    assert!(
        err.1
            .starts_with("Total size of the entries in the request is over the limit")
    );
}

#[tokio::test]
async fn test_event_pattern_answers_true_false_and_aws_errors() {
    let eb = open(Arc::default());
    let event = json!({"id": "1", "account": "1", "source": "a", "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1", "detail-type": "t", "detail": {"n": 5}})
    .to_string();
    let yes = call(
        &eb,
        "TestEventPattern",
        json!({"EventPattern": r#"{"detail": {"n": [{"numeric": [">", 1]}]}}"#, "Event": event}),
    )
    .unwrap();
    assert_eq!(yes, json!({"Result": true}));
    let no = call(
        &eb,
        "TestEventPattern",
        json!({"EventPattern": r#"{"source": ["b"]}"#, "Event": event}),
    )
    .unwrap();
    assert_eq!(no, json!({"Result": false}));
    let err = call(
        &eb,
        "TestEventPattern",
        json!({"EventPattern": "[", "Event": event}),
    )
    .unwrap_err();
    assert_eq!(err.0, "InvalidEventPatternException");
    let err = call(
        &eb,
        "TestEventPattern",
        json!({"EventPattern": r#"{"source": ["a"]}"#, "Event": "{}"}),
    )
    .unwrap_err();
    assert_eq!(err.0, "ValidationException");
}

#[tokio::test]
async fn rules_targets_dead_letters_and_logs_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::in_data_dir(dir.path());
    let rec = Arc::new(Recorder::default());
    {
        let eb = EventBridge::open(
            storage.clone(),
            Options {
                invoker: rec.clone(),
                ..Options::default()
            },
        )
        .unwrap();
        setup_bus_rule_target(&eb, json!({"Id": "log", "Arn": LOG}));
        call(&eb, "PutEvents", json!({"Entries": [order_event("Latte")]})).unwrap();
        wait_for(|| (!eb.log_events("aws/events/orders", 10).unwrap().is_empty()).then_some(()))
            .await;
    }
    let eb = EventBridge::open(storage, Options::default()).unwrap();
    assert_eq!(eb.log_events("aws/events/orders", 10).unwrap().len(), 1);
    call(&eb, "PutEvents", json!({"Entries": [order_event("Latte")]})).unwrap();
    wait_for(|| (eb.log_events("aws/events/orders", 10).unwrap().len() == 2).then_some(())).await;
}

/// Never answers: a target that was still being called when presso was killed.
struct Hanging;

#[async_trait]
impl TargetInvoker for Hanging {
    async fn deliver(&self, _arn: &str, _input: Value) -> Result<(), DeliveryError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_delivery_accepted_but_not_made_is_made_after_a_reopen_and_then_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::in_data_dir(dir.path());
    let function = "arn:aws:lambda:us-east-1:123456789012:function:publisher";
    {
        let eb = EventBridge::open(
            storage.clone(),
            Options {
                invoker: Arc::new(Hanging),
                ..Options::default()
            },
        )
        .unwrap();
        setup_bus_rule_target(&eb, json!({"Id": "fn", "Arn": function}));
        call(&eb, "PutEvents", json!({"Entries": [order_event("Latte")]})).unwrap();
    }
    let rec = Arc::new(Recorder::default());
    let eb = EventBridge::open(
        storage.clone(),
        Options {
            invoker: rec.clone(),
            ..Options::default()
        },
    )
    .unwrap();
    // Nothing is made before the host says its targets are ready.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(rec.seen.lock().unwrap().is_empty());
    assert_eq!(eb.resume_pending().unwrap(), 1);
    let (arn, input) = wait_for(|| rec.seen.lock().unwrap().first().cloned()).await;
    assert_eq!(arn, function);
    assert_eq!(input["detail"]["drink"], "Latte");
    // Once made, it is forgotten: the next reopen has nothing to make.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(eb);
    let eb = EventBridge::open(storage, Options::default()).unwrap();
    assert_eq!(eb.resume_pending().unwrap(), 0);
}

/// A clock the test moves by hand.
#[derive(Default)]
struct HandClock(std::sync::atomic::AtomicI64);

impl HandClock {
    fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl presso_events::Clock for HandClock {
    fn now_millis(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn open_on(clock: Arc<HandClock>, recorder: Arc<Recorder>, tick: Duration) -> EventBridge {
    EventBridge::open(
        Storage::InMemory,
        Options {
            invoker: recorder,
            clock,
            schedule_tick: tick,
            ..Options::default()
        },
    )
    .unwrap()
}

const SWEEPER: &str = "arn:aws:lambda:us-east-1:123456789012:function:sweeper";

fn scheduled_rule(eb: &EventBridge, name: &str, expression: &str, target: Value) {
    call(
        eb,
        "PutRule",
        json!({"Name": name, "ScheduleExpression": expression}),
    )
    .unwrap();
    call(eb, "PutTargets", json!({"Rule": name, "Targets": [target]})).unwrap();
}

#[tokio::test]
async fn a_rate_rule_fires_a_scheduled_event_each_period_and_missed_periods_once() {
    let clock = Arc::new(HandClock::default());
    clock.advance(1_800_000_000_000);
    let rec = Arc::new(Recorder::default());
    let eb = open_on(clock.clone(), rec.clone(), Duration::from_secs(3600));
    scheduled_rule(
        &eb,
        "sweep",
        "rate(5 minutes)",
        json!({"Id": "fn", "Arn": SWEEPER}),
    );
    assert_eq!(eb.fire_due_schedules(), 0, "not before its first period");
    clock.advance(299_999);
    assert_eq!(eb.fire_due_schedules(), 0);
    clock.advance(1);
    assert_eq!(eb.fire_due_schedules(), 1);
    assert_eq!(eb.fire_due_schedules(), 0, "once per period");
    let (arn, event) = wait_for(|| rec.seen.lock().unwrap().first().cloned()).await;
    assert_eq!(arn, SWEEPER);
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(event["source"], "aws.events");
    assert_eq!(event["detail"], json!({}));
    assert_eq!(
        event["resources"],
        json!(["arn:aws:events:us-east-1:123456789012:rule/sweep"])
    );
    assert_eq!(event["time"], "2027-01-15T08:05:00Z");
    assert_eq!(event["account"], "123456789012");
    assert!(event["id"].as_str().is_some_and(|id| id.len() == 36));

    // An hour with nobody checking: one fire, then the period continues from its anchor.
    clock.advance(3_600_000 + 60_000);
    assert_eq!(eb.fire_due_schedules(), 1);
    clock.advance(180_000);
    assert_eq!(eb.fire_due_schedules(), 0);
    clock.advance(60_000);
    assert_eq!(eb.fire_due_schedules(), 1);
    wait_for(|| (rec.seen.lock().unwrap().len() == 3).then_some(())).await;
}

#[tokio::test]
async fn disabled_and_targetless_schedules_do_not_fire_and_targets_get_their_input() {
    let clock = Arc::new(HandClock::default());
    let rec = Arc::new(Recorder::default());
    let eb = open_on(clock.clone(), rec.clone(), Duration::from_secs(3600));
    call(
        &eb,
        "PutRule",
        json!({"Name": "bare", "ScheduleExpression": "rate(1 minute)"}),
    )
    .unwrap();
    scheduled_rule(
        &eb,
        "off",
        "rate(1 minute)",
        json!({"Id": "fn", "Arn": SWEEPER}),
    );
    call(&eb, "DisableRule", json!({"Name": "off"})).unwrap();
    scheduled_rule(
        &eb,
        "shaped",
        "cron(* * * * ? *)",
        json!({"Id": "fn", "Arn": SWEEPER, "InputTransformer": {
            "InputPathsMap": {"rule": "$.resources[0]", "type": "$.detail-type"},
            "InputTemplate": r#"{"rule": <rule>, "what": <type>}"#
        }}),
    );
    clock.advance(60_000);
    assert_eq!(eb.fire_due_schedules(), 1);
    let (_, input) = wait_for(|| rec.seen.lock().unwrap().first().cloned()).await;
    assert_eq!(
        input,
        json!({"rule": "arn:aws:events:us-east-1:123456789012:rule/shaped", "what": "Scheduled Event"})
    );
    // Enabled again, it fires at its next period.
    call(&eb, "EnableRule", json!({"Name": "off"})).unwrap();
    clock.advance(60_000);
    assert_eq!(eb.fire_due_schedules(), 2);
}

#[tokio::test]
async fn schedule_expressions_are_validated_and_only_the_default_bus_takes_them() {
    let eb = open(Arc::default());
    for bad in [
        "rate(5 minute)",
        "cron(0 12 * * * *)",
        "rate(5 seconds)",
        "daily",
    ] {
        let err = call(
            &eb,
            "PutRule",
            json!({"Name": "bad", "ScheduleExpression": bad}),
        )
        .unwrap_err();
        assert_eq!(
            err,
            (
                "ValidationException".to_string(),
                "Parameter ScheduleExpression is not valid.".to_string()
            ),
            "{bad}"
        );
    }
    call(&eb, "CreateEventBus", json!({"Name": "Serverlesspresso"})).unwrap();
    let err = call(
        &eb,
        "PutRule",
        json!({"Name": "s", "EventBusName": "Serverlesspresso", "ScheduleExpression": "rate(1 minute)"}),
    )
    .unwrap_err();
    assert_eq!(err.0, "ValidationException");
    assert!(
        call(&eb, "ListRules", json!({})).unwrap()["Rules"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn started_schedules_fire_on_their_own() {
    let clock = Arc::new(HandClock::default());
    let rec = Arc::new(Recorder::default());
    let eb = open_on(clock.clone(), rec.clone(), Duration::from_millis(5));
    scheduled_rule(
        &eb,
        "sweep",
        "rate(1 minute)",
        json!({"Id": "fn", "Arn": SWEEPER}),
    );
    clock.advance(60_000);
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert!(
        rec.seen.lock().unwrap().is_empty(),
        "not before the host starts them"
    );
    eb.start_schedules();
    eb.start_schedules();
    let (arn, _) = wait_for(|| rec.seen.lock().unwrap().first().cloned()).await;
    assert_eq!(arn, SWEEPER);
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(rec.seen.lock().unwrap().len(), 1, "one fire per period");
}
