//! `cargo xtask soak`: the long versions of the reliability and abuse checks CI runs short.
//!
//! 1. The load tests (`crates/presso-local/tests/load`: the robot's journeys, `kill -9` under
//!    load, the races) with `PRESSO_SOAK_SECONDS` of load around the crash (default 120).
//! 2. The API abuse suite (`tools/abuse/run.py`: schemathesis against the OpenAPI document and
//!    a running presso, every operation as every role) with 200 examples per operation.
//!
//! Arguments: `--seconds S`, `--examples N`.

use anyhow::{Context, Result, bail};

pub fn run(args: &[String]) -> Result<()> {
    let mut seconds = 120u64;
    let mut examples = 200u64;
    let mut it = args.iter();
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--seconds" => seconds = v.parse()?,
            "--examples" => examples = v.parse()?,
            other => bail!("unknown argument {other} (known: --seconds, --examples)"),
        }
    }
    let t = std::time::Instant::now();
    crate::util::sh(&format!(
        "PRESSO_SOAK_SECONDS={seconds} cargo nextest run --no-fail-fast --package presso-local --test load"
    ))?;
    eprintln!("soak: load tests took {:.0} s", t.elapsed().as_secs_f64());
    let t = std::time::Instant::now();
    crate::util::sh(&format!(
        "set -e
         venv=target/abuse-venv
         if [ ! -x $venv/bin/python ]; then python3 -m venv $venv; fi
         $venv/bin/pip install --quiet --disable-pip-version-check -r tools/abuse/requirements.txt
         cargo build --quiet --package presso-local --bin presso
         $venv/bin/python tools/abuse/run.py --presso target/debug/presso --examples {examples}"
    ))?;
    eprintln!("soak: abuse suite took {:.0} s", t.elapsed().as_secs_f64());
    Ok(())
}
