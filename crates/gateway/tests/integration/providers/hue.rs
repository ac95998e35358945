//! Philips Hue against the fake bridge of `switchyard_gateway::testing::hue_bridge` (the
//! recorded API v1 and v2 responses and events of `tests/data/hue`, HTTPS with a test
//! certificate, an event stream the test pushes recorded events through), through the real
//! gateway service, processor and storage.

use super::harness::{Harness, eventually, gateway};
use serde_json::{Value, json};
use switchyard_core::model::Status;
use switchyard_core::{Message, MessageType, Payload};
use switchyard_gateway::testing::hue_bridge::{
    BridgeState, FakeHueBridge, HUE_USER, certificate_fingerprint, recorded_events,
};

fn count(bridge: &FakeHueBridge, prefix: &str) -> usize {
    bridge
        .requests()
        .iter()
        .filter(|r| r.starts_with(prefix))
        .count()
}

/// API v2: changes arrive on the event stream with no poll; sets still go through v1; a cut
/// stream is opened again; a lost bridge marks the gateway down until it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hue_v2_event_stream_sets_reconnects_and_a_lost_bridge() {
    let bridge = FakeHueBridge::start(BridgeState::recorded(), 0, true).unwrap();
    let gw = gateway(
        "hue2",
        json!({
            "type": "philips_hue",
            "host": bridge.url(),
            "username": HUE_USER,
            "certificateFingerprint": certificate_fingerprint(),
            // Far beyond the test: anything that changes comes from the event stream.
            "syncInterval": "1h",
        }),
    );
    let h = Harness::start(&[gw]).await;
    h.wait_status("hue2", Status::Up).await;
    // The first read (v1) creates the nodes and fields.
    h.wait_field("hue2.light_1.state.power", json!(true)).await;
    h.wait_field("hue2.sensor_6.state.presence", json!(false))
        .await;
    eventually("the event stream", || async {
        (bridge.open_streams() == 1).then_some(())
    })
    .await;
    let polls = count(&bridge, &format!("GET /api/{HUE_USER}/lights "));

    // Recorded events change fields, with no poll in between.
    for event in recorded_events() {
        assert_eq!(bridge.push_event(&event), 1);
    }
    h.wait_field("hue2.light_1.state.power", json!(false)).await;
    h.wait_field("hue2.light_1.state.brightness", json!(200))
        .await;
    h.wait_field("hue2.light_1.state.color_temperature", json!(366))
        .await;
    h.wait_field("hue2.light_1.state.color_x", json!(0.4573))
        .await;
    h.wait_field("hue2.sensor_6.state.presence", json!(true))
        .await;
    h.wait_field("hue2.sensor_5.state.temperature", json!(23.4))
        .await;
    h.wait_field("hue2.sensor_7.state.lightlevel", json!(16000))
        .await;
    h.wait_field("hue2.sensor_8.state.buttonevent", json!(1003))
        .await;
    h.wait_field("hue2.sensor_5.config.battery", json!(90))
        .await;
    assert_eq!(
        count(&bridge, &format!("GET /api/{HUE_USER}/lights ")),
        polls,
        "the lights were polled"
    );

    // A set changes the bridge's light (v1 PUT), and the field follows.
    let set = Message::new(MessageType::Set, "hue2", "light_2", "state")
        .with_payload(Payload::new("power", "on"))
        .with_payload(Payload::new("brightness", "200"));
    h.send_to_gateway("hue2", &set).await;
    h.wait_field("hue2.light_2.state.brightness", json!(200))
        .await;
    let light = bridge.state().lock().lights["2"]["state"].clone();
    assert_eq!((&light["on"], &light["bri"]), (&json!(true), &json!(200)));

    // Garbage on the stream is rejected and counted; the stream and gateway carry on.
    let rejected = h.gateway_stats("hue2").rejected;
    bridge.push_event("id: 1:0\ndata: <html>not json\n\n");
    bridge.push_event("id: 2:0\ndata: [{\"type\":\"update\",\"data\":[{\"id_v1\":\"/lights/1\",\"type\":\"light\",\"on\":{\"on\":\"maybe\"}}]}]\n\n");
    eventually("two rejections", || async {
        (h.gateway_stats("hue2").rejected >= rejected + 2).then_some(())
    })
    .await;
    assert_eq!(h.gateway_state("hue2").await.status, Status::Up);

    // A cut stream is opened again and events flow on it.
    bridge.drop_streams();
    eventually("the stream opened again", || async {
        let st = bridge.state().lock();
        (st.streams_opened == 2).then_some(())
    })
    .await;
    eventually("the reopened stream", || async {
        (bridge.open_streams() == 1).then_some(())
    })
    .await;
    bridge
        .push_event(&recorded_events()[0].replace("\"on\":{\"on\":false}", "\"on\":{\"on\":true}"));
    h.wait_field("hue2.light_1.state.power", json!(true)).await;
    assert_eq!(h.gateway_state("hue2").await.status, Status::Up);

    // Losing the bridge marks the gateway down; it comes back on the same address.
    let port = bridge.addr().port();
    let state = bridge.stop();
    let down = eventually("gateway not up", || async {
        let s = h.gateway_state("hue2").await;
        (s.status != Status::Up).then_some(s)
    })
    .await;
    assert!(!down.message.is_empty(), "{down:?}");
    state.lock().lights["1"]["state"]["bri"] = json!(10);
    let back = FakeHueBridge::start(state, port, true).unwrap();
    h.wait_status("hue2", Status::Up).await;
    h.wait_field("hue2.light_1.state.brightness", json!(10))
        .await;
    eventually("the stream after the restart", || async {
        (back.open_streams() == 1).then_some(())
    })
    .await;
    h.stop().await;
}

/// No fingerprint configured: the first certificate is trusted and remembered; a configured
/// fingerprint that does not match is refused with both fingerprints in the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hue_certificate_trust_on_first_use_and_a_wrong_pin() {
    let bridge = FakeHueBridge::start(BridgeState::recorded(), 0, true).unwrap();
    let host = bridge.url();
    let tofu = gateway(
        "hue_tofu",
        json!({"type": "philips_hue", "host": host, "username": HUE_USER, "syncInterval": "1h"}),
    );
    let wrong = gateway(
        "hue_pinned",
        json!({"type": "philips_hue", "host": host, "username": HUE_USER,
               "certificateFingerprint": "00".repeat(32)}),
    );
    let h = Harness::start(&[tofu, wrong]).await;
    h.wait_status("hue_tofu", Status::Up).await;
    h.wait_field("hue_tofu.light_1.state.brightness", json!(144))
        .await;
    let learned =
        std::fs::read_to_string(h.data_dir().join("philips_hue/hue_tofu.sha256")).unwrap();
    assert_eq!(learned.trim(), certificate_fingerprint());
    let s = eventually("the pinned gateway refused", || async {
        let s = h.gateway_state("hue_pinned").await;
        (s.status != Status::Up && s.message.contains("fingerprint")).then_some(s)
    })
    .await;
    assert!(s.message.contains(&certificate_fingerprint()), "{s:?}");
    h.stop().await;
}

/// A bridge without API v2 (404 on /clip/v2) is polled over v1, on HTTPS all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hue_without_v2_falls_back_to_polling() {
    let state = BridgeState::recorded();
    state.lock().v2 = false;
    let bridge = FakeHueBridge::start(state, 0, true).unwrap();
    let gw = gateway(
        "hue_v1",
        json!({"type": "philips_hue", "host": bridge.url(), "username": HUE_USER,
               "certificateFingerprint": certificate_fingerprint(), "syncInterval": "200ms"}),
    );
    let h = Harness::start(&[gw]).await;
    h.wait_status("hue_v1", Status::Up).await;
    h.wait_field("hue_v1.light_1.state.power", json!(true))
        .await;
    bridge.state().lock().lights["1"]["state"]["on"] = json!(false);
    h.wait_field("hue_v1.light_1.state.power", json!(false))
        .await;
    assert!(count(&bridge, "GET /clip/v2/resource") >= 1);
    assert_eq!(count(&bridge, "GET /eventstream"), 0);
    h.stop().await;
}

/// A bridge answering its v2 resource list with a 500: rejected and counted, the gateway stays
/// up and polls v1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hue_v2_answering_500_is_rejected_and_polled() {
    let state = BridgeState::recorded();
    state.lock().v2_broken = true;
    let bridge = FakeHueBridge::start(state, 0, true).unwrap();
    let gw = gateway(
        "hue_500",
        json!({"type": "philips_hue", "host": bridge.url(), "username": HUE_USER,
               "certificateFingerprint": certificate_fingerprint(), "syncInterval": "200ms"}),
    );
    let h = Harness::start(&[gw]).await;
    h.wait_status("hue_500", Status::Up).await;
    eventually("the rejected resource list", || async {
        (h.gateway_stats("hue_500").rejected >= 1).then_some(())
    })
    .await;
    bridge.state().lock().lights["1"]["state"]["bri"] = json!(77);
    h.wait_field("hue_500.light_1.state.brightness", json!(77))
        .await;
    assert_eq!(count(&bridge, "GET /eventstream"), 0);
    assert_eq!(h.gateway_state("hue_500").await.status, Status::Up);
    h.stop().await;
}

/// API v1 over plain HTTP (`apiVersion: 1`): polled, sets observed, 500s rejected, a lost
/// bridge marks the gateway down and it recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hue_v1_lights_and_sensors_sets_and_a_lost_bridge() {
    let bridge = FakeHueBridge::start(BridgeState::recorded(), 0, false).unwrap();
    let gw = gateway(
        "hue",
        json!({
            "type": "philips_hue",
            "host": bridge.addr().to_string(),
            "username": HUE_USER,
            "apiVersion": 1,
            "syncInterval": "300ms",
        }),
    );
    let h = Harness::start(&[gw]).await;
    h.wait_status("hue", Status::Up).await;

    // Documented lights and sensors become nodes, sources and fields.
    h.wait_field("hue.light_1.state.brightness", json!(144))
        .await;
    h.wait_field("hue.light_1.state.power", json!(true)).await;
    h.wait_field("hue.light_2.state.power", json!(false)).await;
    h.wait_field("hue.light_1.state.color_temperature", json!(467))
        .await;
    h.wait_field("hue.light_1.state.color_x", json!(0.5128))
        .await;
    h.wait_field("hue.sensor_5.state.temperature", json!(22.15))
        .await;
    h.wait_field("hue.sensor_5.config.battery", json!(100))
        .await;
    h.wait_node("hue.light_1", "named", |n| n.name == "Hue Lamp 1")
        .await;
    h.wait_node("hue.bridge", "named", |n| n.name == "Philips hue")
        .await;

    // A set reaches the bridge as a light state PUT, and the new state comes back.
    let set = Message::new(MessageType::Set, "hue", "light_2", "state")
        .with_payload(Payload::new("power", "on"))
        .with_payload(Payload::new("brightness", "200"));
    h.send_to_gateway("hue", &set).await;
    h.wait_field("hue.light_2.state.brightness", json!(200))
        .await;
    h.wait_field("hue.light_2.state.power", json!(true)).await;
    let put = eventually("the PUT", || async {
        bridge
            .requests()
            .into_iter()
            .find(|r| r.starts_with(&format!("PUT /api/{HUE_USER}/lights/2/state")))
    })
    .await;
    let body: Value = serde_json::from_str(put.splitn(3, ' ').nth(2).unwrap()).unwrap();
    assert_eq!(body, json!({"on": true, "bri": 200}));

    // A set the bridge cannot take never reaches it.
    let bad = Message::new(MessageType::Set, "hue", "light_1", "state")
        .with_payload(Payload::new("brightness", "999"));
    h.send_to_gateway("hue", &bad).await;

    // discover_nodes asks the bridge to search.
    let discover = Message::new(MessageType::Action, "hue", "", "")
        .with_payload(Payload::new("discover_nodes", ""));
    h.send_to_gateway("hue", &discover).await;
    eventually("the searches", || async {
        let r = bridge.requests();
        (r.iter()
            .any(|r| r.starts_with(&format!("POST /api/{HUE_USER}/lights")))
            && r.iter()
                .any(|r| r.starts_with(&format!("POST /api/{HUE_USER}/sensors"))))
        .then_some(())
    })
    .await;
    assert!(
        !bridge.requests().iter().any(|r| r.contains("999")),
        "an out-of-range brightness was sent"
    );
    assert_eq!(
        count(&bridge, "GET /clip/v2"),
        0,
        "apiVersion 1 asked for v2"
    );

    // A bridge answering 500 and garbage: rejected and counted, the gateway stays up.
    bridge.state().lock().broken = true;
    eventually("a rejected poll", || async {
        (h.gateway_stats("hue").rejected > 0).then_some(())
    })
    .await;
    assert_eq!(h.gateway_state("hue").await.status, Status::Up);
    bridge.state().lock().broken = false;

    // Losing the bridge marks the gateway down; it comes back on the same address.
    let port = bridge.addr().port();
    let state = bridge.stop();
    let down = eventually("gateway not up", || async {
        let s = h.gateway_state("hue").await;
        (s.status != Status::Up).then_some(s)
    })
    .await;
    assert!(!down.message.is_empty(), "{down:?}");
    state.lock().lights["1"]["state"]["bri"] = json!(10);
    let _back = FakeHueBridge::start(state, port, false).unwrap();
    h.wait_status("hue", Status::Up).await;
    h.wait_field("hue.light_1.state.brightness", json!(10))
        .await;
    h.stop().await;
}

#[tokio::test]
async fn an_unknown_username_is_a_config_error() {
    let bridge = FakeHueBridge::start(BridgeState::recorded(), 0, true).unwrap();
    let gw = gateway(
        "hue_bad",
        json!({"type": "philips_hue", "host": bridge.url(), "username": "nobody",
               "certificateFingerprint": certificate_fingerprint()}),
    );
    let h = Harness::start(&[gw]).await;
    let s = eventually("gateway error", || async {
        let s = h.gateway_state("hue_bad").await;
        (s.status != Status::Up && s.message.contains("whitelisted")).then_some(s)
    })
    .await;
    assert!(s.message.contains("unauthorized user"), "{s:?}");
    h.stop().await;
}

/// Groups: `GET groups` (and group 0) become `group_<id>` nodes with a light's fields plus
/// `all_on`/`any_on`; a set becomes `PUT groups/<id>/action`, which the bridge applies to the
/// group's lights; a v2 `grouped_light` event updates the group's fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hue_groups_are_read_set_and_follow_v2_events() {
    let bridge = FakeHueBridge::start(BridgeState::recorded(), 0, true).unwrap();
    let gw = gateway(
        "hue_groups",
        json!({"type": "philips_hue", "host": bridge.url(), "username": HUE_USER,
               "certificateFingerprint": certificate_fingerprint(), "syncInterval": "1h"}),
    );
    let h = Harness::start(&[gw]).await;
    h.wait_status("hue_groups", Status::Up).await;
    h.wait_field("hue_groups.group_1.state.brightness", json!(144))
        .await;
    h.wait_field("hue_groups.group_1.state.any_on", json!(true))
        .await;
    h.wait_field("hue_groups.group_1.state.all_on", json!(false))
        .await;
    h.wait_field("hue_groups.group_2.state.power", json!(false))
        .await;
    h.wait_field("hue_groups.group_0.state.power", json!(true))
        .await;
    h.wait_node("hue_groups.group_1", "named", |n| n.name == "Living room")
        .await;
    h.wait_field("hue_groups.light_1.state.power", json!(true))
        .await;

    // Switching the room on at one brightness: one PUT on the group, both lights follow.
    let set = Message::new(MessageType::Set, "hue_groups", "group_1", "state")
        .with_payload(Payload::new("power", "on"))
        .with_payload(Payload::new("brightness", "60"));
    h.send_to_gateway("hue_groups", &set).await;
    h.wait_field("hue_groups.group_1.state.all_on", json!(true))
        .await;
    h.wait_field("hue_groups.group_1.state.brightness", json!(60))
        .await;
    h.wait_field("hue_groups.light_2.state.power", json!(true))
        .await;
    h.wait_field("hue_groups.light_2.state.brightness", json!(60))
        .await;
    h.wait_field("hue_groups.light_1.state.brightness", json!(60))
        .await;
    let put = eventually("the group PUT", || async {
        bridge
            .requests()
            .into_iter()
            .find(|r| r.starts_with(&format!("PUT /api/{HUE_USER}/groups/1/action")))
    })
    .await;
    let body: Value = serde_json::from_str(put.splitn(3, ' ').nth(2).unwrap()).unwrap();
    assert_eq!(body, json!({"on": true, "bri": 60}));
    assert_eq!(count(&bridge, &format!("PUT /api/{HUE_USER}/lights/")), 0);

    // A field a group does not take is refused before the bridge.
    let bad = Message::new(MessageType::Set, "hue_groups", "group_1", "state")
        .with_payload(Payload::new("all_on", "1"));
    h.send_to_gateway("hue_groups", &bad).await;

    // The recorded grouped_light event (group 0 switched off) lands on group_0.
    eventually("the event stream", || async {
        (bridge.open_streams() == 1).then_some(())
    })
    .await;
    let event = recorded_events()
        .into_iter()
        .find(|e| e.contains("grouped_light"))
        .unwrap();
    assert_eq!(bridge.push_event(&event), 1);
    h.wait_field("hue_groups.group_0.state.power", json!(false))
        .await;
    assert!(!bridge.requests().iter().any(|r| r.contains("all_on")));
    h.stop().await;
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Pairing: without `username` the gateway asks the bridge for an app key every
/// `pairingInterval`, `down` with "press the link button" meanwhile (no errors, no restarts);
/// once the button is pressed it gets the key, reads the bridge, and keeps the key encrypted
/// under the data directory, where a restarted provider finds it without pairing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hue_pairing_with_the_link_button_and_an_encrypted_stored_key() {
    let bridge = FakeHueBridge::start(BridgeState::recorded(), 0, true).unwrap();
    let gw = gateway(
        "hue_pair",
        json!({"type": "philips_hue", "host": bridge.url(),
               "certificateFingerprint": certificate_fingerprint(),
               "syncInterval": "1h", "pairingInterval": "100ms"}),
    );
    let h = Harness::start(&[gw]).await;
    let waiting = eventually("waiting for the link button", || async {
        let s = h.gateway_state("hue_pair").await;
        (s.status == Status::Down && s.message.contains("press the link button")).then_some(s)
    })
    .await;
    assert!(
        waiting.message.contains("switchyard#hue_pair"),
        "{waiting:?}"
    );
    eventually("a few pairing attempts", || async {
        (count(&bridge, "POST /api ") >= 3).then_some(())
    })
    .await;
    let restarts = h.gateway_stats("hue_pair").restarts;
    let s = h.gateway_state("hue_pair").await;
    assert_eq!(s.status, Status::Down, "{s:?}");
    assert!(s.message.contains("press the link button"), "{s:?}");
    let post = bridge
        .requests()
        .into_iter()
        .find(|r| r.starts_with("POST /api "))
        .unwrap();
    let body: Value = serde_json::from_str(post.splitn(3, ' ').nth(2).unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"devicetype": "switchyard#hue_pair", "generateclientkey": true})
    );
    // A set before pairing is refused, not sent.
    let set = Message::new(MessageType::Set, "hue_pair", "light_1", "state")
        .with_payload(Payload::new("brightness", "33"));
    h.send_to_gateway("hue_pair", &set).await;

    bridge.press_link_button(true);
    h.wait_status("hue_pair", Status::Up).await;
    h.wait_field("hue_pair.light_1.state.brightness", json!(144))
        .await;
    eventually("the event stream with the new key", || async {
        (bridge.open_streams() == 1).then_some(())
    })
    .await;
    assert_eq!(h.gateway_stats("hue_pair").restarts, restarts);
    assert!(!bridge.requests().iter().any(|r| r.contains("\"bri\":33")));
    bridge.press_link_button(false);

    // The key is stored, but nowhere under the data directory in clear.
    let stored = h.data_dir().join("philips_hue/hue_pair.appkey");
    assert!(stored.exists());
    for file in files_under(h.data_dir()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(HUE_USER),
            "{} holds the app key in clear",
            file.display()
        );
    }

    // A restarted provider (the bridge went away and came back) uses the stored key.
    let pairs = count(&bridge, "POST /api ");
    let port = bridge.addr().port();
    let state = bridge.stop();
    eventually("gateway not up", || async {
        (h.gateway_state("hue_pair").await.status != Status::Up).then_some(())
    })
    .await;
    state.lock().lights["1"]["state"]["bri"] = json!(12);
    let back = FakeHueBridge::start(state, port, true).unwrap();
    h.wait_field("hue_pair.light_1.state.brightness", json!(12))
        .await;
    h.wait_status("hue_pair", Status::Up).await;
    assert_eq!(count(&back, "POST /api "), pairs, "paired again");
    assert!(h.gateway_stats("hue_pair").restarts > restarts);
    h.stop().await;
}
