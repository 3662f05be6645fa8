//! Small helpers for running commands and timing them.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::Command;

/// Tasks run from the workspace root whatever directory `cargo xtask` was called from.
pub fn cd_to_workspace_root() -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask lives one level below the workspace root")?
        .to_path_buf();
    std::env::set_current_dir(&root).with_context(|| format!("cd {}", root.display()))
}

/// Runs a command with inherited stdio and fails if it fails.
pub fn run(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("could not start `{program}`"))?;
    if !status.success() {
        bail!("`{program} {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

/// Runs a shell snippet (for the install steps, which are shell by nature).
pub fn sh(script: &str) -> Result<()> {
    run("bash", &["-euo", "pipefail", "-c", script])
}

/// A process's resident memory now (`VmRSS`), KiB.
pub fn rss_kib(pid: u32) -> Result<u64> {
    status_kib(pid, "VmRSS:")
}

/// A process's peak resident memory so far (`VmHWM`), KiB.
pub fn peak_rss_kib(pid: u32) -> Result<u64> {
    status_kib(pid, "VmHWM:")
}

fn status_kib(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{field} in /proc/{pid}/status"))
}
