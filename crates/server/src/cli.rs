use crate::config::{self, Config};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "switchyard",
    version,
    about = "A self-hosted controller for IoT and home-automation networks"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// YAML configuration file; without it every key takes its default.
    #[arg(long, short, env = "SWITCHYARD_CONFIG")]
    config: Option<PathBuf>,
    /// Where storage, metrics and secrets live (overrides `data_dir`).
    #[arg(long, env = "SWITCHYARD_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address the web console and API listen on (overrides `http.address`), e.g. 0.0.0.0:8080.
    #[arg(long, env = "SWITCHYARD_HTTP")]
    http: Option<String>,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the full default configuration, every key with its comment.
    Default,
    /// Print the configuration the server would run with (file, environment and flags applied).
    Show(ServeArgs),
}

fn load(args: ServeArgs) -> anyhow::Result<Config> {
    let mut cfg = config::load(args.config.as_deref(), std::env::vars())?;
    if let Some(dir) = args.data_dir {
        cfg.data_dir = dir;
    }
    if let Some(http) = args.http {
        cfg.http.address = http;
    }
    Ok(cfg)
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Config {
            command: ConfigCommand::Default,
        } => {
            print!("{}", config::DEFAULT_YAML);
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Show(args),
        } => {
            let cfg = load(args)?;
            print!("{}", serde_norway::to_string(&cfg)?);
            Ok(())
        }
        Command::Serve(args) => {
            let cfg = load(args)?;
            crate::logging::init(&cfg.log)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(crate::app::serve(cfg))
        }
    }
}
