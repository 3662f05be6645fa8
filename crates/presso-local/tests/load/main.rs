//! Under load, through the `presso` binary with the project's template and durable storage:
//! the order robot's journeys, a `kill -9` in the middle of a run, and races (many scans of one
//! code, capacity, double clicks).
//!
//! The short versions run here; `cargo xtask soak` runs them longer.

use presso_robot::client::{Endpoint, User};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Seconds of load around the crash (`PRESSO_SOAK_SECONDS` makes it longer).
fn load_seconds() -> f64 {
    std::env::var("PRESSO_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0)
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// The `presso` binary serving the template from a data directory on a fixed port.
struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Server {
    fn start(dir: &Path, port: u16) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_presso"))
            .current_dir(repo_root())
            .args(["serve", "--template", "template.yaml", "--port"])
            .arg(port.to_string())
            .arg("--data-dir")
            .arg(dir)
            .args([
                "--parameter-overrides",
                "AdminEmail=barista@example.com",
                "SesIdentityArn=arn:aws:ses:us-east-1:000000000000:identity/example.com",
                "SesFromAddress=coffee@example.com",
            ])
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("presso starts");
        let s = Server {
            child,
            port,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if ready(port) {
                return s;
            }
            assert!(Instant::now() < deadline, "presso did not start");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `kill -9`, then a new presso on the same port and data.
    fn crash_and_restart(&mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
        let restarted = Server::start(&self.dir, self.port);
        *self = restarted;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET /config.json` answers 200 (a blocking probe: presso may start before any runtime).
fn ready(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.write_all(b"GET /config.json HTTP/1.1\r\nhost: presso\r\nconnection: close\r\n\r\n");
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.1 200")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The people: the template's barista and `n` customers, made with the admin calls.
async fn people(e: &Endpoint, n: usize, prefix: &str) -> (User, Vec<User>) {
    let robot = e.client_id("serverlesspresso-robot").await.unwrap();
    let barista = e
        .admin_user(&robot, "barista@example.com", "Bea", true)
        .await
        .unwrap();
    let mut customers = Vec::new();
    for i in 0..n {
        customers.push(
            e.admin_user(&robot, &format!("{prefix}-{i}@example.com"), "Cy", false)
                .await
                .unwrap(),
        );
    }
    (barista, customers)
}

async fn call(
    e: &Endpoint,
    m: Method,
    path: &str,
    who: &User,
    body: Option<Value>,
) -> (u16, Value) {
    match e.call(m, path, Some(&who.id_token), body.as_ref()).await {
        Ok(a) => (a.status, a.body),
        Err(_) => (0, Value::Null),
    }
}

async fn configure(e: &Endpoint, barista: &User, update: Value) {
    let (s, b) = call(
        e,
        Method::PUT,
        "/events/default/config",
        barista,
        Some(update),
    )
    .await;
    assert_eq!(s, 200, "{b}");
}

async fn code(e: &Endpoint, barista: &User) -> String {
    let (s, b) = call(e, Method::GET, "/qr-code?eventId=default", barista, None).await;
    assert_eq!(s, 200, "{b}");
    b["bucket"]["code"].as_str().unwrap().to_string()
}

/// Every item of a table, over the DynamoDB wire protocol.
async fn scan(url: &str, table: &str) -> Vec<Value> {
    let http = reqwest::Client::new();
    let mut items = Vec::new();
    let mut start: Option<Value> = None;
    loop {
        let mut body = json!({"TableName": table});
        if let Some(k) = start.take() {
            body["ExclusiveStartKey"] = k;
        }
        let v: Value = http
            .post(url)
            .header("x-amz-target", "DynamoDB_20120810.Scan")
            .header("content-type", "application/x-amz-json-1.0")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        items.extend(v["Items"].as_array().cloned().unwrap_or_default());
        match v.get("LastEvaluatedKey") {
            Some(k) if !k.is_null() => start = Some(k.clone()),
            _ => return items,
        }
    }
}

/// The order items (not journey entries): order id → (state, number).
async fn orders(url: &str) -> Vec<(String, String, Option<i64>)> {
    scan(url, "serverlesspresso-order-table")
        .await
        .into_iter()
        .filter(|i| i["SK"]["S"] == "ORDER")
        .map(|i| {
            (
                i["PK"]["S"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("ORDER#")
                    .to_string(),
                i["state"]["S"].as_str().unwrap_or_default().to_string(),
                i["orderNumber"]["N"].as_str().and_then(|n| n.parse().ok()),
            )
        })
        .collect()
}

async fn holders(url: &str) -> Vec<String> {
    scan(url, "serverlesspresso-counting-table")
        .await
        .into_iter()
        .find(|i| i["PK"]["S"] == "capacity-default")
        .and_then(|i| i["holders"]["SS"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

async fn in_queue(url: &str) -> i64 {
    scan(url, "serverlesspresso-counting-table")
        .await
        .into_iter()
        .find(|i| i["PK"]["S"] == "capacity-default")
        .and_then(|i| i["holders"]["SS"].as_array().map(|a| a.len() as i64))
        .unwrap_or(0)
}

async fn advance(url: &str, seconds: f64) {
    let r = reqwest::Client::new()
        .post(format!("{url}/_presso/clock"))
        .json(&json!({"advanceSeconds": seconds}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

const FINAL: [&str; 5] = ["completed", "cancelled", "timedOut", "rejected", "failed"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_robot_plays_whole_journeys_and_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), free_port());
    let mut o = presso_robot::Options::new(&server.url());
    o.rate = 20.0;
    o.duration = 2.0;
    o.customers = 5;
    o.orders_per_customer = 4;
    o.raise_limits = true;
    o.report = dir.path().join("report.json");
    let report = presso_robot::run(o).await.unwrap();
    assert_eq!(report.started, 40);
    assert_eq!(report.finished, 40, "{}", report.table());
    assert_eq!(report.failed, 0, "{}", report.table());
    for step in [
        "scan",
        "submit",
        "make",
        "complete",
        "journey",
        "completeToCustomer",
        "completeToDisplay",
    ] {
        assert_eq!(report.latency[step].count, 40, "{step}: {}", report.table());
    }
    // Scan, drink, make, complete per journey.
    assert_eq!(report.api_calls, 160);
    let written: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(written["finished"], 40);
    // Every order the robot placed ended completed, each with its own number.
    let all = orders(&server.url()).await;
    assert_eq!(all.len(), 40);
    assert!(all.iter().all(|(_, s, _)| s == "completed"), "{all:?}");
    let numbers: HashSet<_> = all.iter().filter_map(|(_, _, n)| *n).collect();
    assert_eq!(numbers.len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_under_load_loses_and_duplicates_no_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), free_port());
    let e = Endpoint::connect(&server.url()).await.unwrap();
    let (barista, customers) = people(&e, 8, "crash").await;
    configure(
        &e,
        &barista,
        json!({"drinksPerBarcode": 1000, "maxOrdersInQueue": 10000, "maxOrdersPerUser": 100}),
    )
    .await;
    let code = Arc::new(code(&e, &barista).await);

    // Customers scan and order; the barista makes and completes what is queued. Every order
    // whose scan answered 200 was promised to someone.
    let promised = Arc::new(Mutex::new(HashSet::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for c in customers.clone() {
        let (e, code, promised, stop) = (e.clone(), code.clone(), promised.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let path = format!("/qr-code?eventId=default&token={code}");
                let (s, b) = call(&e, Method::POST, &path, &c, None).await;
                if s != 200 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                let id = b["orderId"].as_str().unwrap().to_string();
                promised.lock().unwrap().insert(id.clone());
                let drink = json!({"drink": "Americano", "modifiers": []});
                let _ = call(&e, Method::PUT, &format!("/orders/{id}"), &c, Some(drink)).await;
            }
        }));
    }
    let barista_loop = |e: Endpoint, barista: User, stop: Arc<AtomicBool>| async move {
        while !stop.load(Ordering::Relaxed) {
            work_the_queue(&e, &barista).await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    load.push(tokio::spawn(barista_loop(
        e.clone(),
        barista.clone(),
        stop.clone(),
    )));

    let half = Duration::from_secs_f64(load_seconds() / 2.0);
    tokio::time::sleep(half).await;
    let before_crash = promised.lock().unwrap().len();
    server.crash_and_restart();
    tokio::time::sleep(half).await;
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.await.unwrap();
    }
    let promised = promised.lock().unwrap().clone();
    assert!(before_crash > 0, "no order before the crash");
    assert!(promised.len() > before_crash, "no order after the restart");

    // Drain: the barista finishes the queue; whatever is left times out on presso's clock, and an
    // order the crash cut off from its workflow is failed by the scheduled sweep.
    work_the_queue(&e, &barista).await;
    advance(&server.url(), 16.0 * 60.0).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let all = loop {
        work_the_queue(&e, &barista).await;
        let all = orders(&server.url()).await;
        let mut open = Vec::new();
        for (id, s, n) in &all {
            if !FINAL.contains(&s.as_str()) {
                open.push((id, s, n));
            }
        }
        if open.is_empty() {
            break all;
        }
        if Instant::now() >= deadline {
            let mut why = Vec::new();
            for (id, _, _) in &open {
                let journey: Vec<String> = scan(&server.url(), "serverlesspresso-order-table")
                    .await
                    .into_iter()
                    .filter(|i| i["PK"]["S"] == format!("ORDER#{id}") && i["SK"]["S"] != "ORDER")
                    .map(|i| i["SK"]["S"].as_str().unwrap_or_default().to_string())
                    .collect();
                why.push(format!(
                    "{id} promised={} journey={journey:?}",
                    promised.contains(*id)
                ));
            }
            panic!(
                "orders never reached a final state: {open:?}\n{}",
                why.join("\n")
            );
        }
        advance(&server.url(), 16.0 * 60.0).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // No promised order lost; none duplicated; numbers unique; capacity all given back.
    let ids: Vec<&String> = all.iter().map(|(id, _, _)| id).collect();
    let unique: HashSet<&String> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "an order is stored twice");
    for id in &promised {
        assert!(unique.contains(id), "order {id} was promised and lost");
    }
    let mut numbers: HashMap<i64, &String> = HashMap::new();
    for (id, _, n) in &all {
        if let Some(n) = n {
            assert!(
                numbers.insert(*n, id).is_none(),
                "order number {n} given twice"
            );
        }
    }
    let holders = holders(&server.url()).await;
    let held: Vec<_> = all
        .iter()
        .filter(|(id, _, _)| holders.contains(id))
        .collect();
    assert!(
        holders.is_empty(),
        "capacity leaked across the crash: {holders:?} held by {held:?}"
    );
    let completed = all.iter().filter(|(_, s, _)| s == "completed").count();
    assert!(completed > 0, "{all:?}");
}

/// The barista makes and completes every queued order (errors are retried by the next pass).
async fn work_the_queue(e: &Endpoint, barista: &User) {
    let (s, list) = call(
        e,
        Method::GET,
        "/orders?eventId=default&state=queued",
        barista,
        None,
    )
    .await;
    if s != 200 {
        return;
    }
    for o in list.as_array().cloned().unwrap_or_default() {
        let id = o["orderId"].as_str().unwrap_or_default();
        let _ = call(
            e,
            Method::PUT,
            &format!("/orders/{id}?action=make"),
            barista,
            None,
        )
        .await;
        let _ = call(
            e,
            Method::PUT,
            &format!("/orders/{id}?action=complete"),
            barista,
            None,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_scans_of_a_ten_drink_code_make_exactly_ten_orders() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), free_port());
    let e = Endpoint::connect(&server.url()).await.unwrap();
    let (barista, customers) = people(&e, 50, "race").await;
    // Ten drinks per code (the default); many orders per customer, so only the code limits.
    configure(
        &e,
        &barista,
        json!({"drinksPerBarcode": 10, "maxOrdersPerUser": 100}),
    )
    .await;
    let code = code(&e, &barista).await;
    let mut scans = Vec::new();
    for i in 0..1000 {
        let (e, c, code) = (
            e.clone(),
            customers[i % customers.len()].clone(),
            code.clone(),
        );
        scans.push(tokio::spawn(async move {
            call(
                &e,
                Method::POST,
                &format!("/qr-code?eventId=default&token={code}"),
                &c,
                None,
            )
            .await
        }));
    }
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for s in scans {
        let (status, body) = s.await.unwrap();
        if status != 200 {
            assert_eq!(body["code"], "no_tokens_remaining", "{status} {body}");
        }
        *by_status.entry(status).or_default() += 1;
    }
    assert_eq!(by_status.get(&200), Some(&10), "{by_status:?}");
    assert_eq!(by_status.get(&429), Some(&990), "{by_status:?}");
    assert_eq!(orders(&server.url()).await.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_is_never_exceeded_and_double_clicks_change_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), free_port());
    let e = Endpoint::connect(&server.url()).await.unwrap();
    let (barista, customers) = people(&e, 12, "cap").await;
    configure(
        &e,
        &barista,
        json!({"maxOrdersInQueue": 5, "drinksPerBarcode": 100}),
    )
    .await;
    let code = code(&e, &barista).await;
    // Twelve customers order at once; five may hold capacity.
    let mut tasks = Vec::new();
    for c in customers.clone() {
        let (e, code) = (e.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            let (s, b) = call(
                &e,
                Method::POST,
                &format!("/qr-code?eventId=default&token={code}"),
                &c,
                None,
            )
            .await;
            assert_eq!(s, 200, "{b}");
            let id = b["orderId"].as_str().unwrap().to_string();
            let drink = json!({"drink": "Americano", "modifiers": []});
            let path = format!("/orders/{id}");
            let (a, b) = tokio::join!(
                call(&e, Method::PUT, &path, &c, Some(drink.clone())),
                call(&e, Method::PUT, &path, &c, Some(drink)),
            );
            (id, a, b)
        }));
    }
    let mut submitted = HashMap::new();
    for t in tasks {
        let (id, a, b) = t.await.unwrap();
        submitted.insert(id, (a, b));
    }
    // Wait until every workflow decided: queued, or rejected for capacity.
    let deadline = Instant::now() + Duration::from_secs(20);
    let all = loop {
        let all = orders(&server.url()).await;
        if all.iter().all(|(_, s, _)| s == "queued" || s == "rejected") {
            break all;
        }
        assert!(Instant::now() < deadline, "{all:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let queued: Vec<_> = all.iter().filter(|(_, s, _)| s == "queued").collect();
    assert_eq!(queued.len(), 5, "{all:?}");
    // A double-clicked submit: the order went on once; a rejected order refused both.
    for (id, state, _) in &all {
        let (a, b) = &submitted[id];
        if state == "queued" {
            assert!(a.0 == 200 || b.0 == 200, "{a:?} {b:?}");
        } else {
            // Rejected for capacity, before or after its drink arrived.
            assert_eq!(state, "rejected");
            for r in [a, b] {
                assert!(r.0 == 200 || r.1["code"] == "order_finished", "{r:?}");
            }
        }
    }
    assert_eq!(in_queue(&server.url()).await, 5);
    // The barista double-clicks make and complete on one order: one of each takes effect.
    let id = queued[0].0.clone();
    let make = format!("/orders/{id}?action=make");
    let (a, b) = tokio::join!(
        call(&e, Method::PUT, &make, &barista, None),
        call(&e, Method::PUT, &make, &barista, None),
    );
    assert!(a.0 == 200 || b.0 == 200, "{a:?} {b:?}");
    let complete = format!("/orders/{id}?action=complete");
    let (a, b) = tokio::join!(
        call(&e, Method::PUT, &complete, &barista, None),
        call(&e, Method::PUT, &complete, &barista, None),
    );
    assert!(a.0 == 200 || b.0 == 200, "{a:?} {b:?}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, journey) = call(
            &e,
            Method::GET,
            &format!("/orders/{id}/journey"),
            &barista,
            None,
        )
        .await;
        let kinds: Vec<String> = journey
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|j| j["detailType"].as_str().unwrap_or_default().to_string())
            .collect();
        // Two separate events, recorded in either order.
        if kinds.iter().any(|k| k == "OrderProcessor.orderFinished")
            && kinds.iter().any(|k| k == "OrderManager.OrderCompleted")
        {
            for k in [
                "OrderManager.OrderSubmitted",
                "OrderManager.MakeOrder",
                "OrderManager.OrderCompleted",
                "OrderProcessor.orderFinished",
            ] {
                assert_eq!(
                    kinds.iter().filter(|x| *x == k).count(),
                    1,
                    "{k} in {kinds:?}"
                );
            }
            break;
        }
        assert!(Instant::now() < deadline, "{kinds:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The finished order gave its capacity back, once.
    let deadline = Instant::now() + Duration::from_secs(10);
    while in_queue(&server.url()).await != 4 {
        assert!(
            Instant::now() < deadline,
            "capacity not given back exactly once"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
