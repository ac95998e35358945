//! `switchyard storage …`: copying everything between two backends, and importing a
//! MyController 2.x backup.

pub mod migrate;
pub mod mycontroller;
