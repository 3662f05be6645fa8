//! `cargo xtask`: the project's automation, in Rust instead of Makefiles.
//!
//! Every task is a function here or in a module of its own; each shells out to the
//! ordinary tools (`cargo`, `pip`, `npm`, `sam`) so what CI does can be repeated by hand.
//! Tasks:
//! - `ci`: everything CI checks, stage by stage, with how long each took.
//! - `serve`: build what the system needs and run `presso serve` with the project's template.
//! - `bench [name]`: the benchmarks, each side by side with its peer.
//! - `lambdas`: every Lambda crate built for `provided.al2023` (x86_64), with its size.
//! - `deploy`: `sam build`, `sam deploy`, the apps to S3 and a CloudFront invalidation.
//! - `soak`: the long versions of the load, crash, race and abuse tests.

mod bench_asl;
mod bench_dynamo;
mod bench_events;
mod bench_journeys;
mod bench_lambdas;
mod bench_mqtt;
mod bench_sfn;
mod ci;
mod deploy;
mod lambdas;
mod soak;
mod util;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    util::cd_to_workspace_root()?;
    match task {
        "ci" => ci::run(rest),
        "serve" => serve(rest),
        "bench" => bench(rest),
        "lambdas" => lambdas::run(rest),
        "deploy" => deploy::run(rest),
        "soak" => soak::run(rest),
        "help" | "--help" | "-h" => {
            print_help();
            Ok(())
        }
        other => {
            print_help();
            bail!("unknown task `{other}`")
        }
    }
}

fn print_help() {
    eprintln!(
        "usage: cargo xtask <task>\n\n\
         tasks:\n  \
         ci            run every check CI runs, printing each stage's time\n  \
         serve [ARGS]  build and run `presso serve` with the project's template and apps\n  \
         bench [NAME]  run the benchmarks (all, or one by name)\n  \
         lambdas       build every Lambda binary (x86_64) and print their sizes\n  \
         deploy        sam build + sam deploy, upload the apps, invalidate CloudFront\n  \
         soak          the long load, crash, race and abuse runs (CI runs them short)"
    );
}

/// The README's first command: the whole system on one machine. Builds the apps when they are
/// missing, then runs `presso serve` with the project's template, the apps and local values for
/// the parameters only AWS needs (the SES identity, the first barista's address).
fn serve(args: &[String]) -> Result<()> {
    if !std::path::Path::new("frontend/dist/order/index.html").exists() {
        util::sh(
            "cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build",
        )?;
    }
    let mut cmd = vec![
        "run",
        "--quiet",
        "--profile",
        "local",
        "--package",
        "presso-local",
        "--bin",
        "presso",
        "--",
        "serve",
        "--template",
        "template.yaml",
        "--static-dir",
        "frontend/dist",
    ];
    // Later overrides win, so a user's own `--parameter-overrides` still applies.
    cmd.extend([
        "--parameter-overrides",
        "AdminEmail=barista@example.com",
        "SesIdentityArn=arn:aws:ses:us-east-1:000000000000:identity/example.com",
        "SesFromAddress=coffee@example.com",
    ]);
    cmd.extend(args.iter().map(String::as_str));
    util::run("cargo", &cmd)
}

fn bench(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("asl") => bench_asl::run(&args[1..]),
        Some("dynamo") => bench_dynamo::run(&args[1..]),
        Some("events") => bench_events::run(&args[1..]),
        Some("journeys") => bench_journeys::run(&args[1..]),
        Some("lambdas") => bench_lambdas::run(&args[1..]),
        Some("mqtt") => bench_mqtt::run(&args[1..]),
        Some("sfn") => bench_sfn::run(&args[1..]),
        None => {
            bench_asl::run(&[])?;
            bench_dynamo::run(&[])?;
            bench_mqtt::run(&[])
        }
        Some(other) => bail!(
            "unknown benchmark `{other}` (known: asl, dynamo, events, journeys, lambdas, mqtt, sfn)"
        ),
    }
}
