//! One test binary for the crate (link time): each backend against the conformance suite, plus
//! what only that backend promises.

// Beside this file rather than in `tests/` itself, where cargo would build each as its own binary.
#[path = "integration/embedded.rs"]
mod embedded;
#[path = "integration/factory.rs"]
mod factory;
#[path = "integration/lists.rs"]
mod lists;
#[path = "integration/memory.rs"]
mod memory;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A new, not yet existing directory under `root` on every call, so each conformance check
/// gets an empty backend while `root` keeps every directory alive until the test ends.
pub(crate) struct Dirs {
    root: tempfile::TempDir,
    next: AtomicUsize,
}

impl Dirs {
    pub(crate) fn new() -> Self {
        Dirs {
            root: tempfile::tempdir().unwrap(),
            next: AtomicUsize::new(0),
        }
    }

    pub(crate) fn fresh(&self) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.root.path().join(format!("store{n}"))
    }
}
