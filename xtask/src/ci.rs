//! `cargo xtask ci`: the one test command. CI runs it on a fresh clone (`.ci/run`), so every
//! stage installs what it needs itself, pinned, and the run ends with a table of stage times.

use crate::util::{run as cmd, sh};
use anyhow::Result;
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

/// Every Lambda binary, built as `sam build` builds it (cargo-lambda, here x86_64 under the
/// thin-LTO `ci` profile), with its size.
fn lambdas() -> Result<()> {
    crate::lambdas::run(&[])
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
