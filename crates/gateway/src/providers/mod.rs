//! Provider plugins, one folder each.

pub mod mysensors;
