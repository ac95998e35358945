//! Provider plugins, one folder each.

pub mod echo;
pub mod esphome;
pub mod generic;
pub mod hue;
pub mod mysensors;
pub mod sysmon;
pub mod tasmota;
