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

/// jemalloc instead of glibc's malloc: under ingest load glibc's allocator took 43 % of the
/// server's CPU (`_int_malloc`, `malloc_consolidate`, …), and it kept the 20 MiB a password
/// hash (argon2) had freed, doubling the idle RSS. mimalloc was measured too: a little faster,
/// but both its 2.x and 3.x lines held that memory. Figures: docs/benchmarks.md.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
