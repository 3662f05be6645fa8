//! `cargo xtask bench dynamo`: presso's DynamoDB store against moto's server.
//!
//! Builds the `presso` binary and presso-dynamo's `dynamo_bench` example with the bench profile, then runs
//! the example: in-process acknowledged writes per second, and over the wire PutItem, GetItem,
//! conditional UpdateItem and a 100-item Query against a warm `presso serve` and a warm moto
//! server on this machine (ops/s, p50, p99, ratio). Needs moto's server
//! (`pip install -r .ci/requirements.txt`). Extra arguments go to the example
//! (`--seconds 5`, `--clients 8`, `--writes 200000`).

use anyhow::Result;

pub fn run(args: &[String]) -> Result<()> {
    crate::util::sh(
        "python3 -c 'import moto.server, flask_cors' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check -r .ci/requirements.txt",
    )?;
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
    let mut cmd = vec![
        "run",
        "--quiet",
        "--profile",
        "bench",
        "--package",
        "presso-dynamo",
        "--example",
        "dynamo_bench",
        "--",
        "--presso",
        "target/release/presso",
    ];
    cmd.extend(args.iter().map(String::as_str));
    crate::util::run("cargo", &cmd)
}
