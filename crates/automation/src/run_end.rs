//! Ending one resource's run (a task, a schedule, a handler) after its token was cancelled.

use std::time::Duration;
use tokio::task::JoinHandle;

/// How long a cancelled run may take to finish what it is doing (a slow delivery, say).
const GRACE: Duration = Duration::from_secs(2);

/// Waits for a cancelled run to end, and cuts it short after [`GRACE`].
pub(crate) async fn finish(mut join: JoinHandle<()>) {
    if tokio::time::timeout(GRACE, &mut join).await.is_err() {
        join.abort();
    }
}
