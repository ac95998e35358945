//! Remote storage against the storage conformance suite, and liveness, over the embedded bus.

mod liveness;
mod storage;
