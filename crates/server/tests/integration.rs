//! The real `switchyard` binary, started as a user would.

mod api_auth;
mod cli;
mod crash;
mod server;
mod shutdown;
