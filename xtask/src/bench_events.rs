//! `cargo xtask bench events`: EventBridge `PutEvents` over the wire against 50 rules.
//!
//! Builds `presso` with the bench profile, starts `presso serve --port 0` (in memory, then with a
//! data directory), creates a bus with 50 rules (each matching one detail-type with a numeric
//! condition on the detail, each with a log target), and sends `PutEvents` batches of 10 events
//! from several keep-alive connections for a few seconds. Every event matches exactly one rule,
//! so every event is one delivery to a log target. Reports accepted events per second, the p50
//! and p99 latency of a batch, and how long the deliveries took to drain after the last batch.
//!
//! Arguments: `--seconds N` (default 5), `--clients N` (default 4).

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RULES: usize = 50;
const BATCH: usize = 10;

pub fn run(args: &[String]) -> Result<()> {
    let mut seconds = 5u64;
    let mut clients = 4usize;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => seconds = it.next().context("--seconds N")?.parse()?,
            "--clients" => clients = it.next().context("--clients N")?.parse()?,
            other => bail!("unknown argument {other}"),
        }
    }
    crate::util::run(
        "cargo",
        &[
            "build",
            "--quiet",
            "--profile",
            "bench",
            "--package",
            "presso-local",
            "--bin",
            "presso",
        ],
    )?;
    let data_dir = std::env::temp_dir().join(format!("presso-bench-events-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    for (label, storage) in [
        ("in memory", vec!["--in-memory".to_string()]),
        (
            "data dir",
            vec!["--data-dir".to_string(), data_dir.display().to_string()],
        ),
    ] {
        let server = Server::start(&storage)?;
        let result = bench(&server.addr, seconds, clients);
        drop(server);
        let r = result?;
        println!(
            "events PutEvents ({label}, {RULES} rules, batches of {BATCH}, {clients} clients): {:.0} events/s, batch p50 {:.2} ms, p99 {:.2} ms; {} deliveries drained {:.0} ms after the last batch",
            r.events_per_sec, r.p50_ms, r.p99_ms, r.delivered, r.drain_ms
        );
    }
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(())
}

struct Server {
    addr: String,
    child: Child,
}

impl Server {
    fn start(storage: &[String]) -> Result<Server> {
        let mut child = Command::new("target/release/presso")
            .args(["serve", "--port", "0"])
            .args(storage)
            .env("RUST_LOG", "warn,presso_local=info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("start target/release/presso")?;
        let stderr = child.stderr.take().context("stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let marker = "accepting requests on http://";
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(pos) = line.find(marker) {
                    let addr: String = line[pos + marker.len()..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .context("presso did not log its address within 30 s")?;
        Ok(Server { addr, child })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One keep-alive HTTP/1.1 connection speaking AWS JSON 1.1.
struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Conn {
    fn open(addr: &str) -> Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::new(stream),
            host: addr.to_string(),
        })
    }

    fn call(&mut self, op: &str, body: &[u8]) -> Result<Value> {
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: AWSEvents.{op}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        let out = self.stream.get_mut();
        out.write_all(head.as_bytes())?;
        out.write_all(body)?;
        let mut status_line = String::new();
        self.stream.read_line(&mut status_line)?;
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        let mut buf = vec![0; length];
        self.stream.read_exact(&mut buf)?;
        if !status_line.contains(" 200 ") {
            bail!(
                "{op}: {} {}",
                status_line.trim(),
                String::from_utf8_lossy(&buf)
            );
        }
        Ok(serde_json::from_slice(&buf)?)
    }
}

struct Outcome {
    events_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    delivered: usize,
    drain_ms: f64,
}

fn bench(addr: &str, seconds: u64, clients: usize) -> Result<Outcome> {
    let mut admin = Conn::open(addr)?;
    admin.call(
        "CreateEventBus",
        json!({"Name": "bench"}).to_string().as_bytes(),
    )?;
    for i in 0..RULES {
        let name = format!("rule-{i}");
        let pattern = json!({"source": ["bench"], "detail-type": [format!("T{i}")],
                             "detail": {"n": [{"numeric": [">=", 0]}]}});
        admin.call(
            "PutRule",
            json!({"Name": name, "EventBusName": "bench", "EventPattern": pattern.to_string()})
                .to_string()
                .as_bytes(),
        )?;
        admin.call(
            "PutTargets",
            json!({"Rule": name, "EventBusName": "bench", "Targets": [{"Id": "log",
                   "Arn": format!("arn:aws:logs:us-east-1:123456789012:log-group:bench-{i}")}]})
            .to_string()
            .as_bytes(),
        )?;
    }
    // Each client cycles through the detail-types, so every rule sees traffic.
    let bodies: Vec<Vec<u8>> = (0..RULES)
        .map(|k| {
            let entries: Vec<Value> = (0..BATCH)
                .map(|j| {
                    json!({"Source": "bench", "DetailType": format!("T{}", (k + j) % RULES),
                           "EventBusName": "bench",
                           "Detail": json!({"n": j, "orderId": "o-123", "drink": "Latte"}).to_string()})
                })
                .collect();
            json!({"Entries": entries}).to_string().into_bytes()
        })
        .collect();
    let bodies = std::sync::Arc::new(bodies);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let addr = addr.to_string();
            let bodies = bodies.clone();
            std::thread::spawn(move || -> Result<Vec<f64>> {
                let mut conn = Conn::open(&addr)?;
                let mut latencies = Vec::new();
                let mut k = c;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let out = conn.call("PutEvents", &bodies[k % bodies.len()])?;
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                    if out["FailedEntryCount"] != 0 {
                        bail!("PutEvents failed entries: {out}");
                    }
                    k += 1;
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(
            w.join()
                .map_err(|_| anyhow::anyhow!("a client panicked"))??,
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sent_at = Instant::now();
    let events = latencies.len() * BATCH;
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    // Deliveries run after PutEvents answers; wait until every event is in its log group.
    let drain_deadline = Instant::now() + Duration::from_secs(60);
    let delivered = loop {
        let mut total = 0;
        for i in 0..RULES {
            total += logged(addr, &format!("bench-{i}"))?;
        }
        if total >= events || Instant::now() > drain_deadline {
            break total;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if delivered < events {
        bail!("only {delivered} of {events} deliveries reached their log groups within 60 s");
    }
    Ok(Outcome {
        events_per_sec: events as f64 / elapsed,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        delivered,
        drain_ms: sent_at.elapsed().as_secs_f64() * 1000.0,
    })
}

/// How many events a log group holds (`count` of the dev endpoint; its `events` list is capped).
fn logged(addr: &str, group: &str) -> Result<usize> {
    let mut stream = TcpStream::connect(addr)?;
    write!(
        stream,
        "GET /_presso/logs/{group} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let value: Value = serde_json::from_str(body).context("log group JSON")?;
    value["count"]
        .as_u64()
        .map(|n| n as usize)
        .context("the log endpoint reports a count")
}
