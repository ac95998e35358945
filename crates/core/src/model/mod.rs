//! One file per resource. JSON field names are camelCase, as MyController's API.

mod common;
mod dashboard;
mod data_repository;
mod field;
mod firmware;
mod forward_payload;
mod gateway;
mod handler;
mod node;
mod schedule;
mod service_token;
mod settings;
mod source;
mod task;
mod user;

pub use common::{Labels, Others, State, Status, normalize_label_key};
pub use dashboard::{Dashboard, Widget, WidgetLayout};
pub use data_repository::DataRepository;
pub use field::{Field, FieldValue, MetricType};
pub use firmware::{Firmware, FirmwareFile};
pub use forward_payload::{ForwardPayload, ForwardTransform, find_cycle};
pub use gateway::Gateway;
pub use handler::Handler;
pub use node::{Node, node_labels};
pub use schedule::{Schedule, ScheduleState, ScheduleValidity};
pub use service_token::{ServiceToken, TokenSecret};
pub use settings::{NodeStateJob, Settings, SystemSettings};
pub use source::Source;
pub use task::{Dampening, EventFilter, Task, TaskState};
pub use user::User;
