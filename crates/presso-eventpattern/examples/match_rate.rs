//! Prints how many events per second one core matches against 50 rules, the load `PutEvents` puts
//! on the local event bus. Run it with `cargo run --profile local -p presso-eventpattern --example match_rate`.
//!
//! The rules mix every operator the way real buses do: most rules filter on `source` and
//! `detail-type` first, some add content filters on `detail`. Two figures are printed: matching
//! events that are already parsed, and parsing each event's JSON text first (what a bus does with a
//! `PutEvents` entry).

use std::hint::black_box;
use std::time::{Duration, Instant};

use presso_eventpattern::Pattern;
use serde_json::{Value, json};

const RULES: usize = 50;
const RUN_FOR: Duration = Duration::from_secs(2);

fn rules() -> Vec<Pattern> {
    let detail_types = [
        "OrderManager.WaitingCompletion",
        "OrderManager.OrderCompleted",
        "OrderManager.OrderCancelled",
        "OrderProcessor.WorkflowStarted",
        "OrderProcessor.OrderTimeOut",
        "Validator.NewOrder",
        "ConfigService.ConfigChanged",
    ];
    let mut patterns = Vec::with_capacity(RULES);
    for i in 0..RULES {
        let detail_type = detail_types[i % detail_types.len()];
        let pattern = match i % 10 {
            0 => {
                json!({"source": ["awsserverlessda.serverlesspresso"], "detail-type": [detail_type]})
            }
            1 => {
                json!({"source": ["awsserverlessda.serverlesspresso"], "detail-type": [{"prefix": "OrderManager."}]})
            }
            2 => {
                json!({"source": [{"suffix": ".serverlesspresso"}], "detail": {"eventId": [format!("event-{i}")]}})
            }
            3 => {
                json!({"detail-type": [{"equals-ignore-case": detail_type}], "detail": {"drink": [{"anything-but": ["Espresso", "Mocha"]}]}})
            }
            4 => {
                json!({"source": ["awsserverlessda.serverlesspresso"], "detail": {"orderNumber": [{"numeric": [">", 0, "<=", 100 + i]}]}})
            }
            5 => {
                json!({"detail-type": [{"wildcard": "Order*Completed"}], "detail": {"userId": [{"exists": true}]}})
            }
            6 => json!({"source": ["awsserverlessda.serverlesspresso"], "$or": [
                {"detail": {"state": ["COMPLETED"]}},
                {"detail": {"state": ["CANCELLED"], "reason": [{"exists": false}]}}
            ]}),
            7 => json!({"source": ["aws.ec2"], "detail": {"state": ["terminated"]}}),
            8 => {
                json!({"resources": [{"prefix": "arn:aws:states:"}], "detail": {"sourceIp": [{"cidr": "10.0.0.0/8"}]}})
            }
            _ => {
                json!({"source": ["awsserverlessda.serverlesspresso"], "detail-type": [detail_type],
                        "detail": {"eventId": ["default"], "modifiers": [{"anything-but": {"prefix": "extra-"}}]}})
            }
        };
        match Pattern::from_value(&pattern) {
            Ok(p) => patterns.push(p),
            Err(e) => {
                eprintln!("rule {i} is invalid: {e}");
                std::process::exit(1);
            }
        }
    }
    patterns
}

fn events() -> Vec<String> {
    let kinds = [
        "OrderManager.WaitingCompletion",
        "OrderManager.OrderCompleted",
        "OrderProcessor.WorkflowStarted",
        "Validator.NewOrder",
    ];
    let drinks = ["Latte", "Espresso", "Cappuccino", "Mocha"];
    let states = ["COMPLETED", "CANCELLED", "READY"];
    (0..64)
        .map(|i| {
            json!({
                "version": "0",
                "id": format!("5c9a2d5f-0000-4000-8000-{i:012}"),
                "detail-type": kinds[i % kinds.len()],
                "source": "awsserverlessda.serverlesspresso",
                "account": "123456789012",
                "time": "2026-11-23T10:00:00Z",
                "region": "us-east-1",
                "resources": ["arn:aws:states:us-east-1:123456789012:execution:OrderProcessor:abc"],
                "detail": {
                    "orderId": format!("01HZX{i:08}"),
                    "eventId": "default",
                    "userId": "1f2e3d4c-aaaa-bbbb-cccc-0123456789ab",
                    "orderNumber": i + 1,
                    "drink": drinks[i % drinks.len()],
                    "modifiers": ["Oat milk", "Extra shot"],
                    "state": states[i % states.len()],
                    "sourceIp": format!("10.1.2.{}", i % 250),
                    "TaskToken": "AQCEAAAAKgAAAAMAAAAAAAAAAf0example"
                }
            })
            .to_string()
        })
        .collect()
}

/// Runs `one` (which matches one event and returns how many rules matched) for a while; returns events
/// per second and the average number of matching rules per event.
fn measure(mut one: impl FnMut(usize) -> usize) -> (f64, f64) {
    // Warm up caches and the branch predictor before timing.
    for i in 0..10_000 {
        black_box(one(i));
    }
    let start = Instant::now();
    let mut done = 0usize;
    let mut matched = 0usize;
    while start.elapsed() < RUN_FOR {
        for _ in 0..1000 {
            matched += one(done);
            done += 1;
        }
    }
    (
        done as f64 / start.elapsed().as_secs_f64(),
        matched as f64 / done as f64,
    )
}

fn main() {
    let rules = rules();
    let texts = events();
    let parsed: Vec<Value> = texts
        .iter()
        .map(|t| serde_json::from_str(t).unwrap_or(Value::Null))
        .collect();
    let match_all = |event: &Value| rules.iter().filter(|r| r.matches(event)).count();

    let (rate, per_event) = measure(|i| match_all(black_box(&parsed[i % parsed.len()])));
    println!(
        "{RULES} rules, parsed events:      {rate:>12.0} events/s ({per_event:.2} matching rules per event)"
    );

    let (rate, _) = measure(|i| {
        let event: Value =
            serde_json::from_str(black_box(&texts[i % texts.len()])).unwrap_or(Value::Null);
        match_all(&event)
    });
    println!("{RULES} rules, parse + match JSON: {rate:>12.0} events/s");
}
