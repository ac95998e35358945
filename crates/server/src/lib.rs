//! The parts of the `switchyard` binary that read outside files, as a library so the fuzz
//! targets (`fuzz/`) reach them: the configuration (YAML plus environment) and the MyController
//! backup reader. Everything else lives in the binary (`main.rs`).

pub mod config;
pub mod mycontroller_backup;
