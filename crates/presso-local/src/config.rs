//! The `presso` command line and the typed configuration `presso serve` runs with.
//!
//! Flags are parsed once, in `main`, into [`Config`]; nothing else in the crate reads the
//! command line or the environment. Every flag of the `presso serve` contract is accepted,
//! including those whose services arrive later (a template, the apps, the MQTT port).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "presso", version, about = "The Serverlesspresso local cloud")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve AWS's wire protocols (and later the app) on one port.
    Serve(ServeArgs),
    /// Play displays, customers and baristas against a running system, with live figures.
    Robot(presso_robot::Options),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The SAM template to wire the app from (without one, presso serves the AWS APIs alone).
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to bind; 0 picks a free one (the log line names it).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The URL QR codes and /config.json point at (default http://<host>:<port>).
    #[arg(long)]
    pub public_url: Option<String>,
    /// Where durable state lives.
    #[arg(long, default_value = "./.presso", conflicts_with = "in_memory")]
    pub data_dir: PathBuf,
    /// Keep all state in memory (gone when presso stops).
    #[arg(long)]
    pub in_memory: bool,
    /// The built apps to serve.
    #[arg(long)]
    pub static_dir: Option<PathBuf>,
    /// How fast workflow timers run relative to the wall clock.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// The region local ARNs name (state machines, executions).
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// The account id local ARNs name.
    #[arg(long, default_value = "000000000000")]
    pub account_id: String,
    /// Plain MQTT port (MQTT over WebSocket is always on the main port).
    #[arg(long)]
    pub mqtt_port: Option<u16>,
    /// Template parameters as `Key=Value` (several per argument, space-separated, as `sam
    /// deploy --parameter-overrides` takes them).
    #[arg(long, num_args = 1..)]
    pub parameter_overrides: Vec<String>,
}

/// Where the store keeps its data.
#[derive(Debug, Clone, PartialEq)]
pub enum Storage {
    Dir(PathBuf),
    InMemory,
}

/// Everything `presso serve` needs, resolved from the flags.
#[derive(Debug, Clone)]
pub struct Config {
    pub template: Option<PathBuf>,
    pub host: String,
    pub port: u16,
    pub public_url: Option<String>,
    pub storage: Storage,
    pub static_dir: Option<PathBuf>,
    pub time_scale: f64,
    pub region: String,
    pub account_id: String,
    pub mqtt_port: Option<u16>,
    pub parameter_overrides: Vec<String>,
    /// The crates functions can be hosted from.
    pub functions: crate::app::FunctionRegistry,
}

impl Config {
    /// A configuration for tests: in memory, loopback, any port.
    pub fn in_memory() -> Config {
        Config {
            template: None,
            host: "127.0.0.1".to_string(),
            port: 0,
            public_url: None,
            storage: Storage::InMemory,
            static_dir: None,
            time_scale: 1.0,
            region: "us-east-1".to_string(),
            account_id: "000000000000".to_string(),
            mqtt_port: None,
            parameter_overrides: Vec::new(),
            functions: crate::app::builtin_functions(),
        }
    }
}

impl From<ServeArgs> for Config {
    fn from(a: ServeArgs) -> Config {
        Config {
            template: a.template,
            host: a.host,
            port: a.port,
            public_url: a.public_url,
            storage: if a.in_memory {
                Storage::InMemory
            } else {
                Storage::Dir(a.data_dir)
            },
            static_dir: a.static_dir,
            time_scale: a.time_scale,
            region: a.region,
            account_id: a.account_id,
            mqtt_port: a.mqtt_port,
            parameter_overrides: a.parameter_overrides,
            functions: crate::app::builtin_functions(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("presso").chain(args.iter().copied()))?;
        match cli.command {
            Command::Serve(a) => Ok(a.into()),
            Command::Robot(_) => panic!("not a serve command"),
        }
    }

    #[test]
    fn robot_parses_its_rate_and_duration() {
        let cli = Cli::try_parse_from([
            "presso",
            "robot",
            "--rate",
            "250",
            "--duration",
            "5",
            "--events",
            "0",
            "--raise-limits",
        ])
        .unwrap();
        let Command::Robot(o) = cli.command else {
            panic!("not robot")
        };
        assert_eq!((o.rate, o.duration, o.events), (250.0, 5.0, 0));
        assert!(o.raise_limits);
        assert_eq!(o.url, "http://127.0.0.1:8080");
    }

    #[test]
    fn serve_defaults_to_loopback_port_8080_and_the_presso_folder() {
        let c = parse(&["serve"]).unwrap();
        assert_eq!(c.host, "127.0.0.1");
        assert_eq!(c.port, 8080);
        assert_eq!(c.storage, Storage::Dir(PathBuf::from("./.presso")));
    }

    #[test]
    fn serve_accepts_every_flag_of_the_contract() {
        let c = parse(&[
            "serve",
            "--template",
            "t.yaml",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--public-url",
            "http://10.0.0.2:8080",
            "--in-memory",
            "--static-dir",
            "frontend/dist",
            "--time-scale",
            "60",
            "--mqtt-port",
            "1883",
        ])
        .unwrap();
        assert_eq!(c.storage, Storage::InMemory);
        assert_eq!(c.mqtt_port, Some(1883));
        assert_eq!(c.time_scale, 60.0);
    }

    #[test]
    fn parameter_overrides_take_several_values() {
        let c = parse(&["serve", "--parameter-overrides", "A=1 B=2", "C=3"]).unwrap();
        assert_eq!(c.parameter_overrides, vec!["A=1 B=2", "C=3"]);
    }

    #[test]
    fn data_dir_and_in_memory_exclude_each_other() {
        assert!(parse(&["serve", "--data-dir", "x", "--in-memory"]).is_err());
    }
}
