use crate::embedded::EmbeddedBus;
use bytes::Bytes;
use std::time::Duration;
use switchyard_core::bus::{BusError, BusMessage, validate_subject};
use uuid::Uuid;

/// Request/reply over a private inbox, as NATS does it, so responders answer with a plain publish
/// to the message's `reply` subject on either bus. `timeout` covers the whole request, including
/// any wait for room in a full responder.
pub(crate) async fn request(
    bus: &EmbeddedBus,
    subject: &str,
    payload: Bytes,
    timeout: Duration,
) -> Result<BusMessage, BusError> {
    validate_subject(subject)?;
    let inbox = format!("_INBOX.{}", Uuid::new_v4().simple());
    // Subscribed before publishing, so an answer cannot arrive before anyone listens for it.
    let mut answers = bus.register(&inbox, None)?;
    let message = BusMessage::new(subject, payload).with_reply(inbox);
    let exchange = async {
        if bus.deliver(message).await? == 0 {
            // Waiting out the timeout would only hide a missing service.
            return Err(BusError::NoResponders(subject.into()));
        }
        answers.next().await.ok_or(BusError::Closed)
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or(Err(BusError::Timeout(timeout)))
}
