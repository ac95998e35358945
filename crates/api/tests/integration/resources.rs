use super::harness::{Harness, assert_error};
use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

/// A minimal valid body of each resource, given an index to make it unique.
fn body(resource: &str, i: usize) -> Value {
    match resource {
        "gateway" => {
            json!({"id": format!("gw{i}"), "provider": {"type": "echo"}, "labels": {"room": format!("r{}", i % 2)}})
        }
        "node" => json!({"gatewayId": "gw", "nodeId": format!("{i}"), "name": format!("n{i}")}),
        "source" => json!({"gatewayId": "gw", "nodeId": "1", "sourceId": format!("{i}")}),
        "field" => {
            json!({"gatewayId": "gw", "nodeId": "1", "sourceId": "1", "fieldId": format!("f{i}"), "metricType": "gauge"})
        }
        "forwardpayload" => {
            json!({"id": format!("fp{i}"), "srcFieldId": "field:gw.1.1.a", "dstFieldId": "field:gw.1.1.b"})
        }
        other => json!({"id": format!("{other}{i}"), "description": format!("d{i}")}),
    }
}

const ALL: [&str; 11] = [
    "gateway",
    "node",
    "source",
    "field",
    "firmware",
    "task",
    "schedule",
    "handler",
    "forwardpayload",
    "dashboard",
    "datarepository",
];

#[tokio::test]
async fn every_resource_has_crud_with_paging() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    let mut events = h.bus.subscribe("event.>").await.unwrap();
    for res in ALL {
        let mut ids = Vec::new();
        for i in 0..5 {
            let r = h.post(&format!("/api/{res}"), &admin, body(res, i)).await;
            assert_eq!(r.status, 200, "{res}: {}", r.body);
            ids.push(r.body["id"].as_str().unwrap().to_string());
            let ev = tokio::time::timeout(std::time::Duration::from_secs(5), events.next())
                .await
                .unwrap()
                .unwrap();
            assert!(ev.subject.ends_with(".created"), "{res}: {}", ev.subject);
        }
        let page = h
            .get(
                &format!(
                    "/api/{res}?limit=2&offset=1&sortBy={}",
                    urlencode(r#"[{"f":"id","o":"desc"}]"#)
                ),
                &admin,
            )
            .await;
        assert_eq!(page.status, 200, "{res}: {}", page.body);
        assert_eq!(
            (
                page.body["count"].as_u64(),
                page.body["limit"].as_i64(),
                page.body["offset"].as_u64()
            ),
            (Some(5), Some(2), Some(1)),
            "{res}"
        );
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.reverse();
        let got: Vec<&str> = page.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        assert_eq!(got, sorted[1..3].to_vec(), "{res}");
        let one = h.get(&format!("/api/{res}/{}", ids[0]), &admin).await;
        assert_eq!(one.body["id"], ids[0].as_str(), "{res}");
        let r = h
            .send(
                Method::DELETE,
                &format!("/api/{res}"),
                Some(&admin),
                Some(json!([ids[0], ids[1], "nope"])),
            )
            .await;
        assert_eq!(r.body["deleted"], 2, "{res}");
        assert_eq!(
            h.get(&format!("/api/{res}"), &admin).await.body["count"],
            3,
            "{res}"
        );
        assert_error(
            &h.get(&format!("/api/{res}/{}", ids[0]), &admin).await,
            404,
            "not_found",
        );
        while tokio::time::timeout(std::time::Duration::from_millis(20), events.next())
            .await
            .is_ok()
        {}
    }
}

#[tokio::test]
async fn filters_use_every_operator() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    for i in 0..6 {
        let mut b = body("node", i);
        b["labels"] = json!({"room": if i % 2 == 0 { "hall" } else { "attic" }});
        if i < 3 {
            b["others"] = json!({"battery_level": i * 40});
        }
        assert_eq!(h.post("/api/node", &admin, b).await.status, 200);
    }
    let count = |filter: Value| {
        let h = &h;
        let admin = admin.clone();
        async move {
            let uri = format!("/api/node?filter={}", urlencode(&filter.to_string()));
            let r = h.get(&uri, &admin).await;
            assert_eq!(r.status, 200, "{filter}: {}", r.body);
            r.body["count"].as_u64().unwrap()
        }
    };
    assert_eq!(
        count(json!([{"k": "labels.room", "o": "eq", "v": "hall"}])).await,
        3
    );
    assert_eq!(
        count(json!([{"k": "labels.room", "o": "ne", "v": "hall"}])).await,
        3
    );
    assert_eq!(
        count(json!([{"k": "others.battery_level", "o": "gt", "v": 40}])).await,
        1
    );
    assert_eq!(
        count(json!([{"k": "others.battery_level", "o": "gte", "v": "40"}])).await,
        2
    );
    assert_eq!(
        count(json!([{"k": "others.battery_level", "o": "lt", "v": 40}])).await,
        1
    );
    assert_eq!(
        count(json!([{"k": "others.battery_level", "o": "lte", "v": 40}])).await,
        2
    );
    assert_eq!(
        count(json!([{"k": "nodeId", "o": "in", "v": ["1", "2", "9"]}])).await,
        2
    );
    assert_eq!(
        count(json!([{"k": "nodeId", "o": "nin", "v": ["1", "2"]}])).await,
        4
    );
    assert_eq!(
        count(json!([{"k": "others.battery_level", "o": "range_in", "v": [10, 80]}])).await,
        2
    );
    assert_eq!(
        count(json!([{"k": "others.battery_level", "o": "range_not_in", "v": [10, 80]}])).await,
        4,
        "0, and the three without a battery level"
    );
    assert_eq!(
        count(json!([{"k": "name", "o": "regex", "v": "^N[0-2]$"}])).await,
        3
    );
    assert_eq!(
        count(json!([{"k": "others.battery_level", "o": "exists", "v": false}])).await,
        3
    );
    let r = h.get("/api/node?labels.room=attic&limit=-1", &admin).await;
    assert_eq!(
        (r.body["count"].as_u64(), r.body["limit"].as_i64()),
        (Some(3), Some(-1))
    );
    let r = h
        .get(
            &format!(
                "/api/node?filter={}",
                urlencode("[{\"k\":\"name\",\"o\":\"regex\",\"v\":\"(\"}]")
            ),
            &admin,
        )
        .await;
    assert_error(&r, 400, "invalid_query");
    assert_error(
        &h.get("/api/node?filter=nope", &admin).await,
        400,
        "invalid_query",
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn validation_names_each_bad_field_and_secrets_stay_masked() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    let r = h
        .post(
            "/api/gateway",
            &admin,
            json!({"id": "a b", "reconnectDelay": "soon", "provider": {}, "labels": {"Room": "x"}}),
        )
        .await;
    assert_error(&r, 400, "invalid_resource");
    let paths: Vec<&str> = r.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["id", "reconnectDelay", "provider.type", "labels.Room"]
    );
    let r = h
        .post(
            "/api/forwardpayload",
            &admin,
            json!({"srcFieldId": "node:gw.1", "dstFieldId": 5}),
        )
        .await;
    assert_error(&r, 400, "invalid_resource");
    assert_eq!(r.body["details"][0]["path"], "dstFieldId");
    let r = h
        .post(
            "/api/field",
            &admin,
            json!({"gatewayId": "gw", "nodeId": "1", "sourceId": "", "fieldId": "x.y"}),
        )
        .await;
    let paths: Vec<&str> = r.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["sourceId", "fieldId"]);

    let gw = json!({"id": "mq", "provider": {"type": "mysensors", "protocol": {"type": "mqtt", "broker": "tcp://b", "password": "hunter22"}}});
    let r = h.post("/api/gateway", &admin, gw).await;
    assert_eq!(r.body["provider"]["protocol"]["password"], "********");
    let mut back = h.get("/api/gateway/mq", &admin).await.body;
    assert_eq!(back["provider"]["protocol"]["password"], "********");
    back["description"] = json!("edited");
    assert_eq!(h.post("/api/gateway", &admin, back).await.status, 200);
    let stored = h
        .state
        .store
        .get::<switchyard_core::model::Gateway>("mq")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.provider["protocol"]["password"], "hunter22",
        "the mask never overwrites the secret"
    );
    assert_eq!(stored.description, "edited");
}

fn multipart(name: &str, file_name: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "XyZzYboundary";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn forward_payload_cycles_are_refused_on_create_and_enable() {
    let h = Harness::new().await;
    let op = h.login("admin").await;
    let fp = |id: &str, src: &str, dst: &str, enabled: bool| json!({"id": id, "enabled": enabled, "srcFieldId": format!("field:gw1.1.1.{src}"), "dstFieldId": format!("field:gw2.1.1.{dst}")});
    // Fields on two gateways: a → b, b → c; then c → a would close a three-hop cycle.
    let mut ab = fp("ab", "a", "b", true);
    ab["dstFieldId"] = json!("field:gw1.1.1.b");
    let mut bc = fp("bc", "b", "c", true);
    bc["srcFieldId"] = json!("field:gw1.1.1.b");
    bc["dstFieldId"] = json!("field:gw1.1.1.c");
    assert_eq!(h.post("/api/forwardpayload", &op, ab).await.status, 200);
    assert_eq!(h.post("/api/forwardpayload", &op, bc).await.status, 200);
    let mut ca = json!({"id": "ca", "enabled": true, "srcFieldId": "field:gw1.1.1.c", "dstFieldId": "field:gw1.1.1.a"});
    let r = h.post("/api/forwardpayload", &op, ca.clone()).await;
    assert_error(&r, 400, "forward_cycle");
    assert_eq!(r.body["details"][0]["path"], "dstFieldId");
    assert_eq!(
        r.body["details"][0]["cycle"],
        json!([
            "field:gw1.1.1.c",
            "field:gw1.1.1.a",
            "field:gw1.1.1.b",
            "field:gw1.1.1.c"
        ])
    );
    assert!(
        r.body["message"].as_str().unwrap().contains("→"),
        "{}",
        r.body
    );
    assert_eq!(h.get("/api/forwardpayload/ca", &op).await.status, 404);

    // Two gateways, A → B → A.
    let r = h
        .post("/api/forwardpayload", &op, fp("x", "t", "t", true))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let back = json!({"id": "y", "enabled": true, "srcFieldId": "field:gw2.1.1.t", "dstFieldId": "field:gw1.1.1.t"});
    assert_error(
        &h.post("/api/forwardpayload", &op, back.clone()).await,
        400,
        "forward_cycle",
    );
    // A field to itself is a cycle too.
    let own = json!({"id": "self", "enabled": true, "srcFieldId": "field:gw1.1.1.z", "dstFieldId": "field:gw1.1.1.z"});
    assert_error(
        &h.post("/api/forwardpayload", &op, own).await,
        400,
        "forward_cycle",
    );

    // Stored disabled it is accepted; enabling it is refused, and it stays disabled.
    ca["enabled"] = json!(false);
    assert_eq!(h.post("/api/forwardpayload", &op, ca).await.status, 200);
    let r = h
        .post("/api/forwardpayload/enable", &op, json!(["ca"]))
        .await;
    assert_error(&r, 400, "forward_cycle");
    assert_eq!(
        h.get("/api/forwardpayload/ca", &op).await.body["enabled"],
        false
    );
    // Once the chain is broken (bc disabled) it can be enabled, and replacing a payload by its
    // own id is not a cycle with its old self.
    let r = h
        .post("/api/forwardpayload/disable", &op, json!(["bc"]))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = h
        .post("/api/forwardpayload/enable", &op, json!(["ca"]))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let same = json!({"id": "x", "enabled": true, "description": "edited", "srcFieldId": "field:gw1.1.1.t", "dstFieldId": "field:gw2.1.1.t"});
    assert_eq!(h.post("/api/forwardpayload", &op, same).await.status, 200);
    // Enabling bc again would close c → a → b → c.
    let r = h
        .post("/api/forwardpayload/enable", &op, json!(["bc"]))
        .await;
    assert_error(&r, 400, "forward_cycle");
}

async fn upload(
    h: &Harness,
    uri: &str,
    token: &str,
    part: &str,
    data: &[u8],
) -> super::harness::Reply {
    let (ct, body) = multipart(part, "fw.hex", data);
    h.raw(
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn firmware_uploads_record_size_and_checksum_within_the_limit() {
    let h = Harness::with_config(switchyard_api::ApiConfig {
        max_firmware_bytes: 1000,
        ..Default::default()
    })
    .await;
    let admin = h.login("admin").await;
    assert_eq!(
        h.post("/api/firmware", &admin, json!({"id": "fw1"}))
            .await
            .status,
        200
    );
    let data = b":100000000C9434000C9446000C9446000C944600B0\n:00000001FF\n";
    let r = upload(&h, "/api/firmware/upload/fw1", &admin, "file", data).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // sha256 of the bytes above, computed independently.
    use sha2::Digest;
    let expected = format!("sha256:{:x}", sha2::Sha256::digest(data));
    assert_eq!(r.body["file"]["checksum"], expected);
    assert_eq!(r.body["file"]["size"], data.len());
    assert_eq!(r.body["file"]["name"], "fw.hex");
    assert_eq!(
        std::fs::read(h.state.firmware_dir().join("fw1")).unwrap(),
        data
    );

    let r = upload(
        &h,
        "/api/firmware/upload/fw1",
        &admin,
        "file",
        &[b'x'; 1001],
    )
    .await;
    assert_error(&r, 413, "payload_too_large");
    assert_eq!(
        std::fs::read(h.state.firmware_dir().join("fw1")).unwrap(),
        data,
        "a refused upload changes nothing"
    );
    let leftovers = std::fs::read_dir(h.state.firmware_dir()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file left");
    assert_error(
        &upload(&h, "/api/firmware/upload/..%2Fescape", &admin, "file", data).await,
        400,
        "invalid_id",
    );
    assert_error(
        &upload(&h, "/api/firmware/upload/missing", &admin, "file", data).await,
        404,
        "not_found",
    );
    assert_error(
        &upload(&h, "/api/firmware/upload/fw1", &admin, "wrong", data).await,
        400,
        "invalid_body",
    );
}

#[tokio::test]
async fn a_backup_restores_resources_and_firmware() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    assert_eq!(
        h.post("/api/gateway", &admin, body("gateway", 1))
            .await
            .status,
        200
    );
    assert_eq!(
        h.post("/api/firmware", &admin, json!({"id": "fw"}))
            .await
            .status,
        200
    );
    assert_eq!(
        upload(&h, "/api/firmware/upload/fw", &admin, "file", b"original")
            .await
            .status,
        200
    );
    let run = h.post("/api/backup/run", &admin, json!({})).await;
    assert_eq!(run.status, 200, "{}", run.body);
    let id = run.body["id"].as_str().unwrap().to_string();
    assert_eq!(run.body["manifest"]["entities"]["gateway"], 1);

    // Change everything after the backup.
    assert_eq!(
        h.post("/api/gateway", &admin, body("gateway", 2))
            .await
            .status,
        200
    );
    h.send(
        Method::DELETE,
        "/api/gateway",
        Some(&admin),
        Some(json!(["gw1"])),
    )
    .await;
    assert_eq!(
        upload(&h, "/api/firmware/upload/fw", &admin, "file", b"changed")
            .await
            .status,
        200
    );

    let download = h.get(&format!("/api/backup/{id}"), &admin).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.headers[header::CONTENT_TYPE], "application/zip");
    assert!(download.raw.starts_with(b"PK"));

    let mut events = h.bus.subscribe("event.gateway.>").await.unwrap();
    let r = h
        .post(&format!("/api/backup/{id}/restore"), &admin, json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ids: Vec<String> = h.get("/api/gateway", &admin).await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["gw1"]);
    assert_eq!(
        std::fs::read(h.state.firmware_dir().join("fw")).unwrap(),
        b"original"
    );
    let mut seen = Vec::new();
    while let Ok(Some(m)) =
        tokio::time::timeout(std::time::Duration::from_millis(200), events.next()).await
    {
        let e: Value = serde_json::from_slice(&m.payload).unwrap();
        seen.push(format!(
            "{} {}",
            e["type"].as_str().unwrap(),
            e["entityId"].as_str().unwrap()
        ));
    }
    seen.sort();
    assert_eq!(
        seen,
        ["deleted gw2", "updated gw1"],
        "services hear what changed"
    );
    // The admin's session survived (same user, same roles).
    assert_eq!(h.get("/api/backup", &admin).await.body["count"], 1);

    let r = upload(&h, "/api/backup/upload", &admin, "file", &download.raw).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = upload(
        &h,
        "/api/backup/upload",
        &admin,
        "file",
        b"PK not really a zip",
    )
    .await;
    assert_error(&r, 400, "invalid_archive");
    assert_eq!(
        h.get("/api/backup", &admin).await.body["count"],
        2,
        "the bad upload was not kept"
    );
    assert_error(
        &h.get("/api/backup/..%2F..%2Fetc%2Fpasswd", &admin).await,
        404,
        "not_found",
    );
    let r = h
        .send(
            Method::DELETE,
            "/api/backup",
            Some(&admin),
            Some(json!([id])),
        )
        .await;
    assert_eq!(r.body["deleted"], 1);
}
