//! Forward payload: when a field's value is updated, set it on the destination field (any
//! gateway) as a normal `set`, optionally transformed by a template or script (which see
//! `value`, `previousValue` and `field`).
//!
//! Loops: a cycle (A→B→A, or longer) is refused when a forward payload is created (the API uses
//! [`switchyard_core::model::find_cycle`]) and skipped when loaded; at run time a hop counter
//! stops any chain longer than `hop_limit`: when we forward to B, an update of B within
//! `hop_window` counts as the next hop of the same chain.

mod service;

pub use service::ForwardPayloadService;
