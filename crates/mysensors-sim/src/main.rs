//! `mysensors-sim`: N simulated MySensors nodes behind a serial, Ethernet or MQTT gateway.

use anyhow::Context;
use clap::{ArgGroup, Parser};
use std::time::Duration;
use switchyard_gateway::providers::mysensors::protocol::firmware::BlockOrder;
use switchyard_mysensors_sim::config::parse_duration;
use switchyard_mysensors_sim::{FirmwareSpec, SimConfig, SimEvent, SleepConfig, TransportConfig};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(version, about, group(ArgGroup::new("transport").required(true).args(["serial", "listen", "mqtt"])))]
struct Cli {
    /// Serial port or pty to speak on (a serial gateway).
    #[arg(long, value_name = "PATH")]
    serial: Option<String>,
    #[arg(long, default_value_t = 115_200, requires = "serial")]
    baud: u32,
    /// Listen for the controller on this address (an Ethernet gateway), e.g. 127.0.0.1:5003.
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// Connect to this broker (an MQTT gateway), e.g. tcp://127.0.0.1:1883.
    #[arg(long, value_name = "URL")]
    mqtt: Option<String>,
    /// Topic prefix the gateway publishes node frames under (the controller's inbound topics).
    #[arg(long, visible_alias = "in-prefix", default_value = "mygateway1-out")]
    publish_prefix: String,
    /// Topic prefix the gateway subscribes to (the controller publishes there).
    #[arg(long, visible_alias = "out-prefix", default_value = "mygateway1-in")]
    subscribe_prefix: String,
    #[arg(long, default_value = "mysensors-sim")]
    client_id: String,

    /// How many nodes.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Id of the first node; the others follow.
    #[arg(long, default_value_t = 1)]
    first_id: u8,
    /// Nodes start without an id and ask for one (I_ID_REQUEST).
    #[arg(long)]
    request_ids: bool,
    /// Time between rounds of readings.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    interval: Duration,
    /// Seed of the reading sequences.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many of the nodes (the last ones) are smart-sleep nodes.
    #[arg(long, default_value_t = 0)]
    sleeping: usize,
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    awake_window: Duration,
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    sleep: Duration,
    /// Give every node a bootloader running this firmware type (with --ota-version).
    #[arg(long, requires = "ota_version")]
    ota_type: Option<u16>,
    #[arg(long, requires = "ota_type")]
    ota_version: Option<u16>,
    /// Order in which the bootloader asks for blocks.
    #[arg(long, default_value = "reverse", value_parser = parse_block_order)]
    block_order: BlockOrder,
    /// Stop after this long (default: on Ctrl-C).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Print every event.
    #[arg(short, long)]
    verbose: bool,
}

fn parse_block_order(text: &str) -> Result<BlockOrder, String> {
    BlockOrder::from_label(text).ok_or_else(|| format!("{text:?}: forward or reverse"))
}

impl Cli {
    fn sim_config(&self) -> SimConfig {
        let mut config = SimConfig::uniform(self.nodes, self.first_id, self.interval, self.seed);
        let first_sleeper = self.nodes.saturating_sub(self.sleeping);
        for (index, node) in config.nodes.iter_mut().enumerate() {
            if self.request_ids {
                node.id = None;
            }
            if index >= first_sleeper {
                node.sleep = Some(SleepConfig {
                    awake_window: self.awake_window,
                    sleep_duration: self.sleep,
                });
            }
            if let (Some(t), Some(v)) = (self.ota_type, self.ota_version) {
                node.firmware = Some(FirmwareSpec {
                    order: self.block_order,
                    ..FirmwareSpec::new(t, v)
                });
            }
        }
        config
    }

    fn transport(&self) -> anyhow::Result<TransportConfig> {
        Ok(match (&self.serial, self.listen, &self.mqtt) {
            (Some(path), _, _) => TransportConfig::Serial {
                path: path.clone(),
                baud_rate: self.baud,
            },
            (_, Some(listen), _) => TransportConfig::Tcp { listen },
            (_, _, Some(broker)) => TransportConfig::Mqtt {
                broker: broker.clone(),
                publish_prefix: self.publish_prefix.clone(),
                subscribe_prefix: self.subscribe_prefix.clone(),
                client_id: self.client_id.clone(),
            },
            _ => anyhow::bail!("choose --serial, --listen or --mqtt"),
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let simulator =
        switchyard_mysensors_sim::Simulator::new(cli.sim_config()).context("invalid simulation")?;
    let transport = cli.transport()?;
    let cancel = CancellationToken::new();
    let mut events = simulator.events();
    let verbose = cli.verbose;
    tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match events.recv().await {
                Ok(SimEvent::Listening { addr }) => println!("listening on {addr}"),
                Ok(event) if verbose => println!("{event:?}"),
                Ok(_) => {}
                Err(RecvError::Lagged(n)) if verbose => println!("({n} events not shown)"),
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
    let stopper = cancel.clone();
    let duration = cli.duration;
    tokio::spawn(async move {
        match duration {
            Some(d) => tokio::select! {
                _ = tokio::time::sleep(d) => {}
                _ = tokio::signal::ctrl_c() => {}
            },
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        stopper.cancel();
    });
    let nodes = cli.nodes;
    let summary = simulator
        .run(transport, cancel)
        .await
        .context("simulator stopped")?;
    println!("{nodes} nodes\n{summary}");
    Ok(())
}
