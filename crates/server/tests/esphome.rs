//! ESPHome end to end with the real binary and a simulated device (`esphome_device.py`, on
//! aioesphomeapi's generated `api.proto` messages) on loopback: a gateway created through the
//! API dials the device; its entities become sources and fields with values, the sensor's
//! readings metric points; sets through `/api/action` reach the device (which records the
//! command it decoded); stopping the device takes the node down (the gateway stays up), starting
//! it again brings the node back.

use crate::support::{Api, WAIT, skip};
use serde_json::{Value, json};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const DEVICE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/esphome_device.py");
const PASSWORD: &str = "api-pw";

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The simulated device, running, and the events it printed.
struct Device {
    child: Child,
    events: Lines<BufReader<ChildStdout>>,
    port: u16,
}

impl Device {
    async fn start(port: u16) -> Device {
        Device::start_with(port, PASSWORD).await
    }

    async fn start_with(port: u16, password: &str) -> Device {
        let mut child = Command::new(python())
            .arg(DEVICE)
            .arg(port.to_string())
            .arg(password)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python runs");
        let events = BufReader::new(child.stdout.take().expect("piped")).lines();
        let mut d = Device {
            child,
            events,
            port,
        };
        let listening = d.next("listening").await;
        d.port = listening["port"].as_u64().expect("a port") as u16;
        d
    }

    /// The next event named `name` (earlier ones are skipped).
    async fn next(&mut self, name: &str) -> Value {
        tokio::time::timeout(WAIT, async {
            loop {
                let line = self
                    .events
                    .next_line()
                    .await
                    .expect("the device's stdout")
                    .unwrap_or_else(|| panic!("the device ended before {name}"));
                let v: Value = serde_json::from_str(&line).expect("a JSON event");
                if v["event"] == name {
                    return v;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {name} event from the device"))
    }

    async fn stop(mut self) -> u16 {
        let _ = self.child.kill().await;
        self.port
    }
}

async fn wait_field(api: &Api, id: &str, value: Value) -> Value {
    api.wait_resource("field", id, |f| f["current"]["value"] == value)
        .await
}

async fn wait_node_status(api: &Api, id: &str, status: &str) -> Value {
    api.wait_resource("node", id, |n| n["state"]["status"] == status)
        .await
}

/// Whether the Python side of the simulated device is missing (skips; fails with CI=true).
fn device_missing() -> bool {
    let check = std::process::Command::new(python())
        .args(["-c", "import aioesphomeapi"])
        .output();
    !check.is_ok_and(|o| o.status.success())
        && skip(&format!(
            "{} cannot import aioesphomeapi: pip install -r tests/python-requirements.txt",
            python()
        ))
}

#[tokio::test]
async fn esphome_device_through_the_real_binary() {
    if device_missing() {
        return;
    }
    let mut device = Device::start(0).await;
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    api.gateway(
        "esp",
        json!({"type": "esphome", "password": PASSWORD, "reconnectDelay": "200ms",
               "nodes": {"kitchen": {"address": format!("127.0.0.1:{}", device.port)}}}),
    )
    .await;
    device.next("connected").await;
    wait_node_status(&api, "esp.kitchen", "up").await;
    // Named from the device info, which may land just after the node is up.
    api.wait_resource("node", "esp.kitchen", |n| {
        n["name"] == "Kitchen Sim" && n["labels"]["version"] == "2025.1.0"
    })
    .await;

    // Sources and fields with the device's values, typed and with units.
    let temp = wait_field(&api, "esp.kitchen.temp.value", json!(21.5)).await;
    assert_eq!(temp["unit"], "°C");
    assert_eq!(temp["metricType"], "gauge_float");
    wait_field(&api, "esp.kitchen.relay.state", json!(false)).await;
    wait_field(&api, "esp.kitchen.lamp.rgb", json!("#ffffff")).await;
    wait_field(&api, "esp.kitchen.lamp.brightness", json!(50.0)).await;
    wait_field(&api, "esp.kitchen.front.state", json!("locked")).await;
    let source = api.resource("source", "esp.kitchen.lamp").await.unwrap();
    assert_eq!(source["name"], "Lamp");
    assert_eq!(source["others"]["kind"], "light");

    // The sensor's reading is a metric point.
    api.wait_metric("field:esp.kitchen.temp.value", |v| v.as_f64() == Some(21.5))
        .await;

    // Sets reach the device, which decoded what was set; its answer updates the fields.
    api.action("field:esp.kitchen.relay.state", "on").await;
    let c = device.next("command").await;
    assert_eq!(c["type"], "SwitchCommandRequest");
    assert_eq!(c["fields"], json!({"key": 2, "state": true}));
    wait_field(&api, "esp.kitchen.relay.state", json!(true)).await;

    api.action("field:esp.kitchen.lamp.rgb", "#ff8000").await;
    let c = device.next("command").await;
    assert_eq!(c["type"], "LightCommandRequest");
    assert_eq!(c["fields"]["has_rgb"], true);
    assert_eq!(c["fields"]["red"], 1.0);
    let green = c["fields"]["green"].as_f64().unwrap();
    assert!((green - 128.0 / 255.0).abs() < 1e-6, "{c}");
    assert!(c["fields"].get("blue").is_none(), "blue 0 is not sent: {c}");
    wait_field(&api, "esp.kitchen.lamp.rgb", json!("#ff8000")).await;

    api.action("field:esp.kitchen.front.state", "unlock").await;
    let c = device.next("command").await;
    assert_eq!(
        (c["type"].as_str(), &c["fields"]),
        (Some("LockCommandRequest"), &json!({"key": 4}))
    ); // LOCK_UNLOCK is 0, protobuf's default: not on the wire
    wait_field(&api, "esp.kitchen.front.state", json!("unlocked")).await;

    // A climate's two targets, fan mode (its own "Turbo" too), swing mode and preset.
    wait_field(&api, "esp.kitchen.ac.fan_mode", json!("low")).await;
    wait_field(&api, "esp.kitchen.ac.target_temperature_high", json!(24.0)).await;
    api.action("field:esp.kitchen.ac.fan_mode", "Turbo").await;
    let c = device.next("command").await;
    assert_eq!(c["type"], "ClimateCommandRequest");
    assert_eq!(
        c["fields"],
        json!({"key": 5, "has_custom_fan_mode": true, "custom_fan_mode": "Turbo"})
    );
    wait_field(&api, "esp.kitchen.ac.fan_mode", json!("Turbo")).await;
    api.action("field:esp.kitchen.ac.preset", "eco").await;
    let c = device.next("command").await;
    assert_eq!(
        c["fields"],
        json!({"key": 5, "has_preset": true, "preset": 5})
    );
    wait_field(&api, "esp.kitchen.ac.preset", json!("eco")).await;
    api.action("field:esp.kitchen.ac.swing_mode", "vertical")
        .await;
    let c = device.next("command").await;
    assert_eq!(
        c["fields"],
        json!({"key": 5, "has_swing_mode": true, "swing_mode": 2})
    );
    wait_field(&api, "esp.kitchen.ac.swing_mode", json!("vertical")).await;
    api.action("field:esp.kitchen.ac.target_temperature_low", "17.5")
        .await;
    let c = device.next("command").await;
    assert_eq!(
        c["fields"],
        json!({"key": 5, "has_target_temperature_low": true, "target_temperature_low": 17.5})
    );
    wait_field(&api, "esp.kitchen.ac.target_temperature_low", json!(17.5)).await;

    // A lock that wants a code gets it from the set; a fan's preset.
    wait_field(&api, "esp.kitchen.safe.state", json!("locked")).await;
    api.action("field:esp.kitchen.safe.state", "unlock 1234")
        .await;
    let c = device.next("command").await;
    assert_eq!(
        c["fields"],
        json!({"key": 6, "has_code": true, "code": "1234"})
    ); // LOCK_UNLOCK is 0: not on the wire
    wait_field(&api, "esp.kitchen.safe.state", json!("unlocked")).await;
    wait_field(&api, "esp.kitchen.vent.preset", json!("none")).await;
    api.action("field:esp.kitchen.vent.preset", "Breeze").await;
    let c = device.next("command").await;
    assert_eq!(
        c["fields"],
        json!({"key": 7, "has_preset_mode": true, "preset_mode": "Breeze"})
    );
    wait_field(&api, "esp.kitchen.vent.preset", json!("Breeze")).await;

    // The device goes away: the node goes down, the gateway stays up. It comes back on the same
    // port: the node is up again with the device's state.
    let port = device.stop().await;
    wait_node_status(&api, "esp.kitchen", "down").await;
    let (_, gw) = api.get("/api/gateway/esp").await;
    assert_eq!(gw["state"]["status"], "up", "{gw}");
    let mut device = Device::start(port).await;
    device.next("connected").await;
    wait_node_status(&api, "esp.kitchen", "up").await;
    // A new process: its state starts over, and the field follows it.
    wait_field(&api, "esp.kitchen.relay.state", json!(false)).await;
    api.action("field:esp.kitchen.relay.state", "on").await;
    assert_eq!(
        device.next("command").await["fields"],
        json!({"key": 2, "state": true})
    );
    device.stop().await;
}

/// mDNS discovery, end to end on loopback: the simulated device is announced as ESPHome
/// announces itself (`_esphomelib._tcp` with `friendly_name`, `mac`, `version` TXT), on a private
/// mDNS port and only on `lo`. The binary creates a gateway for it whose node dials the device,
/// and the device's entities become fields. A bad record is counted and ignored; a device asking
/// for encryption gets a disabled gateway; the device moving to another port moves its gateway.
mod discovery {
    use super::*;
    use mdns_sd::{IfKind, ServiceDaemon, ServiceInfo};

    const SERVICE: &str = "_esphomelib._tcp.local.";
    const IFF_MULTICAST: u32 = 0x1000;

    /// Multicast must be allowed on `lo` (Linux leaves it off). We run as root here and in CI, so
    /// the test turns it on; where that is impossible it skips (fails with CI=true).
    fn loopback_multicast_missing() -> bool {
        let flags = || {
            std::fs::read_to_string("/sys/class/net/lo/flags")
                .ok()
                .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok())
                .unwrap_or(0)
        };
        if flags() & IFF_MULTICAST != 0 {
            return false;
        }
        let _ = std::process::Command::new("ip")
            .args(["link", "set", "lo", "multicast", "on"])
            .status();
        flags() & IFF_MULTICAST == 0
            && skip("multicast is off on lo and `ip link set lo multicast on` failed (needs root)")
    }

    fn free_udp_port() -> u16 {
        std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// Announces records on `lo` only, on the private port.
    fn announcer(port: u16) -> ServiceDaemon {
        let d = ServiceDaemon::new_with_port(port).unwrap();
        d.disable_interface(IfKind::All).unwrap();
        d.enable_interface(IfKind::Name("lo".into())).unwrap();
        d
    }

    fn record(instance: &str, port: u16, txt: &[(&str, &str)]) -> ServiceInfo {
        ServiceInfo::new(
            SERVICE,
            instance,
            &format!("{instance}.local."),
            "127.0.0.1",
            port,
            txt,
        )
        .unwrap()
    }

    #[tokio::test]
    async fn esphome_device_found_by_mdns_becomes_a_gateway() {
        if device_missing() || loopback_multicast_missing() {
            return;
        }
        let device = Device::start_with(0, "").await;
        let mdns_port = free_udp_port();
        let dir = tempfile::tempdir().unwrap();
        let port = mdns_port.to_string();
        let server = crate::server::Server::start(
            dir.path(),
            &[
                ("SWITCHYARD__DISCOVERY__ESPHOME__ENABLED", "true"),
                ("SWITCHYARD__DISCOVERY__ESPHOME__PORT", &port),
                ("SWITCHYARD__DISCOVERY__ESPHOME__INTERFACES", "[lo]"),
            ],
            &[],
        )
        .await;
        let token = server.login().await;
        let api = Api { server, token };

        let mdns = announcer(mdns_port);
        // Bad records first: counted and ignored, no gateway.
        mdns.register(record("broken", device.port, &[("mac", "not-a-mac")]))
            .unwrap();
        mdns.register(record(
            "kitchen",
            device.port,
            &[
                ("friendly_name", "Kitchen Sim"),
                ("mac", "aabbcc001122"),
                ("version", "2025.1.0"),
                ("platform", "ESP32"),
            ],
        ))
        .unwrap();
        let gw = api
            .wait_resource("gateway", "esphome_kitchen", |g| {
                g["state"]["status"] == "up"
            })
            .await;
        assert_eq!(gw["enabled"], true);
        assert_eq!(gw["labels"]["discovered"], "mdns", "{gw}");
        assert_eq!(gw["labels"]["esphome_mac"], "aabbcc001122", "{gw}");
        assert_eq!(
            gw["provider"]["nodes"]["kitchen"]["address"],
            format!("127.0.0.1:{}", device.port)
        );
        wait_node_status(&api, "esphome_kitchen.kitchen", "up").await;
        wait_field(&api, "esphome_kitchen.kitchen.temp.value", json!(21.5)).await;
        wait_field(&api, "esphome_kitchen.kitchen.relay.state", json!(false)).await;

        let status = crate::support::eventually("the bad record counted", || async {
            let (_, s) = api.get("/api/status").await;
            let d = s["services"]["discovery"]["esphome"].clone();
            (d["badRecords"].as_u64() >= Some(1)).then_some(d)
        })
        .await;
        assert_eq!(status["created"], 1, "{status}");
        assert!(api.resource("gateway", "esphome_broken").await.is_none());

        // A device that wants encryption: its gateway waits, disabled, for the key.
        mdns.register(record(
            "door",
            device.port + 1,
            &[("api_encryption", "Noise_NNpsk0_25519_ChaChaPoly_SHA256")],
        ))
        .unwrap();
        let door = api.wait_resource("gateway", "esphome_door", |_| true).await;
        assert_eq!(door["enabled"], false, "{door}");

        // The device comes back on another port (a new address): the same gateway follows it,
        // no second gateway appears.
        let old_port = device.stop().await;
        let device = Device::start_with(0, "").await;
        assert_ne!(device.port, old_port);
        mdns.register(record(
            "kitchen",
            device.port,
            &[("friendly_name", "Kitchen Sim"), ("mac", "aabbcc001122")],
        ))
        .unwrap();
        let address = format!("127.0.0.1:{}", device.port);
        api.wait_resource("gateway", "esphome_kitchen", |g| {
            g["provider"]["nodes"]["kitchen"]["address"] == address.as_str()
        })
        .await;
        wait_node_status(&api, "esphome_kitchen.kitchen", "up").await;
        let (_, all) = api.get("/api/gateway").await;
        let discovered: Vec<&Value> = all["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["labels"]["discovered"] == "mdns")
            .collect();
        assert_eq!(discovered.len(), 2, "kitchen and door only: {all}");
        let _ = mdns.shutdown();
        device.stop().await;
    }
}
