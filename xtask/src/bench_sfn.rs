//! `cargo xtask bench sfn`: presso's Step Functions over the wire, durable.
//!
//! Builds `presso` with the bench profile (into `target/release`) and runs it with a data directory (WAL,
//! `synchronous=NORMAL`), then measures:
//! 1. StartExecution-to-completion of a 10-state workflow (Pass, Choice, Pass with
//!    `Parameters`/`ResultPath`, Succeed), from many keep-alive connections: executions/s and
//!    latency. A 10-state workflow without tasks completes inside its StartExecution call; the
//!    run ends by counting SUCCEEDED executions with ListExecutions, so nothing is assumed.
//! 2. 100,000 executions waiting on task tokens (`events:putEvents.waitForTaskToken` with a
//!    heartbeat): how fast they start, the RSS presso holds with them, and after `kill -9`
//!    how long a restarted presso takes until it accepts a token (and 100 of them).
//!
//! Arguments: `--seconds S` (phase 1, default 10), `--clients C` (default 32), `--waiting N`
//! (phase 2, default 100000). The client is a small blocking HTTP/1.1 client on std threads,
//! so the numbers are the server's, not an SDK's.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Args {
    seconds: u64,
    clients: usize,
    waiting: usize,
}

fn parse(args: &[String]) -> Result<Args> {
    let mut a = Args {
        seconds: 10,
        clients: 32,
        waiting: 100_000,
    };
    let mut it = args.iter();
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--seconds" => a.seconds = v.parse()?,
            "--clients" => a.clients = v.parse()?,
            "--waiting" => a.waiting = v.parse()?,
            other => bail!("unknown argument {other} (known: --seconds, --clients, --waiting)"),
        }
    }
    Ok(a)
}

pub fn run(args: &[String]) -> Result<()> {
    let args = parse(args)?;
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
    let bin = std::path::PathBuf::from("target/release/presso");
    let dir = std::env::temp_dir().join(format!("presso-sfn-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let result = bench(&bin, &dir, &args);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn bench(bin: &std::path::Path, dir: &std::path::Path, args: &Args) -> Result<()> {
    let mut server = Server::start(bin, dir)?;
    throughput(&server.addr, args)?;
    waiting(&mut server, bin, dir, args)?;
    Ok(())
}

const ROLE: &str = "arn:aws:iam::000000000000:role/bench";

fn ten_states() -> String {
    json!({"StartAt": "Receive", "States": {
        "Receive": {"Type": "Pass", "Parameters": {"order.$": "$.order", "size.$": "$.size"}, "Next": "Size?"},
        "Size?": {"Type": "Choice", "Choices": [{"Variable": "$.size", "NumericGreaterThan": 1, "Next": "Large"}], "Default": "Small"},
        "Large": {"Type": "Pass", "Result": "large", "ResultPath": "$.cup", "Next": "Price"},
        "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.cup", "Next": "Price"},
        "Price": {"Type": "Pass", "Result": {"amount": 3}, "ResultPath": "$.price", "Next": "Milk?"},
        "Milk?": {"Type": "Choice", "Choices": [{"Variable": "$.order", "StringEquals": "latte", "Next": "Milk"}], "Default": "Ticket"},
        "Milk": {"Type": "Pass", "Result": true, "ResultPath": "$.milk", "Next": "Ticket"},
        "Ticket": {"Type": "Pass", "Parameters": {"ticket.$": "States.Format('{}-{}', $.order, $.cup)", "price.$": "$.price"}, "Next": "Stamp"},
        "Stamp": {"Type": "Pass", "Parameters": {"done": true, "ticket.$": "$.ticket"}, "Next": "Done"},
        "Done": {"Type": "Succeed"}
    }})
    .to_string()
}

fn throughput(addr: &str, args: &Args) -> Result<()> {
    let mut c = Conn::open(addr)?;
    let sm = c.ok(
        "CreateStateMachine",
        &json!({"name": "TenStates", "definition": ten_states(), "roleArn": ROLE}),
    )?["stateMachineArn"]
        .as_str()
        .context("an ARN")?
        .to_string();
    let body = format!(
        "{{\"stateMachineArn\":\"{sm}\",\"input\":\"{{\\\"order\\\":\\\"latte\\\",\\\"size\\\":2}}\"}}"
    );
    // Warm up (connections, caches) for a second.
    run_clients(addr, args.clients, Duration::from_secs(1), &body)?;
    let (n, mut lat) = run_clients(addr, args.clients, Duration::from_secs(args.seconds), &body)?;
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let rate = n as f64 / args.seconds as f64;
    // Count what completed, page by page.
    let mut succeeded = 0u64;
    let mut next: Option<String> = None;
    loop {
        let mut req =
            json!({"stateMachineArn": sm, "statusFilter": "SUCCEEDED", "maxResults": 1000});
        if let Some(t) = &next {
            req["nextToken"] = json!(t);
        }
        let page = c.ok("ListExecutions", &req)?;
        succeeded += page["executions"].as_array().map_or(0, |a| a.len() as u64);
        next = page["nextToken"].as_str().map(str::to_string);
        if next.is_none() {
            break;
        }
    }
    println!(
        "sfn: 10-state StartExecution-to-completion, durable, {} clients: {rate:.0} executions/s (p50 {:.2} ms, p99 {:.2} ms); {succeeded} SUCCEEDED of {} started (incl. warm-up)",
        args.clients,
        pct(0.50) as f64 / 1000.0,
        pct(0.99) as f64 / 1000.0,
        n as u64 + succeeded.saturating_sub(n as u64),
    );
    Ok(())
}

/// Runs `clients` threads issuing StartExecution for `dur`; answers the count and latencies (µs).
fn run_clients(addr: &str, clients: usize, dur: Duration, body: &str) -> Result<(usize, Vec<u64>)> {
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for _ in 0..clients {
        let (addr, body, stop, failures) = (
            addr.to_string(),
            body.to_string(),
            stop.clone(),
            failures.clone(),
        );
        handles.push(std::thread::spawn(move || -> Result<Vec<u64>> {
            let mut c = Conn::open(&addr)?;
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let (status, _) = c.raw("StartExecution", &body)?;
                if status != 200 {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
                lat.push(t.elapsed().as_micros() as u64);
            }
            Ok(lat)
        }));
    }
    std::thread::sleep(dur);
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for h in handles {
        all.extend(
            h.join()
                .map_err(|_| anyhow::anyhow!("a client panicked"))??,
        );
    }
    let failed = failures.load(Ordering::Relaxed);
    if failed > 0 {
        bail!("{failed} StartExecution calls failed");
    }
    Ok((all.len(), all))
}

fn waiting(
    server: &mut Server,
    bin: &std::path::Path,
    dir: &std::path::Path,
    args: &Args,
) -> Result<()> {
    let mut c = Conn::open(&server.addr)?;
    let def = json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
                "Parameters": {"Entries": [{"Source": "bench", "DetailType": "Ask", "Detail": {"TaskToken.$": "$$.Task.Token"}}]},
                "HeartbeatSeconds": 86400, "End": true}}});
    let sm = c.ok(
        "CreateStateMachine",
        &json!({"name": "Waiting", "definition": def.to_string(), "roleArn": ROLE}),
    )?["stateMachineArn"]
        .as_str()
        .context("an ARN")?
        .to_string();
    let rss_before = crate::util::rss_kib(server.child.id())?;
    let started = Instant::now();
    let per = args.waiting.div_ceil(args.clients);
    let mut handles = Vec::new();
    for t in 0..args.clients {
        let (addr, sm) = (server.addr.clone(), sm.clone());
        handles.push(std::thread::spawn(move || -> Result<()> {
            let mut c = Conn::open(&addr)?;
            for i in t * per..(t + 1) * per {
                let body = format!("{{\"stateMachineArn\":\"{sm}\",\"name\":\"w-{i}\"}}");
                let (status, text) = c.raw("StartExecution", &body)?;
                if status != 200 {
                    bail!("StartExecution failed: {text}");
                }
            }
            Ok(())
        }));
    }
    for h in handles {
        h.join()
            .map_err(|_| anyhow::anyhow!("a client panicked"))??;
    }
    let n = per * args.clients;
    let start_secs = started.elapsed().as_secs_f64();
    // Tokens as a worker reads them: from the history of 100 executions.
    let mut tokens = Vec::new();
    for i in (0..n).step_by((n / 100).max(1)).take(100) {
        let exec = sm.replace(":stateMachine:", ":execution:") + &format!(":w-{i}");
        let h = c.ok("GetExecutionHistory", &json!({"executionArn": exec}))?;
        let token = h["events"]
            .as_array()
            .and_then(|evs| {
                evs.iter().find_map(|e| {
                    let p: Value = serde_json::from_str(
                        e["taskScheduledEventDetails"]["parameters"].as_str()?,
                    )
                    .ok()?;
                    p["Entries"][0]["Detail"]["TaskToken"]
                        .as_str()
                        .map(str::to_string)
                })
            })
            .context("a token in the history")?;
        tokens.push(token);
    }
    let rss = crate::util::rss_kib(server.child.id())?;
    println!(
        "sfn: {n} executions waiting on tokens started in {start_secs:.1} s ({:.0}/s); RSS {} MiB (was {} MiB before them: {:.1} KiB per waiting execution)",
        n as f64 / start_secs,
        rss / 1024,
        rss_before / 1024,
        (rss.saturating_sub(rss_before)) as f64 / n as f64,
    );
    server.kill_9();
    let restart = Instant::now();
    *server = Server::start(bin, dir)?;
    let listening = restart.elapsed();
    let mut c = Conn::open(&server.addr)?;
    let mut first = None;
    for (i, token) in tokens.iter().enumerate() {
        let body = format!("{{\"taskToken\":\"{token}\",\"output\":\"{{}}\"}}");
        let (status, text) = c.raw("SendTaskSuccess", &body)?;
        if status != 200 {
            bail!("SendTaskSuccess after restart failed: {text}");
        }
        if i == 0 {
            first = Some(restart.elapsed());
        }
    }
    let all = restart.elapsed();
    let rss_after = crate::util::rss_kib(server.child.id())?;
    println!(
        "sfn: after kill -9 with {n} waiting: listening after {:.0} ms, first token accepted after {:.0} ms, 100 tokens after {:.0} ms; RSS after restart {} MiB",
        listening.as_secs_f64() * 1000.0,
        first.unwrap_or_default().as_secs_f64() * 1000.0,
        all.as_secs_f64() * 1000.0,
        rss_after / 1024,
    );
    Ok(())
}

/// `presso serve` on a free port with a data directory.
struct Server {
    addr: String,
    child: Child,
}

impl Server {
    fn start(bin: &std::path::Path, dir: &std::path::Path) -> Result<Server> {
        let mut child = Command::new(bin)
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(dir)
            .env("RUST_LOG", "warn,presso_local=info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let stderr = child.stderr.take().context("stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(pos) = line.find("accepting requests on http://") {
                    let addr: String = line[pos + "accepting requests on http://".len()..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(120))
            .context("presso did not log its address within 120 s")?;
        Ok(Server { addr, child })
    }

    fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// One keep-alive HTTP/1.1 connection speaking AWS JSON 1.0.
struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
    host: String,
}

impl Conn {
    fn open(addr: &str) -> Result<Conn> {
        let s = TcpStream::connect(addr).with_context(|| format!("connect {addr}"))?;
        s.set_nodelay(true)?;
        Ok(Conn {
            r: BufReader::new(s.try_clone()?),
            w: s,
            host: addr.to_string(),
        })
    }

    fn raw(&mut self, op: &str, body: &str) -> Result<(u16, String)> {
        let req = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: AWSStepFunctions.{op}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.w.write_all(req.as_bytes())?;
        let mut line = String::new();
        self.r.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .context("a status line")?
            .parse()?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.r.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse()?;
            }
        }
        let mut buf = vec![0; len];
        self.r.read_exact(&mut buf)?;
        Ok((status, String::from_utf8_lossy(&buf).into_owned()))
    }

    fn ok(&mut self, op: &str, body: &Value) -> Result<Value> {
        let (status, text) = self.raw(op, &body.to_string())?;
        if status != 200 {
            bail!("{op} failed ({status}): {text}");
        }
        Ok(serde_json::from_str(&text)?)
    }
}
