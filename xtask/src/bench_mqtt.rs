//! `cargo xtask bench mqtt`: fan-out of the realtime broker (`crates/presso-mqtt`).
//!
//! Runs the crate's `fanout` example, optimised: 1,000 subscribers on one topic, 200 server-side
//! publishes 20 ms apart, reporting p50/p99/max of the delivery latency (publish call to a
//! subscriber holding the message), of the time until the last subscriber has a message, and of
//! the `publish` call itself. Three scenarios: WebSocket at QoS 0, WebSocket at QoS 1, TCP at
//! QoS 0. Subscribers share the machine with the broker, so the figures bound the broker's share
//! from above. Needs an open-file limit above about 2,100 (`ulimit -n`). Extra arguments go to
//! every scenario (e.g. `--subscribers 2000`).

use anyhow::Result;

const SCENARIOS: &[&[&str]] = &[
    &["--transport", "ws", "--qos", "0"],
    &["--transport", "ws", "--qos", "1"],
    &["--transport", "tcp", "--qos", "0"],
];

pub fn run(args: &[String]) -> Result<()> {
    for scenario in SCENARIOS {
        let mut cmd = vec![
            "run",
            "--quiet",
            "--profile",
            "bench",
            "--package",
            "presso-mqtt",
            "--example",
            "fanout",
            "--",
            "--subscribers",
            "1000",
            "--messages",
            "200",
            "--interval-ms",
            "20",
        ];
        cmd.extend_from_slice(scenario);
        cmd.extend(args.iter().map(String::as_str));
        crate::util::run("cargo", &cmd)?;
    }
    Ok(())
}
