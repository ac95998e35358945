//! Any answer a Hue bridge may send: the v1 parsers (config, lights, groups, sensors, one light,
//! group or sensor, a pairing answer), the v2 resource list, and the event stream (the SSE decoder, its input cut where the
//! first byte says, then every event's `data`) never panic, and what they produce is
//! addressable: `light_<id>`/`group_<id>`/`sensor_<id>`/`bridge` nodes, field ids non-empty and free of `.`,
//! a v2 brightness on v1's 1–254 scale.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_core::Message;
use switchyard_gateway::providers::hue::pairing;
use switchyard_gateway::providers::hue::parse::{self, HueError};
use switchyard_gateway::providers::hue::parse_v2::{self, Resources};
use switchyard_gateway::providers::hue::sse::SseDecoder;

fn check(all: &[Message]) {
    for m in all {
        let node = m.node_id.as_str();
        let id = node
            .strip_prefix("light_")
            .or_else(|| node.strip_prefix("sensor_"))
            .or_else(|| node.strip_prefix("group_"));
        assert!(
            node == "bridge"
                || id.is_some_and(
                    |id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())
                ),
            "{m:?}"
        );
        assert!(!m.source_id.contains('.'), "{m:?}");
        for p in &m.payloads {
            assert!(!p.key.is_empty() && !p.key.contains('.'), "{m:?}");
        }
    }
}

fn v1(body: &[u8]) {
    let Ok(v) = parse::parse_body(body) else {
        return;
    };
    let parsers: [fn(&serde_json::Value) -> Result<Vec<Message>, HueError>; 7] = [
        parse::bridge,
        parse::lights,
        parse::groups,
        parse::sensors,
        |v| parse::light("1", v),
        |v| parse::group("0", v),
        |v| parse::sensor("2", v),
    ];
    if let Ok(key) = pairing::pairing_answer(&v) {
        assert!(!key.username.is_empty() && !key.username.contains('/'));
    }
    for p in parsers {
        if let Ok(msgs) = p(&v) {
            check(&msgs);
        }
    }
}

fn v2_events(data: &[u8], known: &mut Resources) {
    if let Ok(d) = parse_v2::events(data, known) {
        check(&d.messages);
        for m in &d.messages {
            for p in m.payloads.iter().filter(|p| p.key == "brightness") {
                let b: u32 = p.value.parse().expect("brightness is a whole number");
                assert!((1..=254).contains(&b), "{m:?}");
            }
        }
    }
    assert!(known.len() <= parse_v2::MAX_RESOURCES);
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    v1(body);
    let mut known = match parse::parse_body(body).and_then(|v| parse_v2::resources(&v)) {
        Ok(r) => r,
        Err(_) => Resources::default(),
    };
    v2_events(body, &mut known);
    let at = usize::from(cut).min(body.len());
    let mut decoder = SseDecoder::new();
    for half in [&body[..at], &body[at..]] {
        for event in decoder.push(half).into_iter().flatten() {
            v2_events(event.data.as_bytes(), &mut known);
        }
    }
});
