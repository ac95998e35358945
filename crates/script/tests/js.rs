use serde_json::{Map, Value, json};
use switchyard_script::{ScriptEngine, ScriptError, ScriptLimits};

fn engine(timeout: &str) -> ScriptEngine {
    ScriptEngine::new(ScriptLimits {
        memory_limit_bytes: 8 * 1024 * 1024,
        timeout: timeout.into(),
        max_concurrent: 2,
    })
    .unwrap()
}

fn vars(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test]
async fn returns_booleans_and_objects_with_camel_case_resources() {
    let e = engine("5s");
    let v = vars(json!({"temp": {"current": {"value": 26.5}, "fieldId": "V_TEMP"}}));
    assert_eq!(
        e.run("temp.current.value > 25 && temp.fieldId === 'V_TEMP'", &v)
            .await
            .unwrap(),
        json!(true)
    );
    let out = e
        .run(
            "let level = temp.current.value > 30 ? 'hot' : 'warm'; ({isTriggered: true, level})",
            &v,
        )
        .await
        .unwrap();
    assert_eq!(out, json!({"isTriggered": true, "level": "warm"}));
    assert_eq!(e.run("undefined", &v).await.unwrap(), Value::Null);
}

#[tokio::test]
async fn helpers_hash_and_encode() {
    let e = engine("5s");
    let out = e
        .run(
            "[mcUtils.crypto.sha256('abc'), mcUtils.crypto.md5('abc'), mcUtils.convert.toBase64('hi'), mcUtils.convert.fromHex('4142')]",
            &Map::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        json!([
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "900150983cd24fb0d6963f7d28e17f72",
            "aGk=",
            "AB"
        ])
    );
    let err = e
        .run("mcUtils.convert.fromBase64('%%')", &Map::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ScriptError::Exception(ref m) if m.contains("base64")),
        "{err}"
    );
}

#[tokio::test]
async fn a_runaway_loop_is_stopped_at_the_time_limit() {
    let e = engine("300ms");
    let err = e.run("while (true) {}", &Map::new()).await.unwrap_err();
    assert_eq!(
        err,
        ScriptError::Timeout(std::time::Duration::from_millis(300))
    );
    // The engine is still usable afterwards.
    assert_eq!(e.run("1 + 1", &Map::new()).await.unwrap(), json!(2));
}

#[tokio::test]
async fn unbounded_allocation_is_stopped_at_the_memory_limit() {
    let e = engine("20s");
    let err = e
        .run(
            "let a = []; while (true) { a.push('x'.repeat(1024)); }",
            &Map::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err, ScriptError::Memory(8 * 1024 * 1024), "{err}");
    let err = e
        .run("function f(n) { return f(n + 1) + 1; } f(0)", &Map::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ScriptError::Memory(_) | ScriptError::Exception(_)),
        "{err}"
    );
}

#[tokio::test]
async fn a_throw_is_an_exception_with_its_message() {
    let e = engine("5s");
    let err = e
        .run("throw new Error('sensor missing')", &Map::new())
        .await
        .unwrap_err();
    assert_eq!(err, ScriptError::Exception("sensor missing".into()));
    let err = e
        .run("this is not javascript", &Map::new())
        .await
        .unwrap_err();
    assert!(matches!(err, ScriptError::Exception(_)), "{err}");
}

#[tokio::test]
async fn no_file_or_process_access() {
    let e = engine("5s");
    let out = e
        .run(
            "[typeof require, typeof std, typeof os, typeof fetch, typeof process]",
            &Map::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        json!([
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined"
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_client_calls_a_local_server_and_times_out_on_a_hanging_one() {
    use axum::routing::get;
    let app = axum::Router::new()
        .route("/v", get(|| async { axum::Json(json!({"temp": 21})) }))
        .route(
            "/hang",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                "late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let e = engine("5s");
    let v = vars(json!({"base": format!("http://{addr}")}));
    let out = e
        .run(
            "let r = mcUtils.httpClient.get(base + '/v'); [r.statusCode, r.json.temp]",
            &v,
        )
        .await
        .unwrap();
    assert_eq!(out, json!([200, 21]));
    let err = e
        .run(
            "mcUtils.httpClient.get(base + '/hang', {timeout: '200ms'})",
            &v,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, ScriptError::Exception(ref m) if m.contains("no answer within")),
        "{err}"
    );
}
