//! `cargo xtask lambdas`: every Lambda crate built as AWS runs it (`bootstrap` for
//! `provided.al2023`), with `cargo lambda build` under the `ci` profile (the release profile,
//! sized with `opt-level = "z"`, under thin LTO, stripped), for x86_64 (this machine has no
//! arm64 standard library; `sam build` builds arm64 where it has one). Prints each binary's
//! size against the 8 MB target and fails when a function's binary is missing.
//!
//! `--release` builds with the full release profile (fat LTO) instead, as a deployment does.

use anyhow::{Context, Result, bail};
use std::path::Path;

/// The crates with a Lambda `main` (everything `crates/presso-fn-*` but the shared library).
pub fn function_crates() -> Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("crates").context("reading crates/")? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("presso-fn-") && entry.path().join("src/main.rs").is_file() {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// Where the Lambda builds keep their artifacts: a target directory of their own, so a Lambda
/// build never waits on (or holds) the lock of the workspace's `target/`, and CI can run it
/// alongside the stages that build presso. Their profiles share nothing with debug builds.
pub const TARGET_DIR: &str = "target/lambda-build";

/// The `cargo lambda build` of every function crate under `profile`, binaries to
/// `target/lambda/<crate>/bootstrap`.
pub fn command(profile: &str) -> Result<std::process::Command> {
    let crates = function_crates()?;
    if crates.is_empty() {
        bail!("no function crates under crates/");
    }
    let mut cmd = std::process::Command::new("cargo");
    cmd.args([
        "lambda",
        "build",
        "--compiler",
        "cargo",
        "--target",
        "x86_64-unknown-linux-gnu",
        "--profile",
        profile,
        "--lambda-dir",
        "target/lambda",
    ]);
    for c in &crates {
        cmd.args(["--package", c.as_str()]);
    }
    cmd.env("CARGO_TARGET_DIR", TARGET_DIR);
    Ok(cmd)
}

pub fn run(args: &[String]) -> Result<()> {
    let profile = if args.iter().any(|a| a == "--release") {
        "release"
    } else {
        "ci"
    };
    let mut cmd = command(profile)?;
    eprintln!("+ {cmd:?}");
    let status = cmd.status().context("running cargo lambda build")?;
    if !status.success() {
        bail!("cargo lambda build failed ({status})");
    }
    report(profile)
}

/// Prints each binary's size against the target; fails when one is missing.
pub fn report(profile: &str) -> Result<()> {
    let crates = function_crates()?;
    const TARGET_BYTES: u64 = 8_000_000;
    println!("\nLambda binaries (x86_64, profile {profile}, stripped):");
    println!("{:<32} {:>10}  target ≤ 8 MB", "function", "size");
    let mut missing = Vec::new();
    for c in &crates {
        let path = Path::new("target/lambda").join(c).join("bootstrap");
        match std::fs::metadata(&path) {
            Ok(m) => {
                let mb = m.len() as f64 / 1e6;
                let verdict = if m.len() <= TARGET_BYTES {
                    "ok"
                } else {
                    "over"
                };
                println!("{c:<32} {mb:>7.2} MB  {verdict}");
            }
            Err(_) => missing.push(path.display().to_string()),
        }
    }
    if !missing.is_empty() {
        bail!("no binary at {}", missing.join(", "));
    }
    Ok(())
}
