//! `cargo xtask bench mqtt`: fan-out of the realtime broker (`crates/presso-mqtt`).
//!
//! Runs the crate's `fanout` example, optimised: 1,000 subscribers on one topic and server-side
//! publishes, reporting p50/p99/max of the delivery latency (publish call to a subscriber holding
//! the message), of the time until the last subscriber has a message, and of the `publish` call
//! itself. Scenarios: one message every 100 ms (each fan-out on its own: the target is p99 under
//! 50 ms) over WebSocket at QoS 0 and 1 and over TCP, and one every 20 ms (50,000 deliveries a
//! second, a throughput stress). Subscribers share the machine with the broker, so the figures
//! bound the broker's share from above; the load average is printed with them. Needs an open-file
//! limit above about 2,100 (`ulimit -n`). Extra arguments go to every scenario.

use anyhow::Result;

const SCENARIOS: &[&[&str]] = &[
    &["--transport", "ws", "--qos", "0", "--interval-ms", "100"],
    &["--transport", "ws", "--qos", "1", "--interval-ms", "100"],
    &["--transport", "tcp", "--qos", "0", "--interval-ms", "100"],
    &["--transport", "ws", "--qos", "0", "--interval-ms", "20"],
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
            "100",
        ];
        cmd.extend_from_slice(scenario);
        cmd.extend(args.iter().map(String::as_str));
        crate::util::run("cargo", &cmd)?;
    }
    Ok(())
}
