//! Backups of everything in storage plus the firmware files (and, when asked for, the metric
//! history), kept in `<data_dir>/backups/`.

pub mod archive;
pub mod make;
pub mod metrics;
pub mod secrets;
