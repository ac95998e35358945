//! A fake Philips Hue bridge on loopback, speaking the bridge's protocol from recorded
//! responses (`tests/data/hue`): API v1 (`/api/<username>/…`: config, lights, sensors, groups,
//! light state and group action `PUT`s applied to its copy, a group's to its member lights),
//! pairing (`POST /api`, error 101 until the test presses the link button), API v2's resource
//! list (`/clip/v2/resource`) and event stream (`/eventstream/clip/v2`, Server-Sent Events over
//! chunked HTTP/1.1, greeting `: hi`),
//! over HTTPS with a test certificate (rustls, ring) or plain HTTP.
//!
//! It runs on its own threads (blocking rustls streams), so tests drive it without `.await` and
//! it adds no TLS server crate: a test pushes recorded events with [`FakeHueBridge::push_event`],
//! cuts the event streams with [`FakeHueBridge::drop_streams`], breaks `GET lights`
//! ([`BridgeState::broken`]) or switches API v2 off ([`BridgeState::v2`]), and [`FakeHueBridge::stop`]s
//! it (every connection closed, as a bridge losing power) and starts it again on the same port.

use parking_lot::Mutex;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

/// The app key the fake bridge knows (any other is an "unauthorized user").
pub const HUE_USER: &str = "ffffffffe0341b1b376a2389376a2389";

const CERT_PEM: &[u8] = include_bytes!("../../tests/data/hue/tls/bridge.crt");
const KEY_PEM: &[u8] = include_bytes!("../../tests/data/hue/tls/bridge.key");
const LIGHTS: &str = include_str!("../../tests/data/hue/lights.json");
const SENSORS: &str = include_str!("../../tests/data/hue/sensors.json");
const GROUPS: &str = include_str!("../../tests/data/hue/groups.json");
const GROUP_0: &str = include_str!("../../tests/data/hue/group_0.json");
const CONFIG: &str = include_str!("../../tests/data/hue/config.json");
const RESOURCES: &str = include_str!("../../tests/data/hue/v2/resource.json");
const EVENTS: &str = include_str!("../../tests/data/hue/v2/events.sse");

/// Events waiting for a slow stream reader; a push past it is dropped for that stream.
const STREAM_QUEUE: usize = 64;

/// The SHA-256 fingerprint of the fake bridge's certificate, as `certificateFingerprint` takes it.
pub fn certificate_fingerprint() -> String {
    let cert = CertificateDer::from_pem_slice(CERT_PEM).expect("the test certificate");
    crate::providers::hue::format_fingerprint(&crate::providers::hue::fingerprint_of(&cert))
}

/// The recorded events of `tests/data/hue/v2/events.sse`, each as the bridge sends it
/// (`id: …\ndata: […]\n\n`).
pub fn recorded_events() -> Vec<String> {
    EVENTS
        .split("\n\n")
        .filter(|e| e.starts_with("id:"))
        .map(|e| format!("{e}\n\n"))
        .collect()
}

/// What the bridge holds; tests read and change it through [`FakeHueBridge::state`].
pub struct BridgeState {
    pub lights: Value,
    pub sensors: Value,
    /// Groups by id, `"0"` (every light) included; `GET groups` leaves it out, as a bridge does.
    pub groups: Value,
    pub config: Value,
    pub resources: Value,
    /// `METHOD path body` of every request, in order.
    pub requests: Vec<String>,
    /// Answer `GET lights` with a 500 and an HTML page.
    pub broken: bool,
    /// API v2 served; `false` answers 404 there, as a bridge without it does.
    pub v2: bool,
    /// Answer `GET /clip/v2/resource` with a 500 and an HTML page.
    pub v2_broken: bool,
    /// Event streams opened so far.
    pub streams_opened: usize,
    /// The link button is pressed: `POST /api` hands out [`HUE_USER`] (else error 101).
    pub link_button: bool,
    streams: HashMap<usize, SyncSender<Option<String>>>,
}

impl BridgeState {
    /// The documented lights, sensors, config and v2 resources.
    pub fn recorded() -> Arc<Mutex<BridgeState>> {
        let parse = |s: &str| serde_json::from_str::<Value>(s).expect("a recorded response");
        let mut groups = parse(GROUPS);
        groups["0"] = parse(GROUP_0);
        Arc::new(Mutex::new(BridgeState {
            lights: parse(LIGHTS),
            sensors: parse(SENSORS),
            groups,
            config: parse(CONFIG),
            resources: parse(RESOURCES),
            requests: Vec::new(),
            broken: false,
            v2: true,
            v2_broken: false,
            streams_opened: 0,
            link_button: false,
            streams: HashMap::new(),
        }))
    }

    /// Sends SSE text to every open stream; how many took it.
    fn push(&mut self, text: &str) -> usize {
        let mut sent = 0;
        self.streams
            .retain(|_, tx| match tx.try_send(Some(text.to_string())) {
                Ok(()) => {
                    sent += 1;
                    true
                }
                Err(TrySendError::Full(_)) => true,
                Err(TrySendError::Disconnected(_)) => false,
            });
        sent
    }
}

pub struct FakeHueBridge {
    addr: SocketAddr,
    tls: bool,
    state: Arc<Mutex<BridgeState>>,
    stop: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    accept: Option<JoinHandle<()>>,
}

impl FakeHueBridge {
    /// Listens on `127.0.0.1:port` (0: any free port), over HTTPS when `tls`.
    pub fn start(state: Arc<Mutex<BridgeState>>, port: u16, tls: bool) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let server = tls.then(server_config).transpose()?;
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (st, stp, conns) = (state.clone(), stop.clone(), connections.clone());
        let accept = std::thread::Builder::new()
            .name("fake-hue-accept".into())
            .spawn(move || accept_loop(listener, server, st, stp, conns))?;
        Ok(FakeHueBridge {
            addr,
            tls,
            state,
            stop,
            connections,
            accept: Some(accept),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:<port>` (or `http://`), the gateway's `host`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn state(&self) -> &Arc<Mutex<BridgeState>> {
        &self.state
    }

    pub fn requests(&self) -> Vec<String> {
        self.state.lock().requests.clone()
    }

    /// Presses (or releases) the link button: while pressed, pairing (`POST /api`) succeeds.
    pub fn press_link_button(&self, pressed: bool) {
        self.state.lock().link_button = pressed;
    }

    /// Event streams open now.
    pub fn open_streams(&self) -> usize {
        self.state.lock().streams.len()
    }

    /// Sends one SSE message (as [`recorded_events`] gives them) to every open event stream;
    /// how many streams took it.
    pub fn push_event(&self, sse: &str) -> usize {
        self.state.lock().push(sse)
    }

    /// Ends every open event stream; the bridge itself stays up.
    pub fn drop_streams(&self) {
        let streams = std::mem::take(&mut self.state.lock().streams);
        for tx in streams.values() {
            let _ = tx.try_send(None);
        }
    }

    /// Closes the listener and every connection, as a bridge losing power; its state is kept
    /// for a restart.
    pub fn stop(mut self) -> Arc<Mutex<BridgeState>> {
        self.shutdown();
        self.state.clone()
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        self.drop_streams();
        for c in self.connections.lock().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Drop for FakeHueBridge {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn server_config() -> io::Result<Arc<rustls::ServerConfig>> {
    let bad = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
    let certs = CertificateDer::pem_slice_iter(CERT_PEM)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(KEY_PEM).map_err(|e| bad(e.to_string()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| bad(e.to_string()))?;
    Ok(Arc::new(config))
}

fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    state: Arc<Mutex<BridgeState>>,
    stop: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
) {
    while !stop.load(Ordering::SeqCst) {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Err(_) => return,
        };
        if stream.set_nonblocking(false).is_err() {
            continue;
        }
        // A copy to close the socket with: the list's copy when the bridge stops, this one
        // when its connection ends (a dropped event stream), since copies keep it open.
        let (Ok(listed), Ok(closer)) = (stream.try_clone(), stream.try_clone()) else {
            continue;
        };
        connections.lock().push(listed);
        let (tls, state) = (tls.clone(), state.clone());
        let _ = std::thread::Builder::new()
            .name("fake-hue-conn".into())
            .spawn(move || {
                match tls {
                    Some(config) => {
                        if let Ok(conn) = rustls::ServerConnection::new(config) {
                            serve(rustls::StreamOwned::new(conn, stream), &state);
                        }
                    }
                    None => serve(stream, &state),
                }
                let _ = closer.shutdown(std::net::Shutdown::Both);
            });
    }
}

struct Request {
    method: String,
    path: String,
    key: Option<String>,
    body: String,
}

/// Reads one HTTP/1.1 request (a `content-length` body at most); `None` at the end.
fn read_request(s: &mut impl Read, buf: &mut Vec<u8>) -> Option<Request> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let len = header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
    buf.drain(..head_end + len);
    let mut first = head.lines().next().unwrap_or("").split(' ');
    Some(Request {
        method: first.next().unwrap_or("").to_string(),
        path: first.next().unwrap_or("").to_string(),
        key: header("hue-application-key"),
        body,
    })
}

fn serve(mut s: impl Read + Write, state: &Mutex<BridgeState>) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut s, &mut buf) {
        let answer = respond(state, &req);
        let (status, content_type, body) = match answer {
            Answer::Json(status, v) => (status, "application/json", v.to_string()),
            Answer::Html(status, text) => (status, "text/html", text.to_string()),
            Answer::EventStream(rx) => return stream_events(s, rx),
        };
        let out = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if s.write_all(out.as_bytes())
            .and_then(|()| s.flush())
            .is_err()
        {
            return;
        }
    }
}

fn chunk(s: &mut impl Write, text: &str) -> io::Result<()> {
    write!(s, "{:x}\r\n{text}\r\n", text.len())?;
    s.flush()
}

/// An open event stream: the greeting, then whatever is pushed, until told to end.
fn stream_events(mut s: impl Read + Write, rx: Receiver<Option<String>>) {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";
    if s.write_all(head.as_bytes()).is_err() || chunk(&mut s, ": hi\n\n").is_err() {
        return;
    }
    while let Ok(Some(text)) = rx.recv() {
        if chunk(&mut s, &text).is_err() {
            return;
        }
    }
    // Ended without the closing chunk: the stream was cut, as when the bridge restarts it.
}

enum Answer {
    Json(&'static str, Value),
    Html(&'static str, &'static str),
    EventStream(Receiver<Option<String>>),
}

const OK: &str = "200 OK";

fn v1_error(kind: u32, address: &str, description: &str) -> Answer {
    Answer::Json(
        OK,
        json!([{"error": {"type": kind, "address": address, "description": description}}]),
    )
}

fn respond(state: &Mutex<BridgeState>, req: &Request) -> Answer {
    let mut st = state.lock();
    st.requests
        .push(format!("{} {} {}", req.method, req.path, req.body));
    let (method, path) = (req.method.as_str(), req.path.as_str());
    if path.starts_with("/clip/v2/") || path == "/eventstream/clip/v2" {
        if !st.v2 {
            return Answer::Html("404 Not Found", "<html><body>Not Found</body></html>");
        }
        if req.key.as_deref() != Some(HUE_USER) {
            return Answer::Json(
                "403 Forbidden",
                json!({"errors": [{"description": "unauthorized user"}], "data": []}),
            );
        }
        return match (method, path) {
            ("GET", "/clip/v2/resource") if st.v2_broken => {
                Answer::Html("500 Internal Server Error", "<html>oops")
            }
            ("GET", "/clip/v2/resource") => Answer::Json(OK, st.resources.clone()),
            ("GET", "/eventstream/clip/v2") => {
                let (tx, rx) = sync_channel(STREAM_QUEUE);
                st.streams_opened += 1;
                let id = st.streams_opened;
                st.streams.insert(id, tx);
                Answer::EventStream(rx)
            }
            _ => Answer::Json(
                "404 Not Found",
                json!({"errors": [{"description": "Not Found"}], "data": []}),
            ),
        };
    }
    if (method, path) == ("POST", "/api") {
        return pair(&st, &req.body);
    }
    let Some(rest) = path.strip_prefix(&format!("/api/{HUE_USER}/")) else {
        return v1_error(1, "/", "unauthorized user");
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let ok = |v: &Value| Answer::Json(OK, v.clone());
    match (method, parts.as_slice()) {
        ("GET", ["config"]) => ok(&st.config),
        ("GET", ["lights"]) if st.broken => Answer::Html("500 Internal Server Error", "<html>oops"),
        ("GET", ["lights"]) => ok(&st.lights),
        ("GET", ["sensors"]) => ok(&st.sensors),
        ("GET", ["groups"]) => {
            let mut listed = st.groups.clone();
            if let Some(all) = listed.as_object_mut() {
                all.remove("0");
            }
            ok(&listed)
        }
        ("GET", ["groups", id]) => match st.groups.get(*id) {
            Some(g) => ok(g),
            None => v1_error(
                3,
                &format!("/groups/{id}"),
                &format!("resource, /groups/{id}, not available"),
            ),
        },
        ("PUT", ["groups", id, "action"]) => set_group_action(&mut st, id, &req.body),
        ("GET", ["lights", id]) => ok(&st.lights[*id]),
        ("GET", ["sensors", id]) => ok(&st.sensors[*id]),
        ("POST", ["lights"]) | ("POST", ["sensors"]) => Answer::Json(
            OK,
            json!([{"success": {format!("/{}", parts[0]): "Searching for new devices"}}]),
        ),
        ("PUT", ["lights", id, "state"]) => set_light_state(&mut st, id, &req.body),
        _ => v1_error(4, path, "method not available"),
    }
}

/// `POST /api` (`{"devicetype": "app#device"}`): the app key while the link button is pressed,
/// error 101 before.
fn pair(st: &BridgeState, body: &str) -> Answer {
    let Ok(req) = serde_json::from_str::<Value>(body) else {
        return v1_error(2, "/", "body contains invalid json");
    };
    if !req["devicetype"].as_str().is_some_and(|d| d.contains('#')) {
        return v1_error(5, "/", "invalid/missing parameters in body");
    }
    if !st.link_button {
        return v1_error(101, "", "link button not pressed");
    }
    let mut success = json!({"username": HUE_USER});
    if req["generateclientkey"] == json!(true) {
        success["clientkey"] = json!("D1C1C5AE2A0B4C3E9F7A6B5C4D3E2F10");
    }
    Answer::Json(OK, json!([{ "success": success }]))
}

/// `PUT groups/<id>/action`: kept as the group's `action` and applied to each of its lights
/// (each announced on the event stream as a light's change), then `all_on`/`any_on` recomputed.
fn set_group_action(st: &mut BridgeState, id: &str, body: &str) -> Answer {
    let Ok(Value::Object(change)) = serde_json::from_str::<Value>(body) else {
        return v1_error(2, "/", "body contains invalid json");
    };
    let Some(group) = st.groups.get_mut(id) else {
        return v1_error(
            3,
            &format!("/groups/{id}"),
            &format!("resource, /groups/{id}, not available"),
        );
    };
    let members: Vec<String> = group["lights"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut answer = Vec::new();
    for (k, v) in &change {
        if k != "transitiontime" {
            group["action"][k] = v.clone();
        }
        answer.push(json!({"success": {format!("/groups/{id}/action/{k}"): v}}));
    }
    for light in &members {
        set_light_state(st, light, body);
    }
    let on: Vec<bool> = members
        .iter()
        .map(|l| st.lights[l]["state"]["on"] == json!(true))
        .collect();
    st.groups[id]["state"] = json!({
        "all_on": !on.is_empty() && on.iter().all(|b| *b),
        "any_on": on.iter().any(|b| *b),
    });
    Answer::Json(OK, Value::Array(answer))
}

/// `PUT lights/<id>/state`: applied, answered with the success list, and (API v2 on) announced
/// on the event stream as the bridge does.
fn set_light_state(st: &mut BridgeState, id: &str, body: &str) -> Answer {
    let Ok(Value::Object(change)) = serde_json::from_str::<Value>(body) else {
        return v1_error(2, "/", "body contains invalid json");
    };
    let Some(light) = st.lights.get_mut(id).and_then(|l| l.get_mut("state")) else {
        return v1_error(
            3,
            &format!("/lights/{id}"),
            &format!("resource, /lights/{id}, not available"),
        );
    };
    let mut answer = Vec::new();
    let mut event = json!({"id_v1": format!("/lights/{id}"), "type": "light"});
    for (k, v) in change {
        if k != "transitiontime" {
            light[&k] = v.clone();
        }
        match (k.as_str(), v.as_f64()) {
            ("on", _) => event["on"] = json!({"on": v}),
            ("bri", Some(b)) => {
                event["dimming"] =
                    json!({"brightness": (b * 100.0 / 254.0 * 100.0).round() / 100.0})
            }
            ("ct", Some(m)) => {
                event["color_temperature"] = json!({"mirek": m, "mirek_valid": true})
            }
            _ => {}
        }
        answer.push(json!({"success": {format!("/lights/{id}/state/{k}"): v}}));
    }
    let v2_id = st.resources["data"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|r| r["type"] == "light" && r["id_v1"] == json!(format!("/lights/{id}")))
        })
        .map(|r| r["id"].clone());
    if let (true, Some(v2_id)) = (st.v2, v2_id) {
        event["id"] = v2_id;
        let container = json!([{"creationtime": "2019-01-20T17:00:00Z", "data": [event],
            "id": "4c7f9a2e-3b1d-4e8f-9a6c-0000000000ff", "type": "update"}]);
        let n = st.streams_opened;
        st.push(&format!(
            "id: {}:0\ndata: {container}\n\n",
            1_547_996_400 + n
        ));
    }
    Answer::Json(OK, Value::Array(answer))
}
