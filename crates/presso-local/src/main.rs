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
