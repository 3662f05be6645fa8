//! `cargo xtask deploy`: the operator's one command to put the stack on AWS.
//!
//! 1. `sam build --beta-features` (the functions through cargo-lambda, `rust-cargolambda`);
//! 2. `sam deploy`, guided (`--guided`) the first time — when the stack does not exist yet —
//!    so SAM asks for `AdminEmail`, `SesIdentityArn`, `SesFromAddress` and saves the answers
//!    in `samconfig.toml`;
//! 3. the apps (`frontend/dist`, built when missing) synced to the stack's `AppBucketName`;
//! 4. a CloudFront invalidation of `DistributionId`, so the new apps are served at once;
//! 5. the apps' URLs from the stack's outputs.
//!
//! Arguments: `--stack-name NAME` (default `serverlesspresso`, as `samconfig.toml` says),
//! `--guided` (force the guided deploy), `--dry-run` (print the commands, run nothing).
//! Needs the `sam` and `aws` CLIs with credentials for the target account.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::process::Command;

struct Args {
    stack: String,
    guided: bool,
    dry_run: bool,
}

fn parse(args: &[String]) -> Result<Args> {
    let mut a = Args {
        stack: "serverlesspresso".into(),
        guided: false,
        dry_run: false,
    };
    let mut it = args.iter();
    while let Some(k) = it.next() {
        match k.as_str() {
            "--stack-name" => a.stack = it.next().context("--stack-name NAME")?.clone(),
            "--guided" => a.guided = true,
            "--dry-run" => a.dry_run = true,
            other => bail!("unknown argument {other} (known: --stack-name, --guided, --dry-run)"),
        }
    }
    Ok(a)
}

/// The build and deploy commands, in order.
fn build_and_deploy(stack: &str, guided: bool) -> Vec<Vec<String>> {
    let mut deploy = vec!["sam", "deploy", "--stack-name", stack];
    if guided {
        deploy.push("--guided");
    }
    vec![
        vec!["sam".into(), "build".into(), "--beta-features".into()],
        deploy.into_iter().map(String::from).collect(),
    ]
}

/// The upload and invalidation, once the outputs are known.
fn publish_apps(bucket: &str, distribution: &str) -> Vec<Vec<String>> {
    vec![
        [
            "aws",
            "s3",
            "sync",
            "frontend/dist",
            &format!("s3://{bucket}"),
            "--delete",
        ]
        .map(String::from)
        .to_vec(),
        [
            "aws",
            "cloudfront",
            "create-invalidation",
            "--distribution-id",
            distribution,
            "--paths",
            "/*",
        ]
        .map(String::from)
        .to_vec(),
    ]
}

fn outputs(stack: &str) -> Result<Option<Vec<Value>>> {
    let out = Command::new("aws")
        .args([
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            stack,
            "--output",
            "json",
        ])
        .output()
        .context("running the aws CLI (is it installed?)")?;
    if !out.status.success() {
        return Ok(None);
    }
    let v: Value =
        serde_json::from_slice(&out.stdout).context("describe-stacks answered non-JSON")?;
    Ok(Some(
        v["Stacks"][0]["Outputs"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    ))
}

fn output<'a>(outputs: &'a [Value], key: &str) -> Result<&'a str> {
    outputs
        .iter()
        .find(|o| o["OutputKey"] == key)
        .and_then(|o| o["OutputValue"].as_str())
        .with_context(|| format!("the stack has no output {key}"))
}

fn run_all(commands: &[Vec<String>], dry_run: bool) -> Result<()> {
    for c in commands {
        if dry_run {
            println!("{}", c.join(" "));
        } else {
            let args: Vec<&str> = c[1..].iter().map(String::as_str).collect();
            crate::util::run(&c[0], &args)?;
        }
    }
    Ok(())
}

pub fn run(args: &[String]) -> Result<()> {
    let a = parse(args)?;
    let exists = if a.dry_run {
        !a.guided
    } else {
        outputs(&a.stack)?.is_some()
    };
    run_all(&build_and_deploy(&a.stack, a.guided || !exists), a.dry_run)?;
    if !std::path::Path::new("frontend/dist/order/index.html").exists() && !a.dry_run {
        crate::util::sh(
            "cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build",
        )?;
    }
    if a.dry_run {
        run_all(&publish_apps("<AppBucketName>", "<DistributionId>"), true)?;
        return Ok(());
    }
    let outs = outputs(&a.stack)?.context("the stack is not there after sam deploy")?;
    run_all(
        &publish_apps(
            output(&outs, "AppBucketName")?,
            output(&outs, "DistributionId")?,
        ),
        false,
    )?;
    println!("\nServerlesspresso is deployed:");
    for key in ["DisplayAppUrl", "BaristaAppUrl", "OrderAppUrl"] {
        println!("  {key}: {}", output(&outs, key)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_deploy_is_guided_and_later_ones_are_not() {
        let first = build_and_deploy("serverlesspresso", true);
        assert_eq!(first[0], ["sam", "build", "--beta-features"]);
        assert_eq!(
            first[1],
            [
                "sam",
                "deploy",
                "--stack-name",
                "serverlesspresso",
                "--guided"
            ]
        );
        let later = build_and_deploy("s", false);
        assert!(!later[1].contains(&"--guided".to_string()));
    }

    #[test]
    fn the_apps_go_to_the_bucket_and_the_distribution_is_invalidated() {
        let steps = publish_apps("apps-bucket", "E123");
        assert_eq!(
            steps[0],
            [
                "aws",
                "s3",
                "sync",
                "frontend/dist",
                "s3://apps-bucket",
                "--delete"
            ]
        );
        assert_eq!(steps[1][4], "E123");
        assert_eq!(steps[1].last().map(String::as_str), Some("/*"));
    }

    #[test]
    fn the_template_has_the_outputs_deploy_reads() {
        let template = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"),
        )
        .unwrap();
        let outputs = &template[template.find("\nOutputs:").expect("an Outputs section")..];
        for key in [
            "AppBucketName",
            "DistributionId",
            "DisplayAppUrl",
            "BaristaAppUrl",
            "OrderAppUrl",
        ] {
            assert!(outputs.contains(&format!("  {key}:")), "no output {key}");
        }
    }
}
