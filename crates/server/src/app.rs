//! Wiring of the all-in-one server: open storage and metrics, start the bus, the processor and its
//! jobs, serve HTTP, and on SIGINT/SIGTERM stop in order and flush what is buffered.

use crate::config::Config;
use crate::status::{ServiceStates, ServiceStatus};
use anyhow::Context;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use switchyard_api::{ApiState, auth};
use switchyard_core::bus::Bus;
use switchyard_core::store::Store;
use switchyard_processor::{NodeStateJob, Processor};
use tokio_util::sync::CancellationToken;

/// Environment variable with the first admin password (else one is generated into the data dir).
pub const ADMIN_PASSWORD_ENV: &str = "SWITCHYARD_ADMIN_PASSWORD";

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("interrupted, shutting down"),
        _ = term => tracing::info!("terminated, shutting down"),
    }
}

/// Runs `fut` as a named service whose state shows in `/api/status`.
pub(crate) fn supervise<F>(
    states: &Arc<ServiceStates>,
    name: &'static str,
    fut: F,
) -> tokio::task::JoinHandle<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    states.set(name, ServiceStatus::Running, "");
    let states = states.clone();
    tokio::spawn(async move {
        match tokio::spawn(fut).await {
            Ok(()) => states.set(name, ServiceStatus::Stopped, ""),
            Err(e) => {
                tracing::error!(service = name, error = %e, "service failed");
                states.set(name, ServiceStatus::Failed, e.to_string());
            }
        }
    })
}

pub async fn serve(cfg: Config) -> anyhow::Result<()> {
    let services = crate::distributed::Services::from_config(&cfg.process)?;
    if !services.runs("core") {
        return crate::distributed::serve_remote(cfg, services).await;
    }
    let started = Instant::now();
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating data directory {}", cfg.data_dir.display()))?;
    let storage = crate::backends::open_storage(&cfg.storage, &cfg.data_dir)
        .await
        .context("opening storage")?;
    let sealed = crate::secrets_at_rest::seal(storage, &cfg.data_dir)?;
    // Secrets stored in clear before sealing existed are encrypted now, before anything reads them.
    let count = sealed
        .seal_clear_in_place()
        .await
        .context("encrypting secrets stored in clear")?;
    if count > 0 {
        tracing::info!(count, "encrypted secrets that were stored in clear");
    }
    let storage: Arc<dyn switchyard_core::storage::Storage> = sealed;
    let watched = crate::storage_health::Watched::new(storage);
    let storage: Arc<dyn switchyard_core::storage::Storage> = watched.clone();
    let store = Store::new(storage.clone());
    let metrics = crate::backends::open_metrics(&cfg.metrics, &cfg.data_dir)
        .await
        .context("opening the metric store")?;
    let bus: Arc<dyn Bus> = crate::distributed::open_bus(&cfg.bus).await?;
    if let Some(path) = auth::ensure_admin(
        &store,
        &cfg.data_dir,
        std::env::var(ADMIN_PASSWORD_ENV).ok(),
    )
    .await
    .context("creating the first user")?
    {
        tracing::warn!(file = %path.display(), "created user `admin` with a generated password; it is in this file");
    }

    // Every TLS client in the process (MQTT, HTTP) uses rustls with ring; install it once.
    switchyard_gateway::transport::install_crypto_provider();
    let cancel = CancellationToken::new();
    let states = Arc::new(ServiceStates::default());
    let processor = Processor::new(
        bus.clone(),
        store.clone(),
        metrics.clone(),
        cfg.processor.clone(),
    );
    let processor_stats = processor.stats();
    let processor_task = processor
        .start(cancel.child_token())
        .await
        .context("starting the message processor")?;
    let processor_task = supervise(&states, "processor", async move {
        if let Err(e) = processor_task.await {
            std::panic::resume_unwind(e.into_panic());
        }
    });
    let node_job = NodeStateJob {
        store: store.clone(),
        bus: bus.clone(),
    };
    let node_job = supervise(
        &states,
        "node_state_job",
        node_job.run(cancel.child_token()),
    );
    // Tasks, schedules, handlers and forward payloads: each its own supervised service.
    let automation = switchyard_automation::Context::with_metrics(
        store.clone(),
        bus.clone(),
        cfg.automation.clone(),
        cfg.data_dir.clone(),
        switchyard_automation::Clock::System,
        Some(metrics.clone()),
    )
    .context("starting automation")?;
    let automation_tasks = vec![
        supervise(
            &states,
            "handler",
            switchyard_automation::HandlerService::new(automation.clone())
                .run(cancel.child_token()),
        ),
        supervise(
            &states,
            "task",
            switchyard_automation::TaskService::new(automation.clone()).run(cancel.child_token()),
        ),
        supervise(
            &states,
            "scheduler",
            switchyard_automation::SchedulerService::new(automation.clone())
                .run(cancel.child_token()),
        ),
        supervise(
            &states,
            "forward_payload",
            switchyard_automation::ForwardPayloadService::new(automation).run(cancel.child_token()),
        ),
    ];
    let gateways = switchyard_gateway::GatewayService::new(
        bus.clone(),
        store.clone(),
        switchyard_gateway::ProviderRegistry::builtin(),
        &cfg.data_dir,
    )
    .with_filter(cfg.process.gateways.clone());
    let gateway_stats = gateways.stats();
    let gateway_task = gateways
        .start(cancel.child_token())
        .await
        .context("starting the gateway service")?;
    let gateway_task = supervise(&states, "gateway", async move {
        if let Err(e) = gateway_task.await {
            std::panic::resume_unwind(e.into_panic());
        }
    });

    // ESPHome devices found by mDNS become gateways (off unless configured).
    let discovery = switchyard_gateway::providers::esphome::discovery::EsphomeDiscovery::new(
        cfg.discovery.esphome.clone(),
        bus.clone(),
        store.clone(),
    );
    let discovery_stats = discovery.stats();
    let discovery_task = cfg.discovery.esphome.enabled.then(|| {
        let cancel = cancel.child_token();
        let states = states.clone();
        supervise(&states.clone(), "esphome_discovery", async move {
            if let Err(e) = discovery.run(cancel.clone()).await {
                tracing::error!(error = %e, "ESPHome discovery stopped");
                states.set("esphome_discovery", ServiceStatus::Failed, e.to_string());
                // Keep the failure visible in /api/status until shutdown.
                cancel.cancelled().await;
            }
        })
    });

    // Distributed mode: storage for remote processes, and who is out there.
    let (processes, distributed_tasks) = crate::distributed::start_core_parts(
        &cfg,
        &services,
        bus.clone(),
        storage.clone(),
        store.clone(),
        gateway_stats.clone(),
        cancel.child_token(),
    )
    .await?;
    let status = {
        let (bus, metrics, states) = (bus.clone(), metrics.clone(), states.clone());
        let storage_name = storage.name();
        Arc::new(move || {
            json!({
                "states": states.snapshot(),
                "bus": {"type": bus.name(), "stats": bus.stats()},
                "storage": {"type": storage_name, "health": watched.health()},
                "metrics": {"type": metrics.name(), "stats": metrics.stats()},
                "processor": processor_stats.snapshot(),
                "gateways": gateway_stats.snapshot(),
                "discovery": {"esphome": discovery_stats.snapshot()},
                "processes": processes.snapshot(),
            })
        })
    };
    let mut api_state = ApiState::new(
        store.clone(),
        bus.clone(),
        metrics.clone(),
        cfg.data_dir.clone(),
        cfg.api_config()?,
        status,
    );
    api_state.started = started;
    let web_dir = cfg.http.web_dir.clone();
    let api = switchyard_api::router(api_state)
        .fallback(move |req| crate::web::serve(web_dir.clone(), req))
        .layer(axum::middleware::map_response(crate::headers::add));
    let listener = tokio::net::TcpListener::bind(&cfg.http.address)
        .await
        .with_context(|| format!("listening on {}", cfg.http.address))?;
    let address = listener.local_addr()?;
    let http_cancel = cancel.clone();
    let mut http = tokio::spawn(async move {
        axum::serve(listener, api)
            .with_graceful_shutdown(async move { http_cancel.cancelled().await })
            .await
    });
    states.set(
        "http",
        ServiceStatus::Running,
        format!("listening on {address}"),
    );
    let console = match &cfg.http.web_dir {
        Some(dir) => dir.display().to_string(),
        None => format!("embedded ({})", crate::web::embedded_origin()),
    };
    tracing::info!(%address, data_dir = %cfg.data_dir.display(), %console, "switchyard is ready");

    let http_result = tokio::select! {
        _ = shutdown_signal() => None,
        r = &mut http => Some(r),
    };
    cancel.cancel();
    let http_result = match http_result {
        Some(r) => r,
        None => http.await,
    };
    let _ = processor_task.await;
    let _ = node_job.await;
    for t in automation_tasks {
        let _ = t.await;
    }
    let _ = gateway_task.await;
    if let Some(t) = discovery_task {
        let _ = t.await;
    }
    for t in distributed_tasks {
        let _ = t.await;
    }
    let storage_closed = storage.close().await;
    let metrics_closed = metrics.close().await;
    tracing::info!("switchyard stopped");
    http_result
        .context("http server task")?
        .context("http server")?;
    storage_closed.context("closing storage")?;
    metrics_closed.context("closing the metric store")?;
    Ok(())
}
