//! DynamoDB benchmark: presso side by side with moto's server on the same machine, same
//! operations, same number of client connections.
//!
//! 1. In process: acknowledged single-item writes per second straight into the store (a
//!    durable SQLite file, WAL, `synchronous=NORMAL`), from one thread and from two.
//! 2. Over the wire: PutItem, GetItem, conditional UpdateItem and a 100-item Query against a
//!    warm, long-lived `presso serve` process (durable data dir) and a warm, long-lived moto
//!    server, in alternating short rounds so both see the same background load, reporting
//!    ops/s, p50 and p99 per operation and the equal-parts mix.
//!
//! Clients speak plain HTTP/1.1 with keep-alive and prebuilt JSON bodies, so the client side
//! costs little; it still shares the two cores with the server it measures.
//!
//! Usage: `cargo run --profile bench -p presso-dynamo --example dynamo_bench -- [--seconds S]
//! [--clients C] [--presso PATH]` (`cargo xtask bench dynamo` builds the `presso` binary and runs
//! it). Only std and this crate's own dependencies are used, so the example builds quickly.

use presso_dynamo::Store;
use presso_dynamo::model::{CreateTableInput, GetItemInput, PutItemInput};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Args {
    seconds: f64,
    clients: usize,
    presso: String,
    in_process_writes: usize,
    wire: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        seconds: 6.0,
        clients: 4,
        presso: String::new(),
        in_process_writes: 100_000,
        wire: true,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--seconds" => a.seconds = v.parse().unwrap_or(a.seconds),
            "--clients" => a.clients = v.parse().unwrap_or(a.clients),
            "--presso" => a.presso = v,
            "--writes" => a.in_process_writes = v.parse().unwrap_or(a.in_process_writes),
            "--in-process-only" => {
                a.wire = false;
                i -= 1;
            }
            _ => {}
        }
        i += 2;
    }
    if a.presso.is_empty() {
        // The example sits next to the binary in the target profile directory.
        let exe = std::env::current_exe().unwrap_or_default();
        let dir = exe
            .parent()
            .and_then(|p| p.parent())
            .map(|p| p.to_path_buf())
            .unwrap_or_default();
        a.presso = dir.join("presso").display().to_string();
    }
    a
}

fn table_input(name: &str) -> CreateTableInput {
    serde_json::from_value(json!({
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST"
    }))
    .expect("table input")
}

fn payload() -> String {
    "x".repeat(100)
}

/// Acknowledged writes per second straight into the store.
fn in_process(writes: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store");
    store.create_table(table_input("Bench")).expect("table");
    let pay = payload();
    let put = |i: usize, t: usize| -> PutItemInput {
        serde_json::from_value(json!({"TableName": "Bench", "Item": {
            "pk": {"S": format!("t{t}-{i}")}, "sk": {"N": "0"}, "v": {"S": pay}, "n": {"N": i.to_string()}}}))
        .expect("put input")
    };
    // Inputs are built beforehand: the figure is the store's, not JSON building's.
    let mut figures = Vec::new();
    for threads in [1usize, 2, 8] {
        let per_thread = writes / threads;
        let inputs: Vec<Vec<PutItemInput>> = (0..threads)
            .map(|t| (0..per_thread).map(|i| put(i, t)).collect())
            .collect();
        let started = Instant::now();
        std::thread::scope(|s| {
            for batch in inputs {
                let store = store.clone();
                s.spawn(move || {
                    for input in batch {
                        store.put_item(input).expect("put");
                    }
                });
            }
        });
        figures.push((
            threads,
            (per_thread * threads) as f64 / started.elapsed().as_secs_f64(),
        ));
    }
    let gets: Vec<GetItemInput> = (0..writes)
        .map(|i| {
            serde_json::from_value(json!({"TableName": "Bench", "Key": {"pk": {"S": format!("t0-{}", i % (writes / 8))}, "sk": {"N": "0"}}}))
                .expect("get input")
        })
        .collect();
    let started = Instant::now();
    for g in gets {
        store.get_item(g).expect("get");
    }
    let reads = writes as f64 / started.elapsed().as_secs_f64();
    println!(
        "in-process store (durable file, WAL, synchronous=NORMAL), {writes} items of ~130 bytes:"
    );
    for (threads, rate) in figures {
        println!("  PutItem, {threads} writer thread(s): {rate:>10.0} acknowledged writes/s");
    }
    println!("  GetItem, 1 reader thread   : {reads:>10.0} reads/s");
}

/// A keep-alive HTTP/1.1 connection that reconnects when the server closes it.
struct Conn {
    addr: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    fn new(addr: &str) -> Conn {
        Conn {
            addr: addr.to_string(),
            stream: None,
        }
    }

    fn call(&mut self, target: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.addr)?;
            s.set_nodelay(true)?;
            self.stream = Some(BufReader::new(s));
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(std::io::Error::other("no connection"));
        };
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.{target}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        stream.get_mut().write_all(&request)?;
        let mut line = String::new();
        stream.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        let mut close = line.starts_with("HTTP/1.0");
        loop {
            line.clear();
            stream.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("connection:") && lower.contains("close") {
                close = true;
            }
        }
        let mut out = vec![0u8; length];
        stream.read_exact(&mut out)?;
        if close {
            self.stream = None;
        }
        Ok((status, out))
    }
}

#[derive(Clone, Copy)]
enum Op {
    Put,
    Get,
    CondUpdate,
    Query100,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Put => "PutItem",
            Op::Get => "GetItem",
            Op::CondUpdate => "UpdateItem (conditional)",
            Op::Query100 => "Query (100 items)",
        }
    }

    fn target(self) -> &'static str {
        match self {
            Op::Put => "PutItem",
            Op::Get => "GetItem",
            Op::CondUpdate => "UpdateItem",
            Op::Query100 => "Query",
        }
    }

    /// The request body, formatted directly: the client should cost the shared cores as
    /// little as possible.
    fn body(self, client: usize, i: usize) -> Vec<u8> {
        let text = match self {
            Op::Put => format!(
                r#"{{"TableName":"Bench","Item":{{"pk":{{"S":"w{client}-{i}"}},"sk":{{"N":"0"}},"v":{{"S":"{}"}}}}}}"#,
                PAYLOAD
            ),
            Op::Get => format!(
                r#"{{"TableName":"Bench","Key":{{"pk":{{"S":"q"}},"sk":{{"N":"{}"}}}}}}"#,
                i % 100
            ),
            Op::CondUpdate => format!(
                r#"{{"TableName":"Bench","Key":{{"pk":{{"S":"c{client}"}},"sk":{{"N":"0"}}}},"UpdateExpression":"SET n = n + :one","ConditionExpression":"attribute_exists(pk) AND n >= :zero","ExpressionAttributeValues":{{":one":{{"N":"1"}},":zero":{{"N":"0"}}}}}}"#
            ),
            Op::Query100 => r#"{"TableName":"Bench","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"q"}}}"#.to_string(),
        };
        text.into_bytes()
    }
}

const PAYLOAD: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

struct Stats {
    ops_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
}

fn setup(addr: &str, clients: usize) {
    let mut c = Conn::new(addr);
    let create = json!({
        "TableName": "Bench",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST"});
    let (status, body) = c
        .call("CreateTable", create.to_string().as_bytes())
        .expect("create table");
    assert!(
        status == 200,
        "CreateTable: {}",
        String::from_utf8_lossy(&body)
    );
    for i in 0..100 {
        let put = json!({"TableName": "Bench", "Item": {"pk": {"S": "q"}, "sk": {"N": i.to_string()}, "v": {"S": payload()}}});
        c.call("PutItem", put.to_string().as_bytes())
            .expect("preload");
    }
    for client in 0..clients {
        let put = json!({"TableName": "Bench", "Item": {"pk": {"S": format!("c{client}")}, "sk": {"N": "0"}, "n": {"N": "0"}}});
        c.call("PutItem", put.to_string().as_bytes())
            .expect("preload counter");
    }
    let (_, body) = c.call("Query", &Op::Query100.body(0, 0)).expect("query");
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    assert_eq!(v["Count"], 100, "the query returns 100 items");
}

/// One timed round against one server: all latencies (µs) and the round's ops/s.
fn measure_round(
    addr: &str,
    op: Op,
    clients: usize,
    seconds: f64,
    round: usize,
) -> (Vec<f64>, f64) {
    let deadline = Duration::from_secs_f64(seconds);
    let results: Vec<(Vec<f64>, f64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|client| {
                scope.spawn(move || {
                    let mut c = Conn::new(addr);
                    // Warm-up, then the timed run.
                    for i in 0..20 {
                        let _ = c.call(op.target(), &op.body(client, 1_000_000 + i));
                    }
                    let mut lat = Vec::with_capacity(4096);
                    let t0 = Instant::now();
                    let mut i = 0;
                    while t0.elapsed() < deadline {
                        // Rounds write distinct keys, so every PutItem creates a new item.
                        let body = op.body(client, round * 10_000_000 + i);
                        let s = Instant::now();
                        let (status, resp) = c.call(op.target(), &body).expect("request");
                        assert!(
                            status == 200,
                            "{} failed: {}",
                            op.name(),
                            String::from_utf8_lossy(&resp)
                        );
                        lat.push(s.elapsed().as_secs_f64() * 1e6);
                        i += 1;
                    }
                    (lat, t0.elapsed().as_secs_f64())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client"))
            .collect()
    });
    let mut all = Vec::new();
    let mut ops_per_sec = 0.0;
    for (lat, secs) in results {
        ops_per_sec += lat.len() as f64 / secs;
        all.extend(lat);
    }
    (all, ops_per_sec)
}

fn stats(mut all: Vec<f64>, rates: &[f64]) -> Stats {
    all.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    Stats {
        ops_per_sec: rates.iter().sum::<f64>() / rates.len().max(1) as f64,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
    }
}

/// Alternates short rounds on the two servers so that both see the same background load
/// (this machine is shared), then pools each server's rounds.
fn compare(presso: &str, moto: &str, op: Op, clients: usize, seconds: f64) -> (Stats, Stats) {
    const ROUNDS: usize = 6;
    let per_round = seconds / ROUNDS as f64;
    let (mut p_lat, mut m_lat, mut p_rates, mut m_rates) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (lat, rate) = measure_round(presso, op, clients, per_round, round);
        p_lat.extend(lat);
        p_rates.push(rate);
        let (lat, rate) = measure_round(moto, op, clients, per_round, round);
        m_lat.extend(lat);
        m_rates.push(rate);
    }
    (stats(p_lat, &p_rates), stats(m_lat, &m_rates))
}

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_presso(bin: &str, dir: &std::path::Path) -> Server {
    let mut child = Command::new(bin)
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn,presso_local=info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let stderr = child.stderr.take().expect("stderr");
    let mut addr = String::new();
    for line in std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
    {
        if let Some(pos) = line.find("accepting requests on http://") {
            addr = line[pos + "accepting requests on http://".len()..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            break;
        }
    }
    assert!(!addr.is_empty(), "presso did not log its endpoint");
    Server { child, addr }
}

fn start_moto() -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
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
        .expect("moto's server starts (pip install -r .ci/requirements.txt)");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child,
        addr: format!("127.0.0.1:{port}"),
    }
}

fn main() {
    let args = parse_args();
    in_process(args.in_process_writes);
    if !args.wire {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let presso = start_presso(&args.presso, dir.path());
    let moto = start_moto();
    {
        setup(&presso.addr, args.clients);
        setup(&moto.addr, args.clients);
        println!(
            "\nover the wire, {} clients, {} s per operation and server in alternating rounds (presso: durable data dir; moto's server):",
            args.clients, args.seconds
        );
        println!(
            "  {:<26} {:>10} {:>9} {:>9} | {:>8} {:>9} {:>9} | {:>7}",
            "operation", "presso/s", "p50 µs", "p99 µs", "moto/s", "p50 µs", "p99 µs", "ratio"
        );
        // Time per operation, summed over one of each: the equal-parts mix.
        let (mut presso_mix, mut moto_mix) = (0.0, 0.0);
        for op in [Op::Put, Op::Get, Op::CondUpdate, Op::Query100] {
            let (p, m) = compare(&presso.addr, &moto.addr, op, args.clients, args.seconds);
            presso_mix += 1.0 / p.ops_per_sec.max(f64::MIN_POSITIVE);
            moto_mix += 1.0 / m.ops_per_sec.max(f64::MIN_POSITIVE);
            println!(
                "  {:<26} {:>10.0} {:>9.0} {:>9.0} | {:>8.0} {:>9.0} {:>9.0} | {:>6.1}x",
                op.name(),
                p.ops_per_sec,
                p.p50_us,
                p.p99_us,
                m.ops_per_sec,
                m.p50_us,
                m.p99_us,
                p.ops_per_sec / m.ops_per_sec.max(f64::MIN_POSITIVE)
            );
        }
        let (p, m) = (4.0 / presso_mix, 4.0 / moto_mix);
        println!(
            "  {:<26} {:>10.0} {:>9} {:>9} | {:>8.0} {:>9} {:>9} | {:>6.1}x",
            "mix (equal parts)",
            p,
            "",
            "",
            m,
            "",
            "",
            p / m
        );
    }
}
