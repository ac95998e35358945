//! Publish-to-delivery throughput of the embedded bus: one subscriber, a fan-out, a queue group.
//! Each iteration publishes a batch and waits until every delivery has been read.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use switchyard_bus::EmbeddedBus;
use switchyard_core::bus::Bus;
use tokio::runtime::Runtime;
use tokio::sync::Notify;

const BATCH: usize = 10_000;
const SUBJECT: &str = "event.field.updated";
/// About the size of a field-update event.
const PAYLOAD: &[u8] = &[b'x'; 200];

fn main() {
    divan::main();
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

enum Readers {
    Plain(usize),
    QueueGroup(usize),
}

/// Publishes [`BATCH`] messages and returns once the readers have them all.
async fn publish_batch(readers: Readers) {
    let bus = EmbeddedBus::default();
    let (count, expected) = match readers {
        Readers::Plain(n) => (n, BATCH * n),
        Readers::QueueGroup(n) => (n, BATCH),
    };
    let received = Arc::new(AtomicUsize::new(0));
    let all_in = Arc::new(Notify::new());
    for _ in 0..count {
        let mut subscription = match readers {
            Readers::Plain(_) => bus.subscribe(SUBJECT).await,
            Readers::QueueGroup(_) => bus.queue_subscribe(SUBJECT, "workers").await,
        }
        .unwrap();
        let (received, all_in) = (received.clone(), all_in.clone());
        // Ends when the bus is dropped at the end of the iteration.
        tokio::spawn(async move {
            while subscription.next().await.is_some() {
                if received.fetch_add(1, Ordering::Relaxed) + 1 == expected {
                    all_in.notify_one();
                }
            }
        });
    }
    for _ in 0..BATCH {
        bus.publish(SUBJECT, PAYLOAD.into()).await.unwrap();
    }
    all_in.notified().await;
    assert_eq!(bus.stats().dropped, 0);
}

fn bench(bencher: divan::Bencher, readers: fn() -> Readers) {
    let runtime = runtime();
    bencher
        .counter(divan::counter::ItemsCount::new(BATCH))
        .bench_local(|| runtime.block_on(publish_batch(readers())));
}

/// Messages published per second; every one is read.
#[divan::bench(sample_count = 20)]
fn one_subscriber(bencher: divan::Bencher) {
    bench(bencher, || Readers::Plain(1));
}

/// Messages published per second; each is read by all ten.
#[divan::bench(sample_count = 20)]
fn fan_out_to_10(bencher: divan::Bencher) {
    bench(bencher, || Readers::Plain(10));
}

/// Messages published per second; each is read by one of the four.
#[divan::bench(sample_count = 20)]
fn queue_group_of_4(bencher: divan::Bencher) {
    bench(bencher, || Readers::QueueGroup(4));
}
