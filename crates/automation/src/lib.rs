//! Automation: the task service (rules, scripts and webhooks watching events or intervals), the
//! scheduler (cron, repeat, calendar, sunrise/sunset), the handler service (email, telegram,
//! webhook, resource, backup, mqtt, noop) and forward payloads.
//!
//! Services talk only through the bus and read and write resources through the [`Store`]. Each is
//! a `run(self, cancel)` loop; each resource runs in its own tokio task with a bounded queue and a
//! timeout, so a slow webhook or a runaway script delays nothing but itself. What must outlive a
//! restart (task state, dampening history, re-enable times, the scheduler's last and next runs,
//! pending delayed actions) is in storage; see `docs/automation.md`.
//!
//! [`Store`]: switchyard_core::store::Store

pub mod action;
pub mod clock;
pub mod commands;
pub mod config;
pub mod context;
pub mod error;
pub mod forward_payload;
pub mod handler;
pub mod notify;
mod run_end;
pub mod scheduler;
pub mod state;
pub mod task;
pub mod variables;

pub use clock::Clock;
pub use config::AutomationConfig;
pub use context::Context;
pub use error::AutomationError;
pub use forward_payload::ForwardPayloadService;
pub use handler::HandlerService;
pub use scheduler::SchedulerService;
pub use task::TaskService;
