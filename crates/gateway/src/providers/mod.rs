//! Provider plugins, one folder each.

pub mod mysensors;
pub mod tasmota;
