//! Fakes of devices that cannot run here, for this crate's tests and the server's (feature
//! `testing`). Each speaks its device's real protocol from recorded traffic.

pub mod hue_bridge;
