//! Logs: JSON lines on Lambda (CloudWatch's JSON log format reads them), filtered by
//! `RUST_LOG` (default `info`).

/// Installs the JSON subscriber once; a second call (tests, presso) does nothing.
pub fn init_json() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time()
        .with_target(false)
        .try_init();
}
