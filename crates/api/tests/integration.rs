//! The API in-process: the real router over memory storage, the embedded bus and the embedded
//! metric store, driven through `tower::ServiceExt::oneshot`.

mod integration {
    pub mod access;
    pub mod actions;
    pub mod answers;
    pub mod harness;
    pub mod resources;
    pub mod sleeping_queue;
    pub mod users;
}
