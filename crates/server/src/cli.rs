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
    /// Storage tools: copy between backends, import a MyController backup.
    Storage {
        #[command(subcommand)]
        command: StorageCommand,
    },
}

#[derive(Subcommand)]
enum StorageCommand {
    /// Copy every resource from one backend to another (the target is replaced), then compare
    /// the counts per entity. Each file is a Switchyard config; its `storage:` and `data_dir` count.
    Migrate {
        #[arg(long)]
        from: PathBuf,
        #[arg(long)]
        to: PathBuf,
    },
    /// Import a MyController 2.x backup zip into the configured storage (atomic).
    ImportMycontroller {
        /// The backup zip (`…_mc_backup_<yaml|json>_<time>.zip`).
        zip: PathBuf,
        #[command(flatten)]
        args: ServeArgs,
        /// Replace whatever the storage holds (otherwise a non-empty storage is refused).
        #[arg(long)]
        replace: bool,
    },
}

fn block_on<T>(f: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(f)
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
    /// Services this process runs, e.g. `gateway,handler` (overrides `process.services`).
    #[arg(long, env = "SWITCHYARD_SERVICES", value_delimiter = ',')]
    services: Option<Vec<String>>,
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
    if let Some(services) = args.services {
        cfg.process.services = services;
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
        Command::Storage {
            command: StorageCommand::Migrate { from, to },
        } => {
            let counts = block_on(crate::storage_cmd::migrate::run(&from, &to))?;
            for (kind, (exported, stored)) in counts {
                println!("{kind}: {exported} copied, {stored} in the target");
            }
            println!("migration complete: counts match");
            Ok(())
        }
        Command::Storage {
            command: StorageCommand::ImportMycontroller { zip, args, replace },
        } => {
            let cfg = load(args)?;
            let report = block_on(crate::storage_cmd::mycontroller::run(&cfg, &zip, replace))?;
            for (kind, n) in &report.imported {
                println!("{kind}: {n} imported");
            }
            for (entity, n) in &report.skipped {
                println!("{entity}: {n} skipped (no such resource in Switchyard)");
            }
            println!("firmware files: {}", report.firmware_files);
            println!(
                "users: {} keep their MyController (bcrypt) password hash until their first login \
                 replaces it (labelled password_reset_required=true until then)",
                report.users_to_reset
            );
            if report.encrypted_secrets > 0 {
                println!(
                    "secrets: {} values are encrypted with MyController's `secret`; re-enter them",
                    report.encrypted_secrets
                );
            }
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
