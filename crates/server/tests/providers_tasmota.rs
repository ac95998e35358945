//! The Tasmota provider through the real binary: a device played on the local Mosquitto
//! (`mosquitto_pub` as the device, `mosquitto_sub` watching what it is told). Its telemetry
//! becomes a node, sources and fields with values and metric points; a set from the API reaches
//! the device as `cmnd/<topic>/POWER` and the field follows the device's `RESULT`; its last will
//! (`LWT Offline`) takes the node down and `Online` brings it back.

use crate::support::{Api, Watch, peers_missing, publish, unique};
use serde_json::json;

#[tokio::test]
async fn a_tasmota_device_reports_is_switched_and_goes_offline_and_back() {
    if peers_missing() {
        return;
    }
    let device = unique("sy_tas_");
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    let cmnd = Watch::start(&format!("cmnd/{device}/#"), &format!("cmnd/{device}/probe")).await;
    api.tasmota("tas", "%prefix%/%topic%/").await;

    publish(&format!("tele/{device}/LWT"), "Online").await;
    publish(
        &format!("tele/{device}/STATE"),
        r#"{"Time":"2026-11-24T22:00:00","Uptime":"0T01:00:00","POWER":"OFF","Dimmer":30,"Wifi":{"RSSI":72,"Signal":-64}}"#,
    )
    .await;
    publish(
        &format!("tele/{device}/SENSOR"),
        r#"{"Time":"2026-11-24T22:00:00","AM2301":{"Temperature":21.5,"Humidity":40.2},"TempUnit":"C"}"#,
    )
    .await;

    // Node, sources and fields with values, as the console shows them.
    let node = api
        .wait_resource("node", &format!("tas.{device}"), |n| {
            n["state"]["status"] == "up"
        })
        .await;
    assert_eq!(node["gatewayId"], "tas", "{node}");
    for source in ["Control", "AM2301", "WiFi"] {
        api.wait_resource("source", &format!("tas.{device}.{source}"), |_| true)
            .await;
    }
    let temp = format!("tas.{device}.AM2301.Temperature");
    let t = api
        .wait_resource("field", &temp, |f| f["current"]["value"] == json!(21.5))
        .await;
    assert_eq!(t["unit"], "°C", "{t}");
    api.wait_resource("field", &format!("tas.{device}.AM2301.Humidity"), |f| {
        f["current"]["value"] == json!(40.2)
    })
    .await;
    api.wait_resource("field", &format!("tas.{device}.WiFi.RSSI"), |f| {
        f["current"]["value"] == json!(72.0)
    })
    .await;
    let relay = format!("tas.{device}.Control.POWER");
    api.wait_resource("field", &relay, |f| f["current"]["value"] == json!(false))
        .await;
    // The numeric reading is a metric point too.
    api.wait_metric(&format!("field:{temp}"), |v| v.as_f64() == Some(21.5))
        .await;

    // A set from the API (what the console's switch does) is a command to the device …
    api.action(&format!("field:{relay}"), "on").await;
    let on = cmnd.wait(&format!("cmnd/{device}/POWER ")).await;
    assert_eq!(on, format!("cmnd/{device}/POWER ON"));
    // … and the field changes only when the device says it did.
    let before = api.resource("field", &relay).await.unwrap();
    assert_eq!(before["current"]["value"], json!(false), "{before}");
    publish(&format!("stat/{device}/RESULT"), r#"{"POWER":"ON"}"#).await;
    api.wait_resource("field", &relay, |f| f["current"]["value"] == json!(true))
        .await;
    api.action(&format!("field:tas.{device}.Control.Dimmer"), "55")
        .await;
    assert_eq!(
        cmnd.wait(&format!("cmnd/{device}/Dimmer ")).await,
        format!("cmnd/{device}/Dimmer 55")
    );
    // A node action from the API: reboot is Tasmota's `Restart 1`.
    api.action(&format!("node:tas.{device}"), "reboot").await;
    assert_eq!(
        cmnd.wait(&format!("cmnd/{device}/Restart ")).await,
        format!("cmnd/{device}/Restart 1")
    );

    // The broker publishes the device's last will when it drops off: the node is down …
    publish(&format!("tele/{device}/LWT"), "Offline").await;
    api.wait_resource("node", &format!("tas.{device}"), |n| {
        n["state"]["status"] == "down"
    })
    .await;
    // … while the gateway (the broker connection) stays up …
    let gw = api.resource("gateway", "tas").await.unwrap();
    assert_eq!(gw["state"]["status"], "up", "{gw}");
    // … and the node is up again when the device is back.
    publish(&format!("tele/{device}/LWT"), "Online").await;
    api.wait_resource("node", &format!("tas.{device}"), |n| {
        n["state"]["status"] == "up"
    })
    .await;
    api.server.terminate().await;
}
