use crate::support::{number, raw_query};
use chrono::Utc;
use switchyard_core::metrics::MetricError;
use switchyard_metrics::{MetricsConfig, open};

#[tokio::test]
async fn none_accepts_counts_and_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&MetricsConfig::None, dir.path()).await.unwrap();
    assert_eq!(store.name(), "none");
    let now = Utc::now();
    store
        .write(vec![number("a", now, 1.0), number("a", now, 2.0)])
        .await
        .unwrap();
    store.flush().await.unwrap();
    let q = raw_query(
        "a",
        now - chrono::Duration::hours(1),
        now + chrono::Duration::hours(1),
    );
    assert!(store.query(&q).await.unwrap().is_empty());
    assert_eq!(store.stats().written, 2);
    assert_eq!(store.stats().dropped, 0);
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "none writes no files"
    );
    store.close().await.unwrap();
    assert!(matches!(
        store.write(vec![]).await,
        Err(MetricError::Closed)
    ));
    assert!(matches!(store.query(&q).await, Err(MetricError::Closed)));
}
