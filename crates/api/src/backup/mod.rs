//! Backups of everything in storage plus the firmware files, kept in `<data_dir>/backups/`.

pub mod archive;
