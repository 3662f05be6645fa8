//! `cargo xtask bench asl`: the ASL engine against `aws-local-stepfunctions`.
//!
//! Four workloads (a 1,000-state Pass chain, a Choice-heavy loop, a Map over 10,000
//! items, an intrinsic-heavy Parameters chain), each also translated to the JSONata
//! query language (same states, same transitions, same output), run in one go on the
//! engine and on the npm peer, warm in one long-lived Node process driven through its library API, with
//! the same definitions and inputs, in alternating short rounds so both sides see the
//! same load. The engine records its history as it does in service (the host keeps
//! every event). Reported: state transitions per second,
//! per-execution p50/p99, the speed-up, and the engine's memory per waiting execution
//! (a counting global allocator). The peer does not implement JSONata: where it refuses
//! a JSONata definition or answers something else, that row reports the engine alone
//! and says why. The measuring half runs as a release build of this
//! binary (`bench asl --inner`), so the engine is optimised whatever built xtask.

use anyhow::{Context, Result, bail};
use presso_asl::{Action, Definition, Execution, History, StartContext};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

// The allocator `presso` runs the engine on (mimalloc), counted.
#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

const PEER_DIR: &str = "xtask/bench/asl-peer";
const SECONDS_PER_SIDE: f64 = 2.0;
const ROUNDS: usize = 8;

pub fn run(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--inner") {
        // `--only WORD` narrows the workloads (handy under a profiler).
        let only = args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1))
            .cloned();
        return measure(only.as_deref());
    }
    crate::util::sh(&format!(
        "cd {PEER_DIR} && npm ci --no-audit --no-fund --loglevel=error"
    ))?;
    crate::util::run(
        "cargo",
        &[
            "run",
            "--quiet",
            "--profile",
            "bench",
            "--package",
            "xtask",
            "--",
            "bench",
            "asl",
            "--inner",
        ],
    )
}

struct Workload {
    name: &'static str,
    definition: Value,
    input: Value,
    jsonata: bool,
}

fn pass_chain() -> Workload {
    let mut states = serde_json::Map::new();
    for i in 0..1000 {
        let state = if i == 999 {
            json!({"Type": "Pass", "End": true})
        } else {
            json!({"Type": "Pass", "Next": format!("S{}", i + 1)})
        };
        states.insert(format!("S{i}"), state);
    }
    Workload {
        name: "pass chain (1,000 states)",
        definition: json!({"StartAt": "S0", "States": states}),
        input: json!({"orderId": "o-1", "drink": "latte", "n": 1}),
        jsonata: false,
    }
}

fn choice_loop() -> Workload {
    Workload {
        name: "choice loop (500 rounds)",
        definition: json!({
            "StartAt": "Init",
            "States": {
                "Init": {"Type": "Pass", "Parameters": {"i": 0, "limit": 500, "kind": "latte"}, "Next": "Check"},
                "Check": {"Type": "Choice", "Choices": [
                    {"And": [{"Variable": "$.kind", "StringEquals": "espresso"}, {"Variable": "$.i", "NumericGreaterThan": 10}], "Next": "Done"},
                    {"Or": [{"Variable": "$.i", "NumericGreaterThanEqualsPath": "$.limit"}, {"Variable": "$.stop", "IsPresent": true}], "Next": "Done"},
                    {"Not": {"Variable": "$.kind", "StringMatches": "lat*"}, "Next": "Done"},
                    {"Variable": "$.i", "NumericLessThan": 1000000, "Next": "Inc"}
                ], "Default": "Done"},
                "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)", "limit.$": "$.limit", "kind.$": "$.kind"}, "Next": "Check"},
                "Done": {"Type": "Succeed"}
            }
        }),
        input: json!({}),
        jsonata: false,
    }
}

fn map_10k() -> Workload {
    let items: Vec<Value> = (0..10_000).map(|i| json!({"id": i})).collect();
    Workload {
        name: "map over 10,000 items",
        definition: json!({
            "StartAt": "Each",
            "States": {"Each": {"Type": "Map", "ItemsPath": "$.items",
                "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Handle",
                    "States": {"Handle": {"Type": "Pass", "End": true}}},
                "End": true}}
        }),
        input: json!({"items": items}),
        jsonata: false,
    }
}

fn intrinsic_chain() -> Workload {
    let params = json!({
        "greeting.$": "States.Format('Order {} for {}', $.orderId, $.customer)",
        "total.$": "States.MathAdd($.price, $.tip)",
        "parts.$": "States.StringSplit($.tags, ',')",
        "count.$": "States.ArrayLength(States.StringSplit($.tags, ','))",
        "hash.$": "States.Hash($.orderId, 'SHA-256')",
        "encoded.$": "States.Base64Encode($.customer)",
        "decoded.$": "States.Base64Decode('bGF0dGU=')",
        "json.$": "States.JsonToString($.meta)",
        "parsed.$": "States.StringToJson($.metaText)",
        "has.$": "States.ArrayContains($.sizes, 'large')",
        "chunks.$": "States.ArrayPartition($.sizes, 2)",
        "uniq.$": "States.ArrayUnique($.dupes)",
        "range.$": "States.ArrayRange(1, 10, 3)",
        "item.$": "States.ArrayGetItem($.sizes, 1)",
        "arr.$": "States.Array($.orderId, $.price)"
    });
    let mut states = serde_json::Map::new();
    for i in 0..20 {
        let mut s = json!({"Type": "Pass", "Parameters": params, "ResultPath": "$.last"});
        if i == 19 {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("I{}", i + 1));
        }
        states.insert(format!("I{i}"), s);
    }
    Workload {
        name: "intrinsic-heavy Parameters (20 states x 15 calls)",
        definition: json!({"StartAt": "I0", "States": states}),
        input: json!({
            "orderId": "o-42", "customer": "Ada", "price": 4, "tip": 1, "tags": "hot,oat,large",
            "meta": {"shop": "presso", "lane": 2}, "metaText": "{\"a\":[1,2,3]}",
            "sizes": ["small", "large", "medium"], "dupes": [1, 2, 2, 3, 3, 3]
        }),
        jsonata: false,
    }
}

/// The pass chain under JSONata: bare Pass states pass their input on in either language.
fn pass_chain_jsonata() -> Workload {
    let mut w = pass_chain();
    w.name = "pass chain (1,000 states) [JSONata]";
    w.definition["QueryLanguage"] = json!("JSONata");
    w.jsonata = true;
    w
}

fn choice_loop_jsonata() -> Workload {
    Workload {
        name: "choice loop (500 rounds) [JSONata]",
        definition: json!({
            "QueryLanguage": "JSONata",
            "StartAt": "Init",
            "States": {
                "Init": {"Type": "Pass", "Output": {"i": 0, "limit": 500, "kind": "latte"}, "Next": "Check"},
                "Check": {"Type": "Choice", "Choices": [
                    {"Condition": "{% $states.input.kind = 'espresso' and $states.input.i > 10 %}", "Next": "Done"},
                    {"Condition": "{% $states.input.i >= $states.input.limit or $exists($states.input.stop) %}", "Next": "Done"},
                    {"Condition": "{% $not($contains($states.input.kind, /^lat/)) %}", "Next": "Done"},
                    {"Condition": "{% $states.input.i < 1000000 %}", "Next": "Inc"}
                ], "Default": "Done"},
                "Inc": {"Type": "Pass", "Output": {"i": "{% $states.input.i + 1 %}", "limit": "{% $states.input.limit %}", "kind": "{% $states.input.kind %}"}, "Next": "Check"},
                "Done": {"Type": "Succeed"}
            }
        }),
        input: json!({}),
        jsonata: true,
    }
}

fn map_10k_jsonata() -> Workload {
    let mut w = map_10k();
    w.name = "map over 10,000 items [JSONata]";
    w.definition = json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Each",
        "States": {"Each": {"Type": "Map", "Items": "{% $states.input.items %}",
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Handle",
                "States": {"Handle": {"Type": "Pass", "End": true}}},
            "End": true}}
    });
    w.jsonata = true;
    w
}

/// The intrinsic chain's 15 calls as JSONata functions, merged in as `last` (what its
/// `ResultPath: "$.last"` does).
fn function_chain_jsonata() -> Workload {
    let mut w = intrinsic_chain();
    let last = "{'greeting': 'Order ' & $states.input.orderId & ' for ' & $states.input.customer, \
        'total': $states.input.price + $states.input.tip, \
        'parts': $split($states.input.tags, ','), \
        'count': $count($split($states.input.tags, ',')), \
        'hash': $hash($states.input.orderId, 'SHA-256'), \
        'encoded': $base64encode($states.input.customer), \
        'decoded': $base64decode('bGF0dGU='), \
        'json': $string($states.input.meta), \
        'parsed': $parse($states.input.metaText), \
        'has': 'large' in $states.input.sizes, \
        'chunks': $partition($states.input.sizes, 2), \
        'uniq': $distinct($states.input.dupes), \
        'range': $range(1, 10, 3), \
        'item': $states.input.sizes[1], \
        'arr': [$states.input.orderId, $states.input.price]}";
    let output = format!("{{% $merge([$states.input, {{'last': {last}}}]) %}}");
    let mut states = serde_json::Map::new();
    for i in 0..20 {
        let mut s = json!({"Type": "Pass", "Output": output});
        if i == 19 {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("I{}", i + 1));
        }
        states.insert(format!("I{i}"), s);
    }
    w.name = "intrinsic-heavy Parameters (20 x 15) [JSONata]";
    w.definition = json!({"QueryLanguage": "JSONata", "StartAt": "I0", "States": states});
    w.jsonata = true;
    w
}

struct Stats {
    runs: usize,
    transitions_per_run: u64,
    total: Duration,
    p50: Duration,
    p99: Duration,
}

impl Stats {
    fn from(mut lat: Vec<Duration>, transitions_per_run: u64) -> Stats {
        lat.sort();
        let total: Duration = lat.iter().sum();
        let pick = |q: f64| {
            lat.get(((lat.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or_default()
        };
        Stats {
            runs: lat.len(),
            transitions_per_run,
            total,
            p50: pick(0.5),
            p99: pick(0.99),
        }
    }

    fn ops(&self) -> f64 {
        (self.runs as f64 * self.transitions_per_run as f64) / self.total.as_secs_f64().max(1e-9)
    }
}

fn run_engine(
    def: &Arc<Definition>,
    input: &Value,
    history: &mut Vec<History>,
) -> (u64, Option<Arc<Value>>) {
    let mut ctx = StartContext::new("Bench", "run", 1_763_900_000_000, 1);
    // The 10,000-item Map records ~40,000 events, past AWS's 25,000-event history cap
    // (which the engine enforces by default); lift it so the workload runs to the end.
    ctx.max_history_events = u64::MAX;
    let (exe, actions) = Execution::start(def.clone(), input.clone(), ctx);
    let mut output = None;
    for a in actions {
        match a {
            Action::History(evs) => history.push(evs),
            Action::Finished(o) => output = o.output,
            _ => {}
        }
    }
    (exe.transitions(), output)
}

/// The engine side of one workload: parsed once, warmed up once.
struct EngineSide {
    def: Arc<Definition>,
    input: Value,
    transitions: u64,
    output: Value,
    history: Vec<History>,
}

impl EngineSide {
    fn new(w: &Workload) -> Result<EngineSide> {
        let def =
            Arc::new(Definition::from_value(&w.definition).map_err(|e| anyhow::anyhow!("{e}"))?);
        let mut history = Vec::new();
        let (transitions, output) = run_engine(&def, &w.input, &mut history);
        let output: Value =
            Value::clone(&*output.context("the engine's warm-up run did not succeed")?);
        Ok(EngineSide {
            def,
            input: w.input.clone(),
            transitions,
            output,
            history,
        })
    }

    /// Runs executions for `seconds` (at least one), returning each one's latency.
    fn run_for(&mut self, seconds: f64) -> Vec<Duration> {
        let mut lat = Vec::new();
        let start = Instant::now();
        while lat.is_empty() || start.elapsed().as_secs_f64() < seconds {
            self.history.clear();
            let t0 = Instant::now();
            run_engine(&self.def, &self.input, &mut self.history);
            lat.push(t0.elapsed());
        }
        lat
    }
}

struct Peer {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Peer {
    fn start() -> Result<Peer> {
        let mut child = Command::new("node")
            .arg("peer.mjs")
            .current_dir(PEER_DIR)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("could not start node for the benchmark peer")?;
        let stdin = child.stdin.take().context("peer stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("peer stdout")?);
        Ok(Peer {
            child,
            stdin,
            stdout,
        })
    }

    /// Runs the workload for `seconds` (after a warm-up run, at least one run).
    fn run_for(&mut self, w: &Workload, seconds: f64) -> Result<(Vec<Duration>, Value)> {
        let req = json!({"name": w.name, "definition": w.definition, "input": w.input, "seconds": seconds});
        writeln!(self.stdin, "{req}")?;
        self.stdin.flush()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        let res: Value = serde_json::from_str(&line).context("peer answer")?;
        if let Some(e) = res.get("error") {
            bail!("peer failed on {}: {}", w.name, e);
        }
        let lat: Vec<Duration> = res["latencies_ns"]
            .as_array()
            .context("latencies")?
            .iter()
            .filter_map(Value::as_u64)
            .map(Duration::from_nanos)
            .collect();
        Ok((lat, res["output"].clone()))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fmt_d(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

/// Bytes the engine holds per execution parked on a `.waitForTaskToken` task.
fn waiting_memory() -> Result<(usize, usize)> {
    let def = Arc::new(
        Definition::from_value(&json!({
            "StartAt": "AwaitBarista",
            "States": {"AwaitBarista": {
                "Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
                "Parameters": {"Entries": [{"Source": "awsserverlessda.serverlesspresso", "DetailType": "OrderProcessor.WaitingCompletion",
                    "Detail": {"TaskToken.$": "$$.Task.Token", "orderId.$": "$.orderId"}}]},
                "HeartbeatSeconds": 300, "TimeoutSeconds": 900, "End": true}}
        }))
        .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let input = json!({"orderId": "o-123", "eventId": "default"});
    let data = input.to_string().len();
    const N: usize = 10_000;
    let mut keep = Vec::with_capacity(N);
    let before = ALLOCATOR.allocated();
    for i in 0..N {
        let ctx = StartContext::new(
            "OrderProcessor",
            &format!("run-{i}"),
            1_763_900_000_000,
            i as u64,
        );
        let (exe, actions) = Execution::start(def.clone(), input.clone(), ctx);
        drop(actions);
        keep.push(exe);
    }
    let after = ALLOCATOR.allocated();
    let per = (after.saturating_sub(before)) / N;
    drop(keep);
    Ok((per, data))
}

fn measure(only: Option<&str>) -> Result<()> {
    let workloads: Vec<Workload> = [
        pass_chain(),
        choice_loop(),
        map_10k(),
        intrinsic_chain(),
        pass_chain_jsonata(),
        choice_loop_jsonata(),
        map_10k_jsonata(),
        function_chain_jsonata(),
    ]
    .into_iter()
    .filter(|w| only.is_none_or(|o| w.name.contains(o)))
    .collect();
    let mut peer = Peer::start()?;
    println!(
        "ASL engine vs aws-local-stepfunctions 3.0.0 (Node {}), {SECONDS_PER_SIDE} s per side per workload, one core",
        node_version()
    );
    println!(
        "{:<50} {:>14} {:>10} {:>10} | {:>12} {:>10} {:>10} | {:>15}",
        "workload", "engine tr/s", "p50", "p99", "peer tr/s", "p50", "p99", "speed-up (p50)"
    );
    for w in &workloads {
        let mut engine = EngineSide::new(w)?;
        if only.is_some() {
            let e = Stats::from(engine.run_for(SECONDS_PER_SIDE), engine.transitions);
            println!(
                "{:<50} {:>14.0} {:>10} {:>10}",
                w.name,
                e.ops(),
                fmt_d(e.p50),
                fmt_d(e.p99)
            );
            continue;
        }
        // The peer has no JSONata: probe once, and where it refuses the definition or
        // answers something else, measure the engine alone.
        if w.jsonata {
            let why = match peer.run_for(w, 0.0) {
                Err(e) => Some(format!(
                    "peer refuses it: {}",
                    e.to_string().lines().next().unwrap_or_default()
                )),
                Ok((_, out)) if out != engine.output => {
                    Some("peer runs it without JSONata (different output)".to_owned())
                }
                Ok(_) => None,
            };
            if let Some(why) = why {
                let e = Stats::from(engine.run_for(SECONDS_PER_SIDE), engine.transitions);
                println!(
                    "{:<50} {:>14.0} {:>10} {:>10} | {:>12} {:>10} {:>10} |",
                    w.name,
                    e.ops(),
                    fmt_d(e.p50),
                    fmt_d(e.p99),
                    "-",
                    "-",
                    "-"
                );
                let why: String = why.chars().take(120).collect();
                println!(
                    "{:<50} {:>14} executions x {} transitions (engine); {why}",
                    "", e.runs, e.transitions_per_run
                );
                continue;
            }
        }
        // Alternate short rounds so both sides see the same load on a shared machine.
        let (mut e_lat, mut p_lat, mut p_out) = (Vec::new(), Vec::new(), Value::Null);
        for _ in 0..ROUNDS {
            e_lat.extend(engine.run_for(SECONDS_PER_SIDE / ROUNDS as f64));
            let (lat, out) = peer.run_for(w, SECONDS_PER_SIDE / ROUNDS as f64)?;
            p_lat.extend(lat);
            p_out = out;
        }
        let e = Stats::from(e_lat, engine.transitions);
        let p = Stats::from(p_lat, engine.transitions);
        let same = engine.output == p_out;
        println!(
            "{:<50} {:>14.0} {:>10} {:>10} | {:>12.0} {:>10} {:>10} | {:>6.0}x ({:>4.0}x){}",
            w.name,
            e.ops(),
            fmt_d(e.p50),
            fmt_d(e.p99),
            p.ops(),
            fmt_d(p.p50),
            fmt_d(p.p99),
            e.ops() / p.ops().max(1e-9),
            p.p50.as_secs_f64() / e.p50.as_secs_f64().max(1e-12),
            if same { "" } else { "  (outputs differ!)" }
        );
        println!(
            "{:<50} {:>14} executions x {} transitions (engine), {} executions (peer)",
            "", e.runs, e.transitions_per_run, p.runs
        );
    }
    if only.is_some() {
        return Ok(());
    }
    let (per, data) = waiting_memory()?;
    println!(
        "engine memory per execution waiting on a task token: {per} bytes (input data {data} bytes; target: at most 4096 beyond its data)"
    );
    Ok(())
}

fn node_version() -> String {
    Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
