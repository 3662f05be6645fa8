//! The `presso` binary: parses the command line and runs the local cloud until Ctrl-C or
//! SIGTERM.

use anyhow::Context;
use clap::Parser;
use presso_local::Config;
use presso_local::config::{Cli, Command};

// The engine and the stores allocate many small, short-lived values (JSON documents, paths,
// intrinsic arguments); mimalloc serves them markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let config = Config::from(args);
            let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port))
                .await
                .with_context(|| format!("cannot bind {}:{}", config.host, config.port))?;
            presso_local::run(listener, shutdown_signal(), config).await?;
        }
        Command::Robot(options) => {
            let report_path = options.report.clone();
            let report = presso_robot::run(options).await?;
            print!("{}", report.table());
            println!("report: {}", report_path.display());
            if report.finished == 0 {
                anyhow::bail!("no journey finished");
            }
        }
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
