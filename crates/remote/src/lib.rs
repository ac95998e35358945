//! What a process needs to run some services away from the core, over any bus:
//!
//! - [`RemoteStorage`]: a [`Storage`](switchyard_core::storage::Storage) whose every call is a
//!   request on `rpc.resource.<op>`, answered by the core's [`ResourceService`] from the real
//!   backend. Services that use a `Store` run remotely unchanged, and never open the database.
//! - [`liveness`]: each process announces itself; the core keeps the list (shown in
//!   `/api/status`) and marks the gateways of a process that went quiet as down.

pub mod liveness;
mod resource_service;
mod storage;
mod wire;

pub use resource_service::ResourceService;
pub use storage::RemoteStorage;
