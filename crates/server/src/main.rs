//! `switchyard`: the all-in-one server and its small command line.

mod app;
mod backends;
mod cli;
mod distributed;
mod headers;
mod logging;
mod secrets_at_rest;
mod status;
mod storage_cmd;
mod storage_health;
mod web;

use clap::Parser;
use switchyard_server::config;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchyard: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
