//! The scheduler: each enabled schedule runs in its own tokio task that sleeps until its next run,
//! checks the validity window, loads variables (and custom variables from a script or webhook),
//! notifies its handlers, and stores `lastRun`, `nextRun` and counters in `schedule.state`.

pub mod next_run;
mod runner;
mod service;
pub mod validity;

pub use service::SchedulerService;
