//! Raw traffic of one gateway, in and out, to a rotating file: `<data_dir>/logs/gateway/<id>.log`,
//! one line per frame: `timestamp\tin|out\t<topic-or-port>\t<payload>`. Off unless the gateway's
//! `messageLogger` is `{type: file_logger, …}`.

use chrono::{SecondsFormat, Utc};
use serde::Deserialize;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// Entries waiting to be written. At the bound new entries are dropped and counted
/// ([`MessageLogger::dropped`]): the logger never slows a gateway down.
pub const LOG_QUEUE_CAPACITY: usize = 4096;
/// Payloads longer than this are cut in the log (and marked `…(N bytes)`).
pub const MAX_LOGGED_PAYLOAD: usize = 4096;
const DEFAULT_MAX_SIZE: u64 = 2 * 1024 * 1024;
const DEFAULT_MAX_BACKUP: u32 = 3;

/// `messageLogger` of a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageLoggerConfig {
    None,
    FileLogger(Box<FileLoggerConfig>),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileLoggerConfig {
    /// Size at which the file is rotated: bytes, or a string such as `2MiB`, `512KB` (default 2 MiB).
    #[serde(default)]
    pub max_size: Option<serde_json::Value>,
    /// Rotated files kept (`<id>.log.1` is the newest), default 3.
    #[serde(default)]
    pub max_backup: Option<u32>,
    /// MyController keys, accepted and ignored: entries are written as they come and the file
    /// rotates by size.
    #[serde(default)]
    pub flush_interval: Option<serde_json::Value>,
    #[serde(default)]
    pub log_rotate_interval: Option<serde_json::Value>,
    #[serde(default)]
    pub max_age: Option<serde_json::Value>,
}

impl MessageLoggerConfig {
    /// Reads a gateway's `messageLogger` map; an empty map means off.
    pub fn from_map(
        map: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<MessageLoggerConfig, String> {
        if map.is_empty() {
            return Ok(MessageLoggerConfig::None);
        }
        serde_json::from_value(serde_json::Value::Object(map.clone()))
            .map_err(|e| format!("messageLogger: {e}"))
    }
}

/// A byte size: a number, or a number with `B`, `K`/`KB`/`KiB`, `M`/`MB`/`MiB` or `G`/`GB`/`GiB`
/// (all powers of 1024).
pub fn parse_size(value: &serde_json::Value) -> Result<u64, String> {
    let bad = || format!("invalid size {value}; use bytes or e.g. `2MiB`");
    match value {
        serde_json::Value::Number(n) => n.as_u64().ok_or_else(bad),
        serde_json::Value::String(s) => {
            let s = s.trim();
            let split = s
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(s.len());
            let num: f64 = s[..split].parse().map_err(|_| bad())?;
            let mult: f64 = match s[split..].trim().to_ascii_lowercase().as_str() {
                "" | "b" => 1.0,
                "k" | "kb" | "kib" => 1024.0,
                "m" | "mb" | "mib" => 1024.0 * 1024.0,
                "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
                _ => return Err(bad()),
            };
            Ok((num * mult) as u64)
        }
        _ => Err(bad()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

struct Entry {
    at: chrono::DateTime<Utc>,
    direction: Direction,
    topic: String,
    payload: Vec<u8>,
}

/// Handle to a gateway's traffic log; cheap to clone. The default logs nothing.
#[derive(Clone, Default)]
pub struct MessageLogger {
    tx: Option<mpsc::Sender<Entry>>,
    dropped: Arc<AtomicU64>,
}

impl MessageLogger {
    /// A logger that writes nothing.
    pub fn off() -> Self {
        MessageLogger::default()
    }

    /// Starts the logger `config` asks for; the writer runs on a blocking thread and ends when the
    /// last handle is dropped.
    pub fn start(
        config: &MessageLoggerConfig,
        data_dir: &Path,
        gateway_id: &str,
    ) -> Result<MessageLogger, String> {
        let MessageLoggerConfig::FileLogger(file) = config else {
            return Ok(MessageLogger::off());
        };
        let max_size = match &file.max_size {
            Some(v) => parse_size(v)?.max(1024),
            None => DEFAULT_MAX_SIZE,
        };
        let max_backup = file.max_backup.unwrap_or(DEFAULT_MAX_BACKUP);
        let dir = data_dir.join("logs").join("gateway");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("messageLogger: creating {}: {e}", dir.display()))?;
        let path = dir.join(format!("{gateway_id}.log"));
        let writer = RotatingFile::open(path, max_size, max_backup)?;
        let (tx, rx) = mpsc::channel(LOG_QUEUE_CAPACITY);
        tokio::task::spawn_blocking(move || writer.run(rx));
        Ok(MessageLogger {
            tx: Some(tx),
            dropped: Arc::default(),
        })
    }

    pub fn is_on(&self) -> bool {
        self.tx.is_some()
    }

    /// Logs one frame. Never waits: when the writer is behind, the entry is dropped and counted.
    pub fn log(&self, direction: Direction, topic: &str, payload: &[u8]) {
        let Some(tx) = &self.tx else { return };
        let entry = Entry {
            at: Utc::now(),
            direction,
            topic: topic.to_string(),
            payload: payload[..payload.len().min(MAX_LOGGED_PAYLOAD + 1)].to_vec(),
        };
        if tx.try_send(entry).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Entries dropped because the writer was behind (or had failed).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Escapes a payload so that one frame stays one line: tabs, line breaks and control characters
/// are escaped, and bytes that are not UTF-8 are shown as `\xNN`.
fn escape(payload: &[u8]) -> String {
    let (shown, cut) = if payload.len() > MAX_LOGGED_PAYLOAD {
        (&payload[..MAX_LOGGED_PAYLOAD], true)
    } else {
        (payload, false)
    };
    let mut out = match std::str::from_utf8(shown) {
        Ok(s) => s.escape_debug().to_string(),
        Err(_) => shown.escape_ascii().to_string(),
    };
    if cut {
        out.push_str("…(cut)");
    }
    out
}

struct RotatingFile {
    path: PathBuf,
    max_size: u64,
    max_backup: u32,
    file: BufWriter<File>,
    size: u64,
}

impl RotatingFile {
    fn open(path: PathBuf, max_size: u64, max_backup: u32) -> Result<Self, String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("messageLogger: opening {}: {e}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(RotatingFile {
            path,
            max_size,
            max_backup,
            file: BufWriter::new(file),
            size,
        })
    }

    fn run(mut self, mut rx: mpsc::Receiver<Entry>) {
        while let Some(entry) = rx.blocking_recv() {
            if let Err(e) = self.write(&entry) {
                tracing::warn!(file = %self.path.display(), error = %e, "message logger stopped");
                return;
            }
            // Flush when caught up, so the file is current without a write per entry.
            if rx.is_empty()
                && let Err(e) = self.file.flush()
            {
                tracing::warn!(file = %self.path.display(), error = %e, "message logger stopped");
                return;
            }
        }
        let _ = self.file.flush();
    }

    fn write(&mut self, entry: &Entry) -> std::io::Result<()> {
        let line = format!(
            "{}\t{}\t{}\t{}\n",
            entry.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            match entry.direction {
                Direction::In => "in",
                Direction::Out => "out",
            },
            entry.topic.escape_debug(),
            escape(&entry.payload)
        );
        if self.size > 0 && self.size + line.len() as u64 > self.max_size {
            self.rotate()?;
        }
        self.file.write_all(line.as_bytes())?;
        self.size += line.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        let backup = |n: u32| PathBuf::from(format!("{}.{n}", self.path.display()));
        if self.max_backup == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(backup(self.max_backup));
            for n in (1..self.max_backup).rev() {
                let _ = std::fs::rename(backup(n), backup(n + 1));
            }
            std::fs::rename(&self.path, backup(1))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.file = BufWriter::new(file);
        self.size = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size(&json!(1000)).unwrap(), 1000);
        assert_eq!(parse_size(&json!("2MiB")).unwrap(), 2 * 1024 * 1024);
        assert_eq!(parse_size(&json!("512 kb")).unwrap(), 512 * 1024);
        assert!(parse_size(&json!("lots")).is_err());
        assert!(parse_size(&json!(-1)).is_err());
    }

    #[test]
    fn config_is_off_by_default_and_strict() {
        let off = MessageLoggerConfig::from_map(&serde_json::Map::new()).unwrap();
        assert_eq!(off, MessageLoggerConfig::None);
        let m = json!({"type": "file_logger", "maxSize": "1MiB", "maxBackup": 2});
        let on = MessageLoggerConfig::from_map(m.as_object().unwrap()).unwrap();
        assert!(matches!(on, MessageLoggerConfig::FileLogger(_)));
        let m = json!({"type": "file_logger", "maxSise": 3});
        let err = MessageLoggerConfig::from_map(m.as_object().unwrap()).unwrap_err();
        assert!(err.contains("maxSise"), "{err}");
    }

    #[test]
    fn payloads_stay_on_one_line() {
        assert_eq!(escape(b"1;2;1;0;0;21.5"), "1;2;1;0;0;21.5");
        assert_eq!(escape(b"a\tb\nc"), "a\\tb\\nc");
        assert_eq!(escape(&[0x66, 0xff]), "f\\xff");
        assert!(escape(&vec![b'x'; MAX_LOGGED_PAYLOAD + 1]).ends_with("…(cut)"));
    }

    #[tokio::test]
    async fn writes_lines_and_rotates_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let config = MessageLoggerConfig::FileLogger(Box::new(FileLoggerConfig {
            max_size: Some(json!(1024)),
            max_backup: Some(2),
            flush_interval: None,
            log_rotate_interval: None,
            max_age: None,
        }));
        let logger = MessageLogger::start(&config, dir.path(), "gw1").unwrap();
        for i in 0..100 {
            logger.log(
                Direction::In,
                "/dev/ttyUSB0",
                format!("1;2;1;0;0;{i}").as_bytes(),
            );
            logger.log(Direction::Out, "/dev/ttyUSB0", b"1;2;1;1;2;1");
        }
        drop(logger);
        let base = dir.path().join("logs/gateway");
        let read = |name: &str| std::fs::read_to_string(base.join(name)).unwrap_or_default();
        // The writer thread finishes after the last handle is dropped.
        let newest = || format!("{}{}", read("gw1.log.1"), read("gw1.log"));
        for _ in 0..500 {
            if newest().contains(";99\n") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(
            newest().contains("\tin\t/dev/ttyUSB0\t1;2;1;0;0;99\n"),
            "{}",
            newest()
        );
        let current = read("gw1.log");
        assert!(current.len() <= 1024);
        assert!(!read("gw1.log.1").is_empty());
        assert!(!read("gw1.log.2").is_empty());
        assert!(!base.join("gw1.log.3").exists());
        let line = current.lines().next().unwrap();
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4);
        assert!(
            chrono::DateTime::parse_from_rfc3339(cols[0]).is_ok(),
            "{line}"
        );
    }
}
