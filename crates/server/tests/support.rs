//! What the real-binary tests share: the local Mosquitto and its command-line clients
//! (`mosquitto_pub`, a `mosquitto_sub` watcher), a loopback HTTP peer, simulated MySensors nodes,
//! a logged-in client of the running binary, and the checks several tests make of it (status,
//! acknowledged writes kept).

use crate::server::Server;
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::future::Future;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use switchyard_mysensors_sim::{SimConfig, SimEvent, Simulator, TransportConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// Upper bound for anything waited for; a passing test waits only as long as it takes.
pub const WAIT: Duration = Duration::from_secs(60);
pub const BROKER: &str = "tcp://127.0.0.1:1883";

/// Why a peer the test needs is missing: under `CI=true` that fails the test, elsewhere the test
/// is skipped with a note. Returns true when the caller should return (skip).
pub fn skip(why: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why} (CI=true: the test script must provide it)");
    }
    println!("SKIPPED: {why}");
    true
}

/// Whether a program runs at all (`--help` exits with any status).
pub fn installed(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// The local Mosquitto and its command-line clients, or why the test cannot run (see [`skip`]).
pub fn peers_missing() -> bool {
    if std::net::TcpStream::connect(("127.0.0.1", 1883)).is_err() {
        skip("no MQTT broker (Mosquitto) on 127.0.0.1:1883")
    } else if !installed("mosquitto_pub") {
        skip("mosquitto_pub / mosquitto_sub (mosquitto-clients) not installed")
    } else {
        false
    }
}

/// The first `Some` of `check`, asked every 100 ms; fails the test after [`WAIT`].
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(WAIT, what, check).await
}

/// [`eventually`] with a bound of its own (a test of how soon something happens).
pub async fn eventually_within<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out ({limit:?}) waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A unique name (Tasmota `%topic%`, topic prefix) so parallel tests on one broker stay apart.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{:08x}", rand::random::<u32>())
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Publishes one message to the local broker, as a device would.
pub async fn publish(topic: &str, payload: &str) {
    publish_on(1883, topic, payload).await
}

/// Publishes one message to the broker on loopback `port`.
pub async fn publish_on(port: u16, topic: &str, payload: &str) {
    let status = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
        .args(["-t", topic, "-m", payload])
        .status()
        .await
        .expect("run mosquitto_pub");
    assert!(status.success(), "mosquitto_pub {topic}");
}

/// Everything published under a topic filter, as `topic payload` lines.
pub struct Watch {
    _child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Watch {
    /// Subscribes to `filter` on the local broker; see [`Watch::start_on`].
    pub async fn start(filter: &str, probe_topic: &str) -> Watch {
        Watch::start_on(1883, filter, probe_topic).await
    }

    /// Subscribes to `filter` on the broker at loopback `port` and returns once the subscription
    /// demonstrably works (a probe published under `probe_topic`, which the filter must match,
    /// has come back).
    pub async fn start_on(port: u16, filter: &str, probe_topic: &str) -> Watch {
        let mut child = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1", "-v"])
            .args(["-t", filter])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("run mosquitto_sub");
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let keep = lines.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                keep.lock().push(line);
            }
        });
        let watch = Watch {
            _child: child,
            lines,
        };
        let mut n = 0;
        let w = &watch;
        eventually(&format!("the subscription to {filter}"), || {
            n += 1;
            let probe = format!("probe-{n}");
            async move {
                publish_on(port, probe_topic, &probe).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                w.seen(&probe)
            }
        })
        .await;
        watch
    }

    fn seen(&self, payload: &str) -> Option<()> {
        self.lines
            .lock()
            .iter()
            .any(|l| l.ends_with(&format!(" {payload}")))
            .then_some(())
    }

    pub fn matching(&self, prefix: &str) -> Vec<String> {
        self.lines
            .lock()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// The first line starting with `prefix`, waited for.
    pub async fn wait(&self, prefix: &str) -> String {
        eventually(&format!("a publish `{prefix}…`"), || {
            let found = self.matching(prefix).into_iter().next();
            async move { found }
        })
        .await
    }
}

/// One request an [`HttpPeer`] took.
#[derive(Debug, Clone)]
pub struct Request {
    /// `POST /alert HTTP/1.1`
    pub line: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What an [`HttpPeer`] answers: status, extra headers, body.
pub type Answer = (u16, Vec<(String, String)>, String);

/// A device or webhook receiver on loopback: keeps every request, answers each with what
/// `answer` says. [`HttpPeer::stop`] closes the port (connections are refused) and
/// [`HttpPeer::restart`] opens the same port again.
pub struct HttpPeer {
    pub url: String,
    pub addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    answer: Arc<dyn Fn(&Request) -> Answer + Send + Sync>,
    accept: Option<tokio::task::JoinHandle<()>>,
}

impl HttpPeer {
    pub async fn answering(
        answer: impl Fn(&Request) -> Answer + Send + Sync + 'static,
    ) -> HttpPeer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut peer = HttpPeer {
            url: format!("http://{addr}"),
            addr,
            requests: Arc::new(Mutex::new(Vec::new())),
            answer: Arc::new(answer),
            accept: None,
        };
        peer.serve(listener);
        peer
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().clone()
    }

    /// Closes the port: new connections are refused.
    pub fn stop(&mut self) {
        if let Some(task) = self.accept.take() {
            task.abort();
        }
    }

    /// Listens on the same port again.
    pub async fn restart(&mut self) {
        self.stop();
        let listener = eventually("the HTTP peer's port again", || async {
            tokio::net::TcpListener::bind(self.addr).await.ok()
        })
        .await;
        self.serve(listener);
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (keep, answer) = (self.requests.clone(), self.answer.clone());
        self.accept = Some(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (keep, answer) = (keep.clone(), answer.clone());
                tokio::spawn(async move {
                    if let Some(request) = one_request(stream, &*answer).await {
                        keep.lock().push(request);
                    }
                });
            }
        }));
    }
}

impl Drop for HttpPeer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads one request (head and `content-length` body), answers it and closes the connection.
async fn one_request(
    mut stream: tokio::net::TcpStream,
    answer: &(dyn Fn(&Request) -> Answer + Send + Sync),
) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let mut lines = head.lines();
        let line = lines.next().unwrap_or("").to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
            })
            .collect();
        let length = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        if buf.len() < end + 4 + length {
            continue;
        }
        let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string();
        let request = Request {
            line,
            headers,
            body,
        };
        let (status, extra, body) = answer(&request);
        let mut head = format!(
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(body.as_bytes()).await;
        return Some(request);
    }
}

/// A logged-in client of the running binary.
pub struct Api {
    pub server: Server,
    pub token: String,
}

impl Api {
    pub async fn start(dir: &Path) -> Api {
        Api::login(Server::start(dir, &[], &[]).await).await
    }

    /// Logs in as the admin on a server already started.
    pub async fn login(server: Server) -> Api {
        let token = server.login().await;
        Api { server, token }
    }

    /// A request to `path` with the session's token.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.server
            .client
            .request(method, self.server.url(path))
            .bearer_auth(&self.token)
    }

    /// Sends `request`: the status and the JSON body (`null` when there is none).
    async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        Api::answer(self.request(reqwest::Method::GET, path)).await
    }

    /// The body of a successful GET, or `None` for any other answer or none at all (a test that
    /// waits across an outage).
    pub async fn try_get(&self, path: &str) -> Option<Value> {
        let r = self.request(reqwest::Method::GET, path).send().await.ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json().await.ok()
    }

    /// `POST` with a JSON body, whatever the answer: its status and body.
    pub async fn post_status(&self, path: &str, body: Value) -> (u16, Value) {
        Api::answer(self.request(reqwest::Method::POST, path).json(&body)).await
    }

    /// `POST` with a JSON body that must succeed (2xx); the answer's body.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (status, body) = self.post_status(path, body).await;
        assert!((200..300).contains(&status), "POST {path}: {status} {body}");
        body
    }

    /// Creates (or replaces) gateway `id` with `provider` and waits until it is up.
    pub async fn gateway(&self, id: &str, provider: Value) -> Value {
        self.post(
            "/api/gateway",
            json!({"id": id, "enabled": true, "reconnectDelay": "1s", "provider": provider}),
        )
        .await;
        self.wait_resource("gateway", id, |g| g["state"]["status"] == "up")
            .await
    }

    /// A Tasmota gateway on the local broker; `full_topic` as Tasmota's FullTopic.
    pub async fn tasmota(&self, id: &str, full_topic: &str) {
        self.gateway(
            id,
            json!({"type": "tasmota",
                   "protocol": {"type": "mqtt", "broker": BROKER},
                   "fullTopic": full_topic,
                   "discoveryPrefix": "",
                   "discoverOnStart": false}),
        )
        .await;
    }

    /// Waits until gateway `id`'s state has `status` (`up`, `down`, …) and returns the state.
    pub async fn wait_status(&self, id: &str, status: &str) -> Value {
        self.wait_status_within(WAIT, id, status).await
    }

    /// [`Api::wait_status`] with a bound of its own.
    pub async fn wait_status_within(&self, limit: Duration, id: &str, status: &str) -> Value {
        eventually_within(limit, &format!("gateway {id} {status}"), || async {
            let gateway = self.try_get(&format!("/api/gateway/{id}")).await?;
            (gateway["state"]["status"] == status).then(|| gateway["state"].clone())
        })
        .await
    }

    pub async fn resource(&self, kind: &str, id: &str) -> Option<Value> {
        let (code, body) = self.get(&format!("/api/{kind}/{id}")).await;
        (code == 200).then_some(body)
    }

    pub async fn wait_resource(
        &self,
        kind: &str,
        id: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        eventually(&format!("{kind} {id}"), || async {
            self.resource(kind, id).await.filter(|r| check(r))
        })
        .await
    }

    /// Waits until field `id` holds `value` (as a number or string).
    pub async fn wait_field(&self, id: &str, value: Value) -> Value {
        self.wait_resource("field", id, |f| f["current"]["value"] == value)
            .await
    }

    /// `POST /api/action`: what the console does for a set or a node action.
    pub async fn action(&self, resource: &str, payload: &str) -> Value {
        self.post(
            "/api/action",
            json!([{"resource": resource, "payload": payload}]),
        )
        .await
    }

    /// What gateway `id` did since it started (`received`, `rejected`, `sent`, `sendFailed`, …),
    /// from `/api/status`.
    pub async fn gateway_counters(&self, id: &str) -> Value {
        let (code, body) = self.get("/api/status").await;
        assert_eq!(code, 200, "{body}");
        body["services"]["gateways"][id].clone()
    }

    /// The raw metric points of a series (`field:gw.node.source.field`) in the last hour.
    pub async fn metric_values(&self, quick_id: &str) -> Vec<Value> {
        let (code, body) = self
            .get(&format!("/api/metric?quickId={quick_id}&start=-1h"))
            .await;
        assert_eq!(code, 200, "metric query for {quick_id}: {body}");
        body[quick_id]
            .as_array()
            .into_iter()
            .flatten()
            .map(|row| row["values"]["value"].clone())
            .collect()
    }

    /// Waits for a metric point of `quick_id` that passes `check`.
    pub async fn wait_metric(&self, quick_id: &str, check: impl Fn(&Value) -> bool) -> Value {
        eventually(&format!("a metric point of {quick_id}"), || async {
            self.metric_values(quick_id)
                .await
                .into_iter()
                .find(|v| check(v))
        })
        .await
    }
}

/// `/api/status` (open to anyone).
pub async fn status(s: &Server) -> Value {
    s.client
        .get(s.url("/api/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Which of the `acked` data repository ids the server does not hold (all it holds, listed as
/// the admin with `token`).
pub async fn lost_writes(s: &Server, token: &str, acked: &[String]) -> Vec<String> {
    let page: Value = s
        .client
        .get(s.url("/api/datarepository?limit=-1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored: std::collections::HashSet<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    acked
        .iter()
        .filter(|id| !stored.contains(id.as_str()))
        .cloned()
        .collect()
}

/// A simulated MySensors network (`switchyard-mysensors-sim`), running, with every event it
/// reported kept for the test.
pub struct Sim {
    seen: Arc<Mutex<Vec<SimEvent>>>,
    cancel: CancellationToken,
    run: tokio::task::JoinHandle<()>,
}

impl Sim {
    pub fn start(config: SimConfig, transport: TransportConfig) -> Sim {
        let sim = Simulator::new(config).expect("a valid simulation");
        let mut events = sim.events();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = seen.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(e) => keep.lock().push(e),
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                }
            }
        });
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        let run = tokio::spawn(async move {
            sim.run(transport, stop).await.expect("the simulator runs");
        });
        Sim { seen, cancel, run }
    }

    /// Waits for the first event `pick` accepts.
    pub async fn wait<T>(&self, what: &str, pick: impl Fn(&SimEvent) -> Option<T>) -> T {
        eventually(what, || {
            let found = self.seen.lock().iter().find_map(&pick);
            async move { found }
        })
        .await
    }

    /// Every event so far that `pick` accepts, in order.
    pub fn all<T>(&self, pick: impl Fn(&SimEvent) -> Option<T>) -> Vec<T> {
        self.seen.lock().iter().filter_map(pick).collect()
    }

    /// The readings of `child` so far, of node `index` or of every node.
    pub fn readings(&self, index: Option<usize>, child: u8) -> Vec<f64> {
        self.all(|e| match e {
            SimEvent::Reading {
                index: i,
                child_id,
                payload,
                ..
            } if index.is_none_or(|index| *i == index) && *child_id == child => {
                payload.parse().ok()
            }
            _ => None,
        })
    }

    pub async fn stop(self) {
        self.cancel.cancel();
        let _ = tokio::time::timeout(WAIT, self.run).await;
    }
}

/// Every file below `dir` (read whole): how many there are, and which of them hold one of
/// `needles` byte for byte, as `<path> holds <needle index>` (for at-rest checks of secrets).
pub fn files_holding(dir: &Path, needles: &[&str]) -> (usize, Vec<String>) {
    let mut files = vec![dir.to_path_buf()];
    let (mut checked, mut found) = (0, Vec::new());
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        checked += 1;
        for (i, needle) in needles.iter().enumerate() {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(format!("{} holds secret #{i}", path.display()));
            }
        }
    }
    (checked, found)
}
