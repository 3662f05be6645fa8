//! `cargo xtask bench lambdas`: every Lambda binary (x86_64, as `cargo xtask lambdas` builds
//! it) — its size, its start-up and its peak memory — run the way Lambda runs it: through a
//! Runtime API endpoint (a minimal one here, on a thread), with the template's environment and
//! presso serving the AWS calls the handlers make.
//!
//! - **start-up**: from process start to the first event's response (or error) posted back;
//!   the time to the first `GET /next` (the end of init) is shown too. Each is the median of
//!   seven cold starts.
//! - **peak memory**: `VmHWM` after `--events N` events (default 200) handled one after the
//!   other.
//!
//! Targets: size ≤ 8 MB, start-up ≤ 10 ms, peak memory ≤ 20 MB. `--build` builds the binaries
//! first (`cargo xtask lambdas`); otherwise they must exist under `target/lambda/`.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The event each function handles, from `events/`.
const FIXTURES: &[(&str, &str)] = &[
    ("presso-fn-config", "events/config/get-config.json"),
    ("presso-fn-iot-endpoint", "events/iot-endpoint/create.json"),
    ("presso-fn-journey", "events/journey/make-order.json"),
    (
        "presso-fn-mqtt-authorizer",
        "events/mqtt-authorizer/anonymous.json",
    ),
    (
        "presso-fn-order-manager",
        "events/order-manager/get-order.json",
    ),
    (
        "presso-fn-order-timeouts",
        "events/order-timeouts/customer-timed-out.json",
    ),
    (
        "presso-fn-publisher",
        "events/publisher/order-completed.json",
    ),
    ("presso-fn-validator", "events/validator/get-qr-code.json"),
    (
        "presso-fn-waiting-completion",
        "events/waiting-completion/waiting-completion.json",
    ),
    (
        "presso-fn-workflow-started",
        "events/workflow-started/workflow-started.json",
    ),
];

pub fn run(args: &[String]) -> Result<()> {
    let mut events = 200usize;
    let mut build = false;
    let mut release = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--events" => events = it.next().context("--events N")?.parse()?,
            "--build" => build = true,
            "--release" => release = true,
            other => bail!("unknown argument {other} (known: --events, --build, --release)"),
        }
    }
    if build {
        // `--release`: the deployed build (fat LTO), rather than CI's thin-LTO one.
        let flags: &[String] = if release {
            &[String::from("--release")]
        } else {
            &[]
        };
        crate::lambdas::run(flags)?;
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
    let bin = std::fs::canonicalize("target/release/presso")?;
    let dir = std::env::temp_dir().join(format!("presso-lambdas-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = crate::bench_journeys::Server::start(&bin, &dir)?;
    let pool = user_pool_id(&server.url())?;
    println!(
        "Lambda binaries (x86_64, target/lambda), each through a minimal Runtime API, AWS calls served by presso:"
    );
    println!(
        "{:<30} {:>9} {:>10} {:>12} {:>11} {:>9}",
        "function", "size", "init", "1st event", "peak RSS", "per event"
    );
    println!(
        "{:<30} {:>9} {:>10} {:>12} {:>11} {:>9}",
        "", "≤ 8 MB", "", "≤ 10 ms", "≤ 20 MB", ""
    );
    let mut missing = Vec::new();
    for (name, fixture) in FIXTURES {
        let path = Path::new("target/lambda").join(name).join("bootstrap");
        if !path.is_file() {
            missing.push(name.to_string());
            continue;
        }
        let event = std::fs::read(fixture).with_context(|| format!("reading {fixture}"))?;
        let size = std::fs::metadata(&path)?.len() as f64 / 1e6;
        // The custom resource answers CloudFormation's pre-signed URL, which is not there
        // offline: each event waits for that call to fail, so it handles a few only.
        let n = if *name == "presso-fn-iot-endpoint" {
            events.min(10)
        } else {
            events
        };
        // Start-up is the median of a few cold starts (one event each): a single start on a
        // shared 2-core machine says more about the neighbours than about the binary.
        let mut inits = Vec::with_capacity(STARTS);
        let mut firsts = Vec::with_capacity(STARTS);
        for _ in 0..STARTS {
            let s = measure(&path, name, &event, 1, &server.url(), &pool)?;
            inits.push(s.init);
            firsts.push(s.first);
        }
        let m = measure(&path, name, &event, n, &server.url(), &pool)?;
        println!(
            "{name:<30} {size:>6.2} MB {:>7.2} ms {:>9.2} ms {:>8.1} MB {:>6.2} ms",
            median(&mut inits).as_secs_f64() * 1000.0,
            median(&mut firsts).as_secs_f64() * 1000.0,
            m.peak_kib as f64 / 1024.0,
            m.per_event.as_secs_f64() * 1000.0,
        );
    }
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    if !missing.is_empty() {
        bail!(
            "no binary for {} (run `cargo xtask lambdas`, or pass --build)",
            missing.join(", ")
        );
    }
    Ok(())
}

/// Cold starts per function for the start-up figures (their median is shown).
const STARTS: usize = 7;

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn user_pool_id(url: &str) -> Result<String> {
    let port = url.rsplit(':').next().context("a port")?;
    let mut s = TcpStream::connect(format!("127.0.0.1:{port}"))?;
    s.write_all(b"GET /config.json HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let body = text.split("\r\n\r\n").nth(1).context("a body")?;
    let v: serde_json::Value = serde_json::from_str(body)?;
    Ok(v["userPoolId"].as_str().unwrap_or_default().to_string())
}

struct Measured {
    init: Duration,
    first: Duration,
    peak_kib: u64,
    per_event: Duration,
}

/// What the Runtime API saw of one process.
#[derive(Default)]
struct Seen {
    first_next: Option<Instant>,
    first_done: Option<Instant>,
    last_done: Option<Instant>,
    done: usize,
}

fn measure(
    bin: &Path,
    name: &str,
    event: &[u8],
    events: usize,
    presso: &str,
    pool: &str,
) -> Result<Measured> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let api = listener.local_addr()?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let handed = Arc::new(AtomicUsize::new(0));
    {
        let (seen, handed, event) = (seen.clone(), handed.clone(), event.to_vec());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (seen, handed, event) = (seen.clone(), handed.clone(), event.clone());
                std::thread::spawn(move || serve(conn, &seen, &handed, &event, events));
            }
        });
    }
    let start = Instant::now();
    let mut child = Command::new(bin)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_ENDPOINT_URL", presso)
        .env("ORDER_TABLE", "serverlesspresso-order-table")
        .env("CONFIG_TABLE", "serverlesspresso-config-table")
        .env("COUNTING_TABLE", "serverlesspresso-counting-table")
        .env("VALIDATOR_TABLE", "serverlesspresso-validator")
        .env("BUS_NAME", "Serverlesspresso")
        .env("USER_POOL_ID", pool)
        .env("USER_POOL_CLIENT_ID", "bench")
        .env("USER_POOL_CLIENT_IDS", "bench")
        .env("IOT_DATA_ENDPOINT", presso)
        .env("IOT_AUTHORIZER", "serverlesspresso-jwt")
        .env("DEFAULT_EVENT_ID", "default")
        .env("ORDER_APP_URL", "/order/")
        .env("ACCOUNT_ID", "000000000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let deadline = start + Duration::from_secs(30);
    loop {
        if seen.lock().expect("seen").done >= events {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!(
                "{name} handled {} of {events} events in 30 s",
                seen.lock().expect("seen").done
            );
        }
        if let Ok(Some(status)) = child.try_wait() {
            bail!("{name} exited with {status} during the run");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let peak_kib = crate::util::peak_rss_kib(child.id())?;
    let _ = child.kill();
    let _ = child.wait();
    let s = seen.lock().expect("seen");
    let first_done = s.first_done.context("no event handled")?;
    let last_done = s.last_done.context("no event handled")?;
    Ok(Measured {
        init: s.first_next.context("no /next")?.duration_since(start),
        first: first_done.duration_since(start),
        peak_kib,
        per_event: last_done.duration_since(first_done) / u32::try_from(events.max(2) - 1)?,
    })
}

/// One connection of the Runtime API: `GET .../invocation/next` hands out the event (until
/// `events` are handed, then never answers), `POST .../response|error` is counted.
fn serve(conn: TcpStream, seen: &Mutex<Seen>, handed: &AtomicUsize, event: &[u8], events: usize) {
    let _ = conn.set_nodelay(true);
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let now = Instant::now();
        if line.starts_with("GET") && line.contains("/invocation/next") {
            seen.lock().expect("seen").first_next.get_or_insert(now);
            let n = handed.fetch_add(1, Ordering::SeqCst);
            if n >= events {
                // The function waits here until it is killed, as an idle Lambda does.
                std::thread::sleep(Duration::from_secs(3600));
                return;
            }
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                + 10_000;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 lambda-runtime-aws-request-id: req-{n}\r\nlambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:000000000000:function:bench\r\n\
                 lambda-runtime-trace-id: Root=1-00000000-000000000000000000000000\r\n\r\n",
                event.len()
            );
            // One write: a head and a body in two segments meet Nagle and delayed ACKs (40 ms).
            let mut out = head.into_bytes();
            out.extend_from_slice(event);
            if conn.write_all(&out).is_err() {
                return;
            }
        } else {
            if line.starts_with("POST") && (line.contains("/response") || line.contains("/error")) {
                let mut s = seen.lock().expect("seen");
                s.first_done.get_or_insert(now);
                s.last_done = Some(now);
                s.done += 1;
            }
            if conn
                .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}")
                .is_err()
            {
                return;
            }
        }
    }
}
