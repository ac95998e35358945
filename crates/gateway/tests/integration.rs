//! The gateway crate's one integration-test binary (link time).

// Beside this file rather than in `tests/` itself, where cargo would build each as its own binary.
#[path = "integration/pymysensors_crosscheck.rs"]
mod pymysensors_crosscheck;

#[path = "integration/gateway/mod.rs"]
mod gateway;

#[path = "integration/providers/mod.rs"]
mod providers;
