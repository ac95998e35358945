//! The gateway runtime end to end: transports with real peers, the echo provider, the real
//! processor and storage.

mod ethernet;
mod harness;
mod mqtt;
mod mysensors;
mod serial;
