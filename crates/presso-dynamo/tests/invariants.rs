//! Architecture invariant: presso-dynamo never does network IO. Its normal dependencies are
//! storage, serialisation and error crates only; the HTTP endpoint lives in presso-local.

#[test]
fn presso_dynamo_depends_on_no_network_or_async_crate() {
    let manifest = include_str!("../Cargo.toml");
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .unwrap_or("");
    for forbidden in [
        "tokio", "hyper", "axum", "reqwest", "aws-sdk", "tower", "http",
    ] {
        assert!(
            !deps.lines().any(|l| l.trim_start().starts_with(forbidden)),
            "presso-dynamo must not depend on {forbidden}"
        );
    }
}
