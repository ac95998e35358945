//! The shared language of Switchyard: resources, quick-ids, messages, events, filters, and the traits
//! every plugin kind implements (bus, storage, metrics). Nothing here does I/O.

pub mod action;
pub mod bus;
pub mod entity;
pub mod error;
pub mod event;
pub mod filter;
pub mod key_path;
pub mod message;
pub mod metrics;
pub mod model;
pub mod pushdown;
pub mod quick_id;
pub mod rate_log;
pub mod resource;
pub mod secret_key;
pub mod service_filter;
pub mod sleeping_queue;
pub mod storage;
pub mod store;
pub mod timestamp;
pub mod topics;
pub mod value;

pub use entity::EntityKind;
pub use error::CoreError;
pub use event::{Event, EventType};
pub use message::{Message, MessageType, Payload};
pub use quick_id::QuickId;
pub use resource::Resource;
