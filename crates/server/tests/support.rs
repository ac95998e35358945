//! What the real-binary tests that play devices share: the local Mosquitto and its command-line
//! clients (`mosquitto_pub`, a `mosquitto_sub` watcher), a loopback HTTP peer, and a logged-in
//! client of the running binary.

use crate::server::Server;
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::future::Future;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

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

pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
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
        let server = Server::start(dir, &[], &[]).await;
        let token = server.login().await;
        Api { server, token }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .server
            .client
            .get(self.server.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .server
            .client
            .post(self.server.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {body}");
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
