use crate::wire::{self, Apply, Delete, Find, Get, Import, Reply, WireError};
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::bus::{Bus, BusError, BusMessage};
use switchyard_core::rate_log::RateLimitedLog;
use switchyard_core::storage::{Storage, StorageError};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Requests answered at once; past it the service stops reading the bus until one finishes
/// (and the bus's own bound applies to the requesters, who time out).
const CONCURRENT_REQUESTS: usize = 64;

static LOG: RateLimitedLog = RateLimitedLog::new(Duration::from_secs(1));

/// The core's side of [`RemoteStorage`](crate::RemoteStorage): answers `rpc.resource.<op>`
/// from the real backend. Runs in the process that owns storage.
pub struct ResourceService {
    bus: Arc<dyn Bus>,
    storage: Arc<dyn Storage>,
}

impl ResourceService {
    pub fn new(bus: Arc<dyn Bus>, storage: Arc<dyn Storage>) -> Self {
        ResourceService { bus, storage }
    }

    /// Subscribes (requests sent after this returns are answered) and serves until `cancel`.
    pub async fn start(
        self,
        cancel: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, BusError> {
        let mut requests = self.bus.queue_subscribe(wire::ALL_OPS, "resource").await?;
        let permits = Arc::new(Semaphore::new(CONCURRENT_REQUESTS));
        let this = Arc::new(self);
        Ok(tokio::spawn(async move {
            loop {
                let request = tokio::select! {
                    _ = cancel.cancelled() => break,
                    r = requests.next() => match r {
                        Some(r) => r,
                        None => break,
                    },
                };
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let this = this.clone();
                tokio::spawn(async move {
                    this.answer(request).await;
                    drop(permit);
                });
            }
        }))
    }

    async fn answer(&self, request: BusMessage) {
        let Some(reply_to) = request.reply.clone() else {
            return;
        };
        let op = request.subject.rsplit('.').next().unwrap_or_default();
        let reply = match self.run(op, &request.payload).await {
            Ok(value) => Reply::Ok(value),
            Err(e) => Reply::Error(WireError::from(&e)),
        };
        let mut body = serde_json::to_vec(&reply).unwrap_or_default();
        if body.len() > wire::MAX_REPLY_BYTES {
            let too_large = StorageError::Backend(format!(
                "the answer to `{op}` is {} bytes, above the bus's {} per message; ask for a smaller page",
                body.len(),
                wire::MAX_REPLY_BYTES
            ));
            body =
                serde_json::to_vec(&Reply::Error(WireError::from(&too_large))).unwrap_or_default();
        }
        if let Err(e) = self.bus.publish(&reply_to, Bytes::from(body)).await {
            LOG.log(|suppressed| tracing::warn!(op, error = %e, suppressed, "resource service could not answer"));
        }
    }

    async fn run(&self, op: &str, payload: &[u8]) -> Result<serde_json::Value, StorageError> {
        let s = &self.storage;
        match op {
            "apply" => {
                let r: Apply = parse(payload)?;
                value(s.apply(r.ops.into_iter().map(Into::into).collect()).await?)
            }
            "get" => {
                let r: Get = parse(payload)?;
                value(s.get(r.kind, &r.id).await?)
            }
            "find" => {
                let r: Find = parse(payload)?;
                value(s.find(r.kind, &r.query).await?)
            }
            "delete" => {
                let r: Delete = parse(payload)?;
                value(s.delete(r.kind, &r.filters).await?)
            }
            "clear" => value(s.clear().await?),
            "export" => value(s.export().await?),
            "import" => {
                let r: Import = parse(payload)?;
                value(s.import(r.snapshot).await?)
            }
            "flush" => value(s.flush().await?),
            other => Err(StorageError::Backend(format!(
                "no resource operation `{other}`"
            ))),
        }
    }
}

fn parse<T: DeserializeOwned>(payload: &[u8]) -> Result<T, StorageError> {
    serde_json::from_slice(payload)
        .map_err(|e| StorageError::InvalidDocument(format!("request: {e}")))
}

fn value(v: impl Serialize) -> Result<serde_json::Value, StorageError> {
    serde_json::to_value(v).map_err(|e| StorageError::Backend(e.to_string()))
}
