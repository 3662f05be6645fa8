//! `cargo xtask ci`: the one test command. CI runs it on a fresh clone (`.ci/run`), so every
//! stage installs what it needs itself, pinned, and the run ends with a table of stage times.

use crate::util::{run as cmd, sh};
use anyhow::{Context, Result};
use std::time::{Duration, Instant};

struct Stage {
    name: &'static str,
    run: fn() -> Result<()>,
}

const STAGES: &[Stage] = &[
    Stage {
        name: "setup",
        run: setup,
    },
    Stage {
        name: "fmt",
        run: fmt,
    },
    Stage {
        name: "clippy",
        run: clippy,
    },
    Stage {
        name: "test",
        run: test,
    },
    Stage {
        name: "frontend",
        run: frontend,
    },
    Stage {
        name: "abuse",
        run: abuse,
    },
    Stage {
        name: "lint-template",
        run: lint_template,
    },
    Stage {
        name: "lambdas",
        run: lambdas,
    },
];

pub fn run(selected: &[String]) -> Result<()> {
    let mut times: Vec<(&str, Duration, bool)> = Vec::new();
    let mut failed = None;
    OVERLAP_LAMBDAS.store(
        selected.is_empty() || selected.iter().any(|s| s == "lambdas"),
        std::sync::atomic::Ordering::Relaxed,
    );
    for stage in STAGES {
        if !selected.is_empty() && !selected.iter().any(|s| s == stage.name) {
            continue;
        }
        eprintln!("\n==> stage {}", stage.name);
        let started = Instant::now();
        let result = (stage.run)();
        let ok = result.is_ok();
        times.push((stage.name, started.elapsed(), ok));
        if let Err(err) = result {
            eprintln!("stage {} failed: {err:#}", stage.name);
            failed = Some(stage.name);
            break;
        }
    }
    // A stage failed while the Lambda build was still running: stop it.
    if let Some((mut child, _, _)) = LAMBDA_BUILD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
    {
        let _ = child.kill();
        let _ = child.wait();
    }
    eprintln!("\nstage times:");
    for (name, took, ok) in &times {
        eprintln!(
            "  {name:<12} {:>8.1}s {}",
            took.as_secs_f64(),
            if *ok { "ok" } else { "FAILED" }
        );
    }
    let total: Duration = times.iter().map(|t| t.1).sum();
    eprintln!("  {:<12} {:>8.1}s", "total", total.as_secs_f64());
    match failed {
        Some(name) => anyhow::bail!("CI failed in stage `{name}`"),
        None => Ok(()),
    }
}

/// Installs the pinned tools the tests drive (moto's server, the aws CLI, Chromium, ...).
fn setup() -> Result<()> {
    sh(
        "if [ -f .ci/requirements.txt ]; then python3 -m pip install --quiet --disable-pip-version-check -r .ci/requirements.txt; fi",
    )?;
    // The browser tests drive Debian's Chromium; nothing here may download a browser build.
    sh(
        "command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }",
    )
}

fn fmt() -> Result<()> {
    cmd("cargo", &["fmt", "--all", "--", "--check"])
}

fn clippy() -> Result<()> {
    cmd(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ],
    )
}

fn test() -> Result<()> {
    cmd(
        "cargo",
        &["nextest", "run", "--workspace", "--no-fail-fast"],
    )
}

/// The apps: type-check, unit and component tests, the production build, the browser tests
/// in Chromium, and the tests against a real `presso serve` (`target/debug/presso`, built by
/// the test stage): the realtime broker through mqtt.js, and the three apps' journeys in three
/// Chromium contexts at once, with no request intercepted.
fn frontend() -> Result<()> {
    start_lambda_build()?;
    sh("cd frontend && npm ci --no-audit --no-fund --loglevel=error")?;
    sh("cd frontend && npm run --silent typecheck")?;
    sh("cd frontend && npm test --silent")?;
    sh("cd frontend && npm run --silent build")?;
    sh("cd frontend && node e2e/smoke.mjs")?;
    cmd(
        "cargo",
        &[
            "build",
            "--quiet",
            "--package",
            "presso-local",
            "--bin",
            "presso",
        ],
    )?;
    sh("cd frontend && node e2e/mqtt-client.mjs")?;
    sh("cd frontend && node e2e/journey.mjs")
}

/// The HTTP API abused with schemathesis (pinned in `tools/abuse/requirements.txt`, in its own
/// virtualenv): every operation of `docs/api/openapi.json` as each role against a running
/// presso, plus hand-written bodies and tokens. 25 examples per operation here; `cargo xtask
/// soak` runs 200.
fn abuse() -> Result<()> {
    sh("set -e
        venv=target/abuse-venv
        if [ ! -x $venv/bin/python ]; then python3 -m venv $venv; fi
        $venv/bin/pip install --quiet --disable-pip-version-check -r tools/abuse/requirements.txt
        cargo build --quiet --package presso-local --bin presso
        $venv/bin/python tools/abuse/run.py --presso target/debug/presso --examples 25")
}

/// Whether this run includes the lambdas stage (so the frontend stage may start its build).
static OVERLAP_LAMBDAS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The Lambda build running in the background, with its log.
static LAMBDA_BUILD: std::sync::Mutex<Option<(std::process::Child, std::path::PathBuf, Instant)>> =
    std::sync::Mutex::new(None);

/// Starts the Lambda build (see [`lambdas`]) at the lowest CPU priority once the tests are
/// done, so it runs alongside the stages that mostly wait on browsers, Python and npm.
fn start_lambda_build() -> Result<()> {
    if !OVERLAP_LAMBDAS.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    let mut slot = LAMBDA_BUILD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if slot.is_some() {
        return Ok(());
    }
    std::fs::create_dir_all("target")?;
    let log_path = std::path::PathBuf::from("target/ci-lambdas.log");
    let log = std::fs::File::create(&log_path)?;
    let build = crate::lambdas::command("ci")?;
    let mut cmd = std::process::Command::new("nice");
    cmd.arg("-n")
        .arg("19")
        .arg(build.get_program())
        .args(build.get_args());
    for (k, v) in build.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let child = cmd
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting the Lambda build")?;
    eprintln!(
        "(the Lambda build runs in the background from here, at low priority; log: {})",
        log_path.display()
    );
    *slot = Some((child, log_path, Instant::now()));
    Ok(())
}

/// Every Lambda binary, built as `sam build` builds it (cargo-lambda, here x86_64 under the
/// thin-LTO `ci` profile, sized for cold starts), with its size. Waits for the build started
/// alongside the frontend stage, or runs it here when that stage was not selected.
fn lambdas() -> Result<()> {
    let started = LAMBDA_BUILD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    let Some((mut child, log_path, since)) = started else {
        return crate::lambdas::run(&[]);
    };
    let status = child.wait()?;
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    if !status.success() {
        eprintln!("{log}");
        anyhow::bail!("cargo lambda build failed ({status})");
    }
    if let Some(done) = log.lines().rev().find(|l| l.contains("Finished")) {
        eprintln!("{}", done.trim());
    }
    eprintln!(
        "(built in the background since the frontend stage: {:.1}s in all; this stage's time is the wait)",
        since.elapsed().as_secs_f64()
    );
    crate::lambdas::report("ci")
}

/// `template.yaml` and the state machine through AWS's own linters: cfn-lint and
/// `sam validate --lint` (pinned in `tools/template-lint/requirements.txt`, in their own
/// virtualenv because aws-sam-cli pins a newer botocore than the awscli the tests use) and
/// asl-validator (pinned by `tools/template-lint/package-lock.json`). All work offline.
fn lint_template() -> Result<()> {
    sh("set -e
        venv=target/template-lint-venv
        if [ ! -x $venv/bin/sam ]; then python3 -m venv $venv; fi
        $venv/bin/pip install --quiet --disable-pip-version-check -r tools/template-lint/requirements.txt
        $venv/bin/cfn-lint template.yaml
        SAM_CLI_TELEMETRY=0 $venv/bin/sam validate --lint --region us-east-1
        cd tools/template-lint && npm ci --no-audit --no-fund --silent
        npx --no-install asl-validator --json-path ../../statemachine/order-processor.asl.json")
}
