//! API v2's event stream: `GET /eventstream/clip/v2` held open, its Server-Sent Events turned
//! into field updates as they come, so a switched light shows without waiting for a poll.
//!
//! Each time the stream opens, lights and sensors are read once over v1 (what changed while it
//! was closed). A stream that ends is opened again after a delay (1 s, doubling to 60 s while
//! streams keep ending without an event); a bridge that no longer answers fails that reopening
//! and the gateway goes down. The bridge sends nothing while nothing changes, so the v1 read
//! every `syncInterval` doubles as the check that it is still there (with TCP keepalive).

use super::parse_v2::{self, Resources};
use super::provider::Bridge;
use super::sse::{SseDecoder, SseItem};
use crate::error::{GatewayError, TransportError};
use reqwest::header::{ACCEPT, CACHE_CONTROL, HeaderMap, HeaderValue};
use std::sync::Arc;
use std::time::Duration;

const MIN_RECONNECT: Duration = Duration::from_secs(1);
const MAX_RECONNECT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct EventStream {
    client: reqwest::Client,
    url: url::Url,
    resources: Resources,
}

impl EventStream {
    pub fn new(
        origin: &str,
        key: &str,
        insecure: bool,
        tls: Option<rustls::ClientConfig>,
        resources: Resources,
    ) -> Result<EventStream, GatewayError> {
        let config = |reason: String| {
            GatewayError::from(TransportError::Config {
                transport: "http",
                reason,
            })
        };
        let url = url::Url::parse(&format!("{origin}/eventstream/clip/v2"))
            .map_err(|e| config(format!("{origin}: {e}")))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            "hue-application-key",
            HeaderValue::from_str(key).map_err(|e| config(e.to_string()))?,
        );
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // No whole-request timeout: the stream stays open for as long as the bridge runs.
        let builder = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_keepalive(Duration::from_secs(30));
        let builder = match tls {
            Some(tls) => builder.tls_backend_preconfigured(tls),
            None => builder.tls_danger_accept_invalid_certs(insecure),
        };
        let client = builder.build().map_err(|e| config(e.to_string()))?;
        Ok(EventStream {
            client,
            url,
            resources,
        })
    }

    async fn open(&self) -> Result<reqwest::Response, TransportError> {
        let send = self.client.get(self.url.clone()).send();
        match tokio::time::timeout(CONNECT_TIMEOUT * 3, send).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(TransportError::Http(format!("{}: {e}", self.url))),
            Err(_) => Err(TransportError::Http(format!(
                "{}: no answer within {:?}",
                self.url,
                CONNECT_TIMEOUT * 3
            ))),
        }
    }
}

pub(super) async fn run(
    bridge: Arc<Bridge>,
    mut stream: EventStream,
    interval: Duration,
) -> Result<(), GatewayError> {
    let cancel = bridge.ctx.cancel().clone();
    let gateway = bridge.ctx.gateway_id().to_string();
    let mut delay = MIN_RECONNECT;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let opened = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            r = stream.open() => r.map_err(|e| bridge.transport_error(e))?,
        };
        let ended = match opened.status().as_u16() {
            200 => {
                bridge.sync_all().await?;
                let (ended, got_events) = tokio::select! {
                    _ = cancel.cancelled() => return Ok(()),
                    r = follow(&bridge, &mut stream.resources, opened, &mut tick) => r?,
                };
                if got_events {
                    delay = MIN_RECONNECT;
                }
                ended
            }
            401 | 403 => {
                return Err(GatewayError::Config(format!(
                    "philips_hue: HTTP {} on the event stream; the username is not whitelisted",
                    opened.status()
                )));
            }
            status => {
                bridge
                    .ctx
                    .reject(format!("eventstream/clip/v2: HTTP {status}"));
                format!("HTTP {status}")
            }
        };
        tracing::info!(%gateway, reason = %ended, ?delay, "philips_hue: event stream ended; opening it again");
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(MAX_RECONNECT);
    }
}

/// Reads one open stream until it ends: why it ended, and whether any event came.
async fn follow(
    bridge: &Bridge,
    known: &mut Resources,
    mut resp: reqwest::Response,
    tick: &mut tokio::time::Interval,
) -> Result<(String, bool), GatewayError> {
    let mut decoder = SseDecoder::new();
    let mut got_events = false;
    loop {
        tokio::select! {
            _ = tick.tick() => bridge.sync_all().await?,
            chunk = resp.chunk() => match chunk {
                Ok(Some(bytes)) => {
                    for item in decoder.push(&bytes) {
                        got_events |= item.is_ok();
                        handle(bridge, known, item).await;
                    }
                }
                Ok(None) => return Ok(("the bridge closed it".into(), got_events)),
                Err(e) => return Ok((e.to_string(), got_events)),
            },
        }
    }
}

async fn handle(bridge: &Bridge, known: &mut Resources, item: SseItem) {
    let event = match item {
        Ok(e) => e,
        Err(why) => return bridge.ctx.reject(format!("eventstream: {why}")),
    };
    match parse_v2::events(event.data.as_bytes(), known) {
        Ok(decoded) => {
            for e in decoded.rejected {
                bridge.ctx.reject(format!("eventstream: {e}"));
            }
            bridge.emit_all(decoded.messages).await;
        }
        Err(e) => bridge.ctx.reject(format!(
            "eventstream event {}: {e}",
            event.id.as_deref().unwrap_or("")
        )),
    }
}
