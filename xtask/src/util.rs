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
