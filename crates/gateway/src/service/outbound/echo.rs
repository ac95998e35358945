//! Sending a message and waiting for the device's echo of it, resending while it does not come.

use crate::ack::AckWaiters;
use crate::error::GatewayError;
use crate::provider::{AckRequest, Provider};
use std::time::Duration;
use switchyard_core::Message;
use tokio::sync::oneshot;

/// Sends `msg`, and when the provider asks for an acknowledgement waits for it, resending up to
/// the requested attempts.
pub(crate) async fn deliver(
    provider: &dyn Provider,
    acks: &AckWaiters,
    msg: &Message,
) -> Result<(), GatewayError> {
    let Some(request) = provider.ack_request(msg) else {
        return provider.post(msg).await;
    };
    let echo = first_send(provider, acks, msg, &request).await?;
    await_echo(provider, acks, msg, &request, echo).await
}

/// The first send of a message that waits for `request`'s echo: registers the wait (before
/// sending, so an echo that beats us back is not missed) and sends.
pub(crate) async fn first_send(
    provider: &dyn Provider,
    acks: &AckWaiters,
    msg: &Message,
    request: &AckRequest,
) -> Result<oneshot::Receiver<()>, GatewayError> {
    let echo = acks.register(&request.key);
    match provider.post(msg).await {
        Ok(()) => Ok(echo),
        Err(e) => {
            acks.forget(&request.key);
            Err(e)
        }
    }
}

/// Waits for the echo of a first send, resending after each missing one until `request`'s
/// attempts are used up.
pub(crate) async fn await_echo(
    provider: &dyn Provider,
    acks: &AckWaiters,
    msg: &Message,
    request: &AckRequest,
    mut echo: oneshot::Receiver<()>,
) -> Result<(), GatewayError> {
    let attempts = request.attempts.max(1);
    let timeout = request.timeout.max(Duration::from_millis(1));
    for attempt in 1..=attempts {
        if let Ok(Ok(())) = tokio::time::timeout(timeout, echo).await {
            return Ok(());
        }
        if attempt == attempts {
            break;
        }
        echo = first_send(provider, acks, msg, request).await?;
    }
    acks.forget(&request.key);
    Err(GatewayError::NoAck {
        key: request.key.clone(),
        attempts,
        timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use switchyard_core::{MessageType, Payload};
    use tokio::time::Instant;

    /// Echoes on the given attempt (1-based), never when 0.
    struct EchoOn {
        acks: Arc<AckWaiters>,
        echo_on: u32,
        posts: AtomicU32,
    }

    #[async_trait]
    impl Provider for EchoOn {
        fn ack_request(&self, _msg: &Message) -> Option<AckRequest> {
            Some(AckRequest {
                key: "1;2;V_STATUS".into(),
                timeout: AckRequest::DEFAULT_TIMEOUT,
                attempts: 3,
            })
        }

        async fn post(&self, _msg: &Message) -> Result<(), GatewayError> {
            let n = self.posts.fetch_add(1, Ordering::SeqCst) + 1;
            if n == self.echo_on {
                // The echo arrives before `post` even returns: it must not be missed.
                self.acks.acknowledge("1;2;V_STATUS");
            }
            Ok(())
        }
    }

    fn msg() -> Message {
        Message::new(MessageType::Set, "gw", "1", "2").with_payload(Payload::new("V_STATUS", "1"))
    }

    #[tokio::test(start_paused = true)]
    async fn waits_retries_and_gives_up() {
        let acks = Arc::new(AckWaiters::default());
        let second = EchoOn {
            acks: acks.clone(),
            echo_on: 2,
            posts: AtomicU32::new(0),
        };
        let start = Instant::now();
        deliver(&second, &acks, &msg()).await.unwrap();
        assert_eq!(second.posts.load(Ordering::SeqCst), 2);
        assert_eq!(start.elapsed(), AckRequest::DEFAULT_TIMEOUT);

        let never = EchoOn {
            acks: acks.clone(),
            echo_on: 0,
            posts: AtomicU32::new(0),
        };
        let start = Instant::now();
        let err = deliver(&never, &acks, &msg()).await.unwrap_err();
        assert!(
            matches!(err, GatewayError::NoAck { attempts: 3, .. }),
            "{err}"
        );
        assert_eq!(never.posts.load(Ordering::SeqCst), 3);
        assert_eq!(start.elapsed(), AckRequest::DEFAULT_TIMEOUT * 3);
        // A late echo finds nobody waiting.
        assert!(!acks.acknowledge("1;2;V_STATUS"));
    }
}
