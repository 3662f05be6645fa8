//! presso's DynamoDB endpoint, driven through the real Rust SDK (and once through the `aws`
//! CLI), compared with moto's server on the same requests.
//!
//! `scenarios.json` holds the hand-written sequences, one per feature; `randomized` generates
//! seeded sequences. Each step runs on both servers and the normalised answers must be equal,
//! except for steps marked with a deviation id from `crates/presso-dynamo/MOTO_DEVIATIONS.md`:
//! there presso is checked against the documented answer instead.

mod driver;
mod randomized;
mod support;

use aws_sdk_dynamodb::Client;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Expands `"$x*N"` strings (large values kept short in the scenario file).
fn expand(v: &Value) -> Value {
    match v {
        Value::String(s) => match s.strip_prefix("$x*").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => Value::String("x".repeat(n)),
            None => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(expand).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), expand(v))).collect()),
        other => other.clone(),
    }
}

fn sort_items(out: &mut Value) {
    if let Some(Value::Array(items)) = out.get_mut("Items") {
        items.sort_by_key(|v| v.to_string());
    }
}

/// Runs one step on one server, following pages when asked.
async fn run_step(c: &Client, step: &Value) -> Value {
    let op = step["op"].as_str().expect("op");
    let input = expand(&step["input"]);
    let unordered = step["unordered"].as_bool().unwrap_or(false);
    if op == "$segments" {
        return segments(c, &input).await;
    }
    if step["paginate"].as_bool().unwrap_or(false) {
        let mut pages = Vec::new();
        let mut all = Vec::new();
        let mut input = input.clone();
        for _ in 0..100 {
            let mut out = driver::run(c, op, &input).await;
            let lek = out["LastEvaluatedKey"].clone();
            if unordered {
                // Scan order is unspecified: compare page sizes and the union.
                if let Some(Value::Array(items)) = out.get("Items") {
                    all.extend(items.iter().cloned());
                }
                pages.push(json!({"ScannedCount": out["ScannedCount"], "more": !lek.is_null()}));
            } else {
                sort_items_if(&mut out, false);
                pages.push(out);
            }
            if lek.is_null() {
                break;
            }
            input["ExclusiveStartKey"] = lek;
        }
        all.sort_by_key(|v| v.to_string());
        drop_trailing_empty_page(&mut pages);
        return json!({"pages": pages, "items": all});
    }
    let mut out = driver::run(c, op, &input).await;
    if unordered {
        sort_items(&mut out);
        if out.get("LastEvaluatedKey").is_some() {
            out["LastEvaluatedKey"] = Value::Null;
        }
    }
    out
}

fn sort_items_if(out: &mut Value, yes: bool) {
    if yes {
        sort_items(out);
    }
}

/// A page that reached Limit may carry LastEvaluatedKey even when nothing follows (AWS
/// documents that a key "does not necessarily mean that there is more data"); servers differ
/// in whether they look ahead, so a final empty page and the key that led to it are dropped.
fn drop_trailing_empty_page(pages: &mut Vec<Value>) {
    let empty = |p: &Value| {
        p["Count"] == 0 && p["ScannedCount"] == 0 && p["LastEvaluatedKey"].is_null()
            || p["ScannedCount"] == 0 && p["more"] == false
    };
    if pages.len() > 1 && pages.last().is_some_and(empty) {
        pages.pop();
        if let Some(last) = pages.last_mut() {
            if last.get("LastEvaluatedKey").is_some() {
                last["LastEvaluatedKey"] = Value::Null;
            }
            if last.get("more").is_some() {
                last["more"] = Value::Bool(false);
            }
        }
    }
}

/// Scans every segment: together they must cover the table exactly once.
async fn segments(c: &Client, input: &Value) -> Value {
    let total = input["TotalSegments"].as_i64().expect("TotalSegments");
    let mut seen = Vec::new();
    for seg in 0..total {
        let mut i = input.clone();
        i["Segment"] = json!(seg);
        let out = driver::run(c, "Scan", &i).await;
        seen.extend(out["Items"].as_array().cloned().unwrap_or_default());
    }
    let distinct: BTreeSet<String> = seen.iter().map(|v| v.to_string()).collect();
    json!({"scanned": seen.len(), "distinct": distinct.into_iter().collect::<Vec<_>>()})
}

async fn reset(c: &Client) {
    let tables = c.list_tables().send().await.expect("list tables");
    for t in tables.table_names() {
        c.delete_table()
            .table_name(t)
            .send()
            .await
            .expect("delete table");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_written_scenarios_agree_with_moto_or_the_documentation() {
    let presso = support::spawn_presso().await;
    let moto = support::spawn_moto();
    let (p, m) = (
        support::client(&presso.endpoint),
        support::client(&moto.endpoint),
    );
    let scenarios: Value =
        serde_json::from_str(include_str!("scenarios.json")).expect("scenarios parse");
    let mut failures = Vec::new();
    let mut steps = 0;
    for scenario in scenarios.as_array().expect("list") {
        let name = scenario["name"].as_str().unwrap_or("?");
        reset(&p).await;
        reset(&m).await;
        for (n, step) in scenario["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .enumerate()
        {
            steps += 1;
            let ours = run_step(&p, step).await;
            let theirs = run_step(&m, step).await;
            if step.get("skip_compare").is_some() {
                continue;
            }
            if let Some(dev) = step.get("deviation") {
                let expected = expand(&step["expect"]);
                if ours != expected {
                    failures.push(format!(
                        "{name} step {n} ({dev}): presso {ours}\n  documented {expected}"
                    ));
                }
                continue;
            }
            if ours != theirs {
                failures.push(format!(
                    "{name} step {n} {} {}:\n  presso {ours}\n  moto   {theirs}",
                    step["op"],
                    truncate(&step["input"].to_string())
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {steps} steps differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn truncate(s: &str) -> String {
    s.chars().take(300).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_random_sequences_agree_with_moto() {
    let presso = support::spawn_presso().await;
    let moto = support::spawn_moto();
    let (p, m) = (
        support::client(&presso.endpoint),
        support::client(&moto.endpoint),
    );
    let mut failures = Vec::new();
    let mut total = 0;
    for seed in 0..6u64 {
        reset(&p).await;
        reset(&m).await;
        for (n, step) in randomized::sequence(seed, 120).iter().enumerate() {
            total += 1;
            let ours = run_step(&p, step).await;
            let theirs = run_step(&m, step).await;
            if ours != theirs {
                failures.push(format!(
                    "seed {seed} step {n} {}:\n  presso {ours}\n  moto   {theirs}",
                    truncate(&step.to_string())
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} random steps differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_creates_puts_and_queries() {
    support::ensure_python_tools();
    let presso = support::spawn_presso().await;
    let endpoint = presso.endpoint.clone();
    let aws = move |args: &[&str]| {
        let out = std::process::Command::new("python3")
            .args(["-m", "awscli", "dynamodb"])
            .args(args)
            .args(["--endpoint-url", &endpoint, "--output", "json"])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .expect("aws CLI runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let result = tokio::task::spawn_blocking(move || {
        let create = aws(&[
            "create-table",
            "--table-name",
            "Orders",
            "--attribute-definitions",
            "AttributeName=PK,AttributeType=S",
            "AttributeName=SK,AttributeType=N",
            "--key-schema",
            "AttributeName=PK,KeyType=HASH",
            "AttributeName=SK,KeyType=RANGE",
            "--billing-mode",
            "PAY_PER_REQUEST",
        ]);
        assert!(create.0, "create-table failed: {}", create.2);
        for sk in ["1", "2", "3"] {
            let item = format!(
                r#"{{"PK":{{"S":"event-1"}},"SK":{{"N":"{sk}"}},"drink":{{"S":"latte"}}}}"#
            );
            let put = aws(&["put-item", "--table-name", "Orders", "--item", &item]);
            assert!(put.0, "put-item failed: {}", put.2);
        }
        let dup = aws(&[
            "put-item",
            "--table-name",
            "Orders",
            "--item",
            r#"{"PK":{"S":"event-1"},"SK":{"N":"1"}}"#,
            "--condition-expression",
            "attribute_not_exists(PK)",
        ]);
        assert!(
            !dup.0 && dup.2.contains("ConditionalCheckFailedException"),
            "{}",
            dup.2
        );
        aws(&[
            "query",
            "--table-name",
            "Orders",
            "--key-condition-expression",
            "PK = :pk AND SK >= :from",
            "--expression-attribute-values",
            r#"{":pk":{"S":"event-1"},":from":{"N":"2"}}"#,
        ])
    })
    .await
    .expect("CLI steps");
    assert!(result.0, "query failed: {}", result.2);
    let out: Value = serde_json::from_str(&result.1).expect("query prints JSON");
    assert_eq!(out["Count"], 2);
    assert_eq!(out["Items"][0]["SK"]["N"], "2");
    assert_eq!(out["Items"][1]["drink"]["S"], "latte");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_decrementing_from_ten_succeed_exactly_ten_times() {
    let presso = support::spawn_presso().await;
    let c = support::client(&presso.endpoint);
    driver::run(
        &c,
        "CreateTable",
        &json!({"TableName": "Counter", "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}),
    )
    .await;
    let put = driver::run(
        &c,
        "PutItem",
        &json!({"TableName": "Counter", "Item": {"pk": {"S": "c"}, "n": {"N": "10"}}}),
    )
    .await;
    assert!(put.get("error").is_none(), "{put}");
    let mut tasks = Vec::new();
    for _ in 0..200 {
        // Separate clients, so requests travel on separate connections.
        let client = support::client(&presso.endpoint);
        tasks.push(tokio::spawn(async move {
            driver::run(
                &client,
                "UpdateItem",
                &json!({"TableName": "Counter", "Key": {"pk": {"S": "c"}},
                        "UpdateExpression": "SET n = n - :one", "ConditionExpression": "n > :zero",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}}}),
            )
            .await
        }));
    }
    let mut ok = 0;
    let mut failed = 0;
    for t in tasks {
        let out = t.await.expect("task");
        match out.get("error").and_then(Value::as_str) {
            None => ok += 1,
            Some("ConditionalCheckFailedException") => failed += 1,
            Some(other) => panic!("unexpected error {other}"),
        }
    }
    assert_eq!((ok, failed), (10, 190));
    let got = driver::run(
        &c,
        "GetItem",
        &json!({"TableName": "Counter", "Key": {"pk": {"S": "c"}}, "ConsistentRead": true}),
    )
    .await;
    assert_eq!(got["Item"]["n"]["N"], "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_of_presso_serve() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = support::PressoProcess::start(dir.path());
    let c = support::client(&server.endpoint);
    let create = driver::run(
        &c,
        "CreateTable",
        &json!({"TableName": "Durable", "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}),
    )
    .await;
    assert!(create.get("error").is_none(), "{create}");
    let mut acked = Vec::new();
    for i in 0..300 {
        let out = driver::run(
            &c,
            "PutItem",
            &json!({"TableName": "Durable", "Item": {"pk": {"S": format!("k{i}")}, "v": {"N": i.to_string()}}}),
        )
        .await;
        if out.get("error").is_none() {
            acked.push(i);
        }
    }
    let upd = driver::run(
        &c,
        "UpdateItem",
        &json!({"TableName": "Durable", "Key": {"pk": {"S": "k0"}}, "UpdateExpression": "ADD hits :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}}}),
    )
    .await;
    assert!(upd.get("error").is_none(), "{upd}");
    server.kill_9();
    let server = support::PressoProcess::start(dir.path());
    let c = support::client(&server.endpoint);
    for i in &acked {
        let got = driver::run(
            &c,
            "GetItem",
            &json!({"TableName": "Durable", "Key": {"pk": {"S": format!("k{i}")}}}),
        )
        .await;
        assert_eq!(
            got["Item"]["v"]["N"],
            json!(i.to_string()),
            "item k{i} lost after kill -9"
        );
    }
    assert_eq!(acked.len(), 300);
    let got = driver::run(
        &c,
        "GetItem",
        &json!({"TableName": "Durable", "Key": {"pk": {"S": "k0"}}}),
    )
    .await;
    assert_eq!(got["Item"]["hits"]["N"], "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presso_serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = support::PressoProcess::start(dir.path());
    let c = support::client(&server.endpoint);
    let listed = driver::run(&c, "ListTables", &json!({})).await;
    assert_eq!(listed["TableNames"], json!([]));
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .expect("terminate");
    assert!(
        status.is_some_and(|s| s.success()),
        "exit status {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_returns_when_its_shutdown_future_resolves() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(presso_local::run(
        listener,
        async {
            let _ = rx.await;
        },
        presso_local::Config::in_memory(),
    ));
    let c = support::client(&format!("http://{addr}"));
    let out = driver::run(&c, "ListTables", &json!({})).await;
    assert!(out.get("error").is_none(), "{out}");
    drop(c);
    tx.send(()).expect("signal");
    let result = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("run returns after shutdown")
        .expect("task");
    assert!(result.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_targets_get_an_aws_error_not_a_crash() {
    let presso = support::spawn_presso().await;
    let c = support::client(&presso.endpoint);
    // An operation this endpoint does not implement, through the SDK.
    let err = c
        .list_backups()
        .send()
        .await
        .expect_err("unsupported operation");
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    assert_eq!(err.code(), Some("UnknownOperationException"));
}

/// Sends one raw HTTP/1.1 request and returns the status and body.
async fn raw_post(endpoint: &str, target: &str, body: &[u8]) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = endpoint.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: {target}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("write");
    s.write_all(body).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_get_typed_client_errors_on_every_operation() {
    let presso = support::spawn_presso().await;
    let ops = [
        "CreateTable",
        "DescribeTable",
        "ListTables",
        "DeleteTable",
        "UpdateTable",
        "PutItem",
        "GetItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
    ];
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let bodies: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"[]".to_vec(),
        b"null".to_vec(),
        br#"{"TableName": 5}"#.to_vec(),
        br#"{"TableName": "T", "Item": {"a": {}}, "Key": {"a": {"S": "x", "N": "1"}}}"#.to_vec(),
        br#"{"TableName": "T", "Item": {"a": {"N": "not a number"}}, "Limit": -1, "Segment": 3}"#
            .to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        deep.into_bytes(),
    ];
    for op in ops {
        for body in &bodies {
            let (status, out) =
                raw_post(&presso.endpoint, &format!("DynamoDB_20120810.{op}"), body).await;
            // ListTables has no required member, so an object of unknown members is valid.
            if status == 200 && op == "ListTables" && body.first() == Some(&b'{') && body.len() > 1
            {
                continue;
            }
            assert_eq!(
                status,
                400,
                "{op} {:?}: {out}",
                String::from_utf8_lossy(body)
            );
            let ty = out["__type"].as_str().unwrap_or_default();
            assert!(
                ty.starts_with("com.amazonaws.dynamodb.v20120810#"),
                "{op}: {out}"
            );
        }
    }
    // The server still answers afterwards.
    let (status, _) = raw_post(&presso.endpoint, "DynamoDB_20120810.ListTables", b"{}").await;
    assert_eq!(status, 200);
}
