//! The command line: `greenroom serve` and `greenroom validate`, with their shared options.
//!
//! Parsing only; what each command does lives in `main.rs` and the modules it calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Greenroom: a fast, self-hosted developer portal that reads Backstage's catalog files and
/// app-config.
#[derive(Debug, Parser)]
#[command(name = "greenroom", version, about, long_about = None)]
pub struct Cli {
    /// Log line format. Levels come from RUST_LOG (e.g. RUST_LOG=debug, RUST_LOG=server=trace).
    #[arg(long, value_enum, global = true, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// What to do; `serve` when omitted (so `cargo leptos watch`, which starts the binary
    /// without arguments, serves the portal).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal (UI, Backstage-compatible APIs and health endpoints).
    Serve(ConfigArgs),
    /// Check the configuration and print every problem found; exits non-zero if there is any.
    /// Made for CI: run it on a pull request that changes app-config or catalog files.
    Validate(ConfigArgs),
}

/// Where configuration comes from (Backstage's `--config` semantics).
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Config file to load; repeat for several, later files win. When given, it replaces the
    /// defaults (app-config.yaml, then app-config.local.yaml if present, in the working dir).
    #[arg(long = "config", short = 'c', value_name = "FILE")]
    pub config: Vec<PathBuf>,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_repeatable_and_keeps_order() {
        let cli = Cli::try_parse_from([
            "greenroom",
            "validate",
            "--config",
            "a.yaml",
            "--config",
            "b.yaml",
        ])
        .expect("valid command line");
        match cli.command {
            Some(Command::Validate(args)) => {
                assert_eq!(
                    args.config,
                    [PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]
                )
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn log_format_is_global_and_checked() {
        let cli = Cli::try_parse_from(["greenroom", "serve", "--log-format", "json"])
            .expect("valid command line");
        assert_eq!(cli.log_format, LogFormat::Json);
        let err = Cli::try_parse_from(["greenroom", "serve", "--log-format", "xml"])
            .expect_err("xml is not a format");
        assert!(err.to_string().contains("xml"), "{err}");
    }

    #[test]
    fn no_subcommand_means_serve_with_default_files() {
        let cli = Cli::try_parse_from(["greenroom"]).expect("valid");
        assert!(cli.command.is_none());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
