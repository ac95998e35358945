//! Every integration test of the NATS bus, in one binary, each against a `nats-server -js` of
//! its own on a free loopback port (see `server`).

mod conformance;
mod durable;
mod server;
