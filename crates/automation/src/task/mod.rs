//! The task service: each enabled task runs in its own tokio task, fed by a bounded queue of the
//! events that pass its filter (or by its interval), evaluates (rule, JavaScript or webhook),
//! applies dampening and `ignoreDuplicate`, notifies its handlers, and stores its state.

pub mod dampening;
pub mod evaluate;
pub mod event_filter;
mod runner;
mod service;

pub use service::TaskService;
