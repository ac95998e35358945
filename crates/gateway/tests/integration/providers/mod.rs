//! Providers end to end: each against a real peer (Mosquitto) or a simulated device speaking
//! the real protocol, through the real gateway service, processor and storage.

mod esphome;
mod generic;
mod harness;
mod hue;
mod sysmon;
mod tasmota;
