//! The typed view of stored documents.

use crate::EntityKind;
use crate::model::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A stored resource: a JSON document of one [`EntityKind`] with a string `id`.
pub trait Resource: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    const KIND: EntityKind;
    fn id(&self) -> &str;
}

macro_rules! resource {
    ($($ty:ty => $kind:ident),* $(,)?) => {
        $(impl Resource for $ty {
            const KIND: EntityKind = EntityKind::$kind;
            fn id(&self) -> &str {
                &self.id
            }
        })*
    };
}

resource! {
    Gateway => Gateway,
    Node => Node,
    Source => Source,
    Field => Field,
    Firmware => Firmware,
    Task => Task,
    Schedule => Schedule,
    Handler => Handler,
    ForwardPayload => ForwardPayload,
    Dashboard => Dashboard,
    DataRepository => DataRepository,
    User => User,
    ServiceToken => ServiceToken,
    Settings => Settings,
}
