//! `cargo xtask bench journeys`: whole order journeys through `presso serve` with the project's
//! template and durable storage, played by `presso robot`.
//!
//! presso runs pinned to core 1 and the robot to core 0 (`taskset`), so the robot's work is not
//! counted against the server. Phases, each on a fresh data directory:
//! 1. **throughput**: journeys begun at `--rate` (default 1,000/s) for `--seconds` (QR verify →
//!    drink → make → complete → finished, every event published and received), with the app's
//!    limits raised (as many events as the codes need, 1,000 drinks per code, 10,000 orders in
//!    the queue); the figure is journeys finished per second.
//! 2. **where the time goes**: `--latency-rate` for 5 s with `perf record --call-graph dwarf`
//!    attached to presso; each component's inclusive share of presso's CPU samples (skipped
//!    when `perf` cannot run).
//! 3. **latency**: journeys at 500/s; from the barista's complete to `OrderCompleted` at the
//!    customer's and the display's subscriber.
//! 4. **memory**: presso's RSS idle (template loaded, nothing in flight), then with
//!    `--in-flight` orders (default 10,000) queued and their workflows waiting
//!    (`presso robot --hold`, at 1.6 × `--latency-rate` with at most 64 journeys open), as
//!    the last is queued and 15 s later.
//!
//! Arguments: `--rate R`, `--seconds S` (default 20), `--latency-rate R` (default 500),
//! `--in-flight N` (default 10000), `--only throughput|profile|latency|memory`.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Args {
    rate: f64,
    seconds: f64,
    latency_rate: f64,
    in_flight: u64,
    only: Option<String>,
}

fn parse(args: &[String]) -> Result<Args> {
    let mut a = Args {
        rate: 1000.0,
        seconds: 20.0,
        latency_rate: 500.0,
        in_flight: 10_000,
        only: None,
    };
    let mut it = args.iter();
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--rate" => a.rate = v.parse()?,
            "--seconds" => a.seconds = v.parse()?,
            "--latency-rate" => a.latency_rate = v.parse()?,
            "--in-flight" => a.in_flight = v.parse()?,
            "--only" => a.only = Some(v.clone()),
            other => bail!(
                "unknown argument {other} (known: --rate, --seconds, --latency-rate, --in-flight, --only)"
            ),
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
    let bin = std::fs::canonicalize("target/release/presso")?;
    let work = std::env::temp_dir().join(format!("presso-journeys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let result = phases(&bin, &work, &args);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn phases(bin: &Path, work: &Path, args: &Args) -> Result<()> {
    let want = |p: &str| args.only.as_deref().is_none_or(|o| o == p);
    println!(
        "journeys through presso serve (durable, template.yaml), presso on core 1, robot on core 0"
    );
    if want("throughput") {
        let server = Server::start(bin, &work.join("throughput"))?;
        let report = robot(
            bin,
            &server,
            work,
            "throughput",
            &[
                "--rate",
                &args.rate.to_string(),
                "--duration",
                &args.seconds.to_string(),
                // At most this many journeys open at once: beyond what presso sustains the
                // robot waits instead of piling up requests that time out.
                "--max-in-flight",
                "256",
            ],
        )?;
        println!(
            "throughput: {:.0} journeys/s finished of {:.0}/s offered ({} of {} journeys, {} failed), target ≥ 1,000/s; journey p50 {:.1} ms p99 {:.1} ms; presso RSS {:.0} MiB",
            report["journeys_per_second"].as_f64().unwrap_or(0.0),
            args.rate,
            report["finished"],
            report["started"],
            report["failed"],
            report["latency"]["journey"]["p50_ms"]
                .as_f64()
                .unwrap_or(0.0),
            report["latency"]["journey"]["p99_ms"]
                .as_f64()
                .unwrap_or(0.0),
            server.rss_mib()
        );
        print_errors(&report);
        server.stop();
    }
    if want("profile") {
        profile(bin, work, args)?;
    }
    if want("latency") {
        let server = Server::start(bin, &work.join("latency"))?;
        let report = robot(
            bin,
            &server,
            work,
            "latency",
            &[
                "--rate",
                &args.latency_rate.to_string(),
                "--duration",
                &args.seconds.to_string(),
            ],
        )?;
        let l = &report["latency"];
        println!(
            "latency at {:.0} journeys/s ({:.0}/s finished): complete → customer's subscriber p50 {:.1} ms p99 {:.1} ms; → display's p50 {:.1} ms p99 {:.1} ms; target p99 ≤ 25 ms",
            args.latency_rate,
            report["journeys_per_second"].as_f64().unwrap_or(0.0),
            l["completeToCustomer"]["p50_ms"].as_f64().unwrap_or(0.0),
            l["completeToCustomer"]["p99_ms"].as_f64().unwrap_or(0.0),
            l["completeToDisplay"]["p50_ms"].as_f64().unwrap_or(0.0),
            l["completeToDisplay"]["p99_ms"].as_f64().unwrap_or(0.0),
        );
        print_errors(&report);
        server.stop();
    }
    if want("memory") {
        let server = Server::start(bin, &work.join("memory"))?;
        std::thread::sleep(Duration::from_secs(2));
        let idle = server.rss_mib();
        // The robot's pace while queueing (a journey held at `queued` needs no barista); it
        // waits for presso beyond 64 open journeys.
        let rate = args.latency_rate.max(1.0) * 1.6;
        let seconds = (args.in_flight as f64 / rate).max(1.0);
        let report = robot(
            bin,
            &server,
            work,
            "memory",
            &[
                "--hold",
                "--rate",
                &rate.to_string(),
                "--duration",
                &seconds.to_string(),
                // Queued as fast as presso takes them, not faster: the figure is what 10,000
                // waiting orders hold, not the backlog of an overload.
                "--max-in-flight",
                "64",
            ],
        )?;
        let loaded = server.rss_mib();
        // tokio's blocking threads exit after 10 s idle, and mimalloc returns what they held.
        std::thread::sleep(Duration::from_secs(15));
        println!(
            "memory: presso idle {idle:.1} MiB RSS (target ≤ 60 MB); with {} orders queued and their workflows waiting {:.1} MiB ({loaded:.1} MiB as the last was queued)",
            report["finished"],
            server.rss_mib()
        );
        print_errors(&report);
        server.stop();
    }
    Ok(())
}

fn print_errors(report: &Value) {
    if let Some(errors) = report["errors"].as_object()
        && !errors.is_empty()
    {
        for (k, n) in errors {
            println!("    {n} × {k}");
        }
    }
}

/// `presso robot` on core 0 against `server`; answers its JSON report.
fn robot(bin: &Path, server: &Server, work: &Path, name: &str, extra: &[&str]) -> Result<Value> {
    let report = work.join(format!("{name}.json"));
    let url = server.url();
    let mut args: Vec<String> = [
        "-c",
        "0",
        bin.to_str().context("a UTF-8 path")?,
        "robot",
        "--url",
        &url,
        "--events",
        "0",
        "--raise-limits",
        "--customers",
        "200",
        "--orders-per-customer",
        "100",
        "--baristas",
        "4",
        "--quiet",
        "--prefix",
        name,
        "--report",
        report.to_str().context("a UTF-8 path")?,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = Command::new("taskset")
        .args(&args)
        .stderr(Stdio::inherit())
        .output()
        .context("running the robot under taskset")?;
    if !out.status.success() {
        bail!("the robot failed: {}", String::from_utf8_lossy(&out.stdout));
    }
    let text = std::fs::read_to_string(&report)?;
    serde_json::from_str(&text).context("the robot's report")
}

/// The parts of presso a journey's time is spent in, each by a symbol it is entered through.
const COMPONENTS: &[(&str, &str)] = &[
    (
        "hosted functions' AWS SDK calls (client side: build, sign, HTTP)",
        "aws_smithy_runtime::client::orchestrator::invoke_with_stop_point",
    ),
    (
        "Step Functions engine thread (ASL, history, SQLite)",
        "presso_sfn::engine::Core::run",
    ),
    (
        "DynamoDB requests (server side)",
        "presso_local::dynamodb::handle",
    ),
    (
        "publisher function (IoT publish)",
        "presso_fn_publisher::handle",
    ),
    ("journey function", "presso_fn_journey::handle"),
    (
        "MQTT sessions (WebSocket, delivery)",
        "presso_mqtt::session::run",
    ),
    ("SQLite, all stores", "sqlite3_step"),
    ("memory allocation (mimalloc)", "_mi_page_malloc_zero"),
];

/// A short robot run with `perf record --call-graph dwarf` on presso: where the time goes.
fn profile(bin: &Path, work: &Path, args: &Args) -> Result<()> {
    if Command::new("perf")
        .arg("--version")
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        println!("profile: skipped (no perf on this machine)");
        return Ok(());
    }
    let server = Server::start(bin, &work.join("profile"))?;
    let data = work.join("perf.data");
    let mut perf = Command::new("perf")
        .args(["record", "-F", "199", "--call-graph", "dwarf,16384", "-o"])
        .arg(&data)
        .args(["-p", &server.child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("perf record")?;
    let _ = robot(
        bin,
        &server,
        work,
        "profile",
        &["--rate", &args.latency_rate.to_string(), "--duration", "5"],
    )?;
    // perf writes its file on SIGINT.
    let _ = Command::new("kill")
        .args(["-INT", &perf.id().to_string()])
        .status();
    let _ = perf.wait();
    server.stop();
    let out = Command::new("perf")
        .args([
            "report",
            "--stdio",
            "--children",
            "--sort",
            "symbol",
            "-g",
            "none",
            "-i",
        ])
        .arg(&data)
        .output()
        .context("perf report")?;
    let text = String::from_utf8_lossy(&out.stdout);
    println!(
        "where presso's time goes at {:.0} journeys/s (share of its CPU samples, inclusive):",
        args.latency_rate
    );
    for (what, symbol) in COMPONENTS {
        let share = text
            .lines()
            .find(|l| l.contains(symbol))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or("0%");
        println!("    {share:>7}  {what}");
    }
    Ok(())
}

/// `presso serve` with the project's template on core 1, durable in `dir`.
pub struct Server {
    child: Child,
    port: u16,
}

impl Server {
    pub fn start(bin: &Path, dir: &Path) -> Result<Server> {
        std::fs::create_dir_all(dir)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new("taskset")
            .args(["-c", "1"])
            .arg(bin)
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
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting presso under taskset")?;
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !server.ready() {
            if Instant::now() > deadline {
                bail!("presso did not start within 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn ready(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.write_all(b"GET /config.json HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        buf.starts_with("HTTP/1.1 200")
    }

    /// Resident memory now, MiB.
    fn rss_mib(&self) -> f64 {
        crate::util::rss_kib(self.child.id()).unwrap_or(0) as f64 / 1024.0
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
