//! Every integration test of the embedded bus, in one binary to keep link time down.

mod common;
mod conformance;
mod delivery;
mod lifecycle;
mod overload;
mod queue_group;
mod request;
mod validation;
