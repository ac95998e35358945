use super::settle_subscriptions;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::bus::{Bus, BusError};

/// Answers every request on `subject` with its payload in upper case.
async fn spawn_upper_case_responder(bus: &Arc<dyn Bus>, subject: &str) {
    let mut requests = bus.subscribe(subject).await.unwrap();
    let bus = bus.clone();
    tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            let reply = request.reply.unwrap();
            let answer = Bytes::from(request.payload.to_ascii_uppercase());
            bus.publish(&reply, answer).await.unwrap();
        }
    });
}

pub async fn a_request_gets_the_responders_answer(bus: Arc<dyn Bus>) {
    spawn_upper_case_responder(&bus, "service.shout").await;

    let answer = bus
        .request(
            "service.shout",
            Bytes::from("hello"),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(answer.payload, Bytes::from("HELLO"));
    assert!(answer.subject.starts_with("_INBOX."), "{}", answer.subject);
    settle_subscriptions(&*bus, 1).await;
}

pub async fn concurrent_requests_each_get_their_own_answer(bus: Arc<dyn Bus>) {
    spawn_upper_case_responder(&bus, "service.shout").await;
    let requests = (0..20).map(|i| {
        let bus = bus.clone();
        async move {
            let payload = Bytes::from(format!("word{i}"));
            let answer = bus
                .request("service.shout", payload, Duration::from_secs(30))
                .await
                .unwrap();
            (i, answer.payload)
        }
    });
    for (i, answer) in futures::future::join_all(requests).await {
        assert_eq!(answer, Bytes::from(format!("WORD{i}")));
    }
}

pub async fn a_request_nobody_answers_times_out(bus: Arc<dyn Bus>) {
    let _silent = bus.subscribe("service.silent").await.unwrap();
    let result = bus
        .request("service.silent", Bytes::new(), Duration::from_millis(200))
        .await;
    assert_eq!(result, Err(BusError::Timeout(Duration::from_millis(200))));
    settle_subscriptions(&*bus, 1).await;
}

pub async fn a_request_nobody_listens_to_fails_at_once(bus: Arc<dyn Bus>) {
    let gone = bus.subscribe("service.gone").await.unwrap();
    drop(gone);
    // A timeout far longer than the check may take: only an immediate "no responders" passes.
    let result = bus
        .request("service.gone", Bytes::new(), Duration::from_secs(600))
        .await;
    assert_eq!(result, Err(BusError::NoResponders("service.gone".into())));
    settle_subscriptions(&*bus, 0).await;
}

pub async fn a_queue_group_of_responders_answers_once(bus: Arc<dyn Bus>) {
    for _ in 0..3 {
        let mut requests = bus
            .queue_subscribe("service.count", "counters")
            .await
            .unwrap();
        let bus = bus.clone();
        tokio::spawn(async move {
            while let Some(request) = requests.next().await {
                let reply = request.reply.unwrap();
                bus.publish(&reply, Bytes::from("1")).await.unwrap();
            }
        });
    }
    for _ in 0..10 {
        let answer = bus
            .request("service.count", Bytes::new(), Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(answer.payload, Bytes::from("1"));
    }
    // Ten requests and ten answers: each request reached one responder only.
    let stats = bus.stats();
    assert_eq!((stats.published, stats.delivered), (20, 20));
}
