//! The JavaScript sandbox (QuickJS through rquickjs). Each run gets a fresh runtime, so scripts
//! share nothing; the runtime has a memory limit, a stack limit and an interrupt handler that
//! stops the script at its deadline. Runs happen on tokio's blocking pool, at most
//! `max_concurrent` at a time; a run waiting for a slot does not hold up anything else.
//!
//! A script sees its variables as globals and returns the value of its last expression:
//! `temperature.current.value > 25` or `({isTriggered: true, level: "high"})`.
//!
//! Helpers (`mcUtils`, MyController's name): `mcUtils.crypto.{md5,sha1,sha256,sha512}(text)` (hex),
//! `mcUtils.convert.{toHex,fromHex,toBase64,fromBase64}(text)`,
//! `mcUtils.httpClient.{request(opts),get(url[,opts]),post(url,body[,opts])}` returning
//! `{statusCode, headers, body, json}`, and `console.{log,info,warn,error}` to the server log.

mod helpers;

use crate::error::ScriptError;
use rquickjs::{Context, Runtime};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Bounds of every script run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScriptLimits {
    /// Heap a script may use, in bytes; past it allocation fails and the script stops.
    pub memory_limit_bytes: usize,
    /// Longest a script may run (a duration such as `5s`), HTTP calls included.
    pub timeout: String,
    /// Scripts running at once; more wait for a slot (and their time does not start until then).
    pub max_concurrent: usize,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        ScriptLimits {
            memory_limit_bytes: 32 * 1024 * 1024,
            timeout: "5s".into(),
            max_concurrent: 4,
        }
    }
}

impl ScriptLimits {
    pub fn timeout(&self) -> Result<Duration, ScriptError> {
        switchyard_core::value::parse_std_duration(&self.timeout)
            .map_err(|e| ScriptError::Engine(format!("script timeout: {e}")))
    }
}

const MAX_STACK_BYTES: usize = 512 * 1024;
/// Longest script source accepted.
pub const MAX_SOURCE_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct ScriptEngine {
    limits: ScriptLimits,
    timeout: Duration,
    slots: Arc<Semaphore>,
}

impl ScriptEngine {
    pub fn new(limits: ScriptLimits) -> Result<Self, ScriptError> {
        let timeout = limits.timeout()?;
        if limits.memory_limit_bytes < 1024 * 1024 {
            return Err(ScriptError::Engine(
                "script memory limit must be at least 1 MiB".into(),
            ));
        }
        Ok(ScriptEngine {
            slots: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
            limits,
            timeout,
        })
    }

    pub fn limits(&self) -> &ScriptLimits {
        &self.limits
    }

    /// Runs `source` with `globals` and returns its result as JSON (`undefined` is `null`).
    pub async fn run(
        &self,
        source: &str,
        globals: &Map<String, Value>,
    ) -> Result<Value, ScriptError> {
        if source.len() > MAX_SOURCE_BYTES {
            return Err(ScriptError::Engine(format!(
                "script longer than {MAX_SOURCE_BYTES} bytes"
            )));
        }
        let _slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ScriptError::Engine("script engine closed".into()))?;
        let globals = serde_json::to_string(globals)
            .map_err(|e| ScriptError::Engine(format!("variables: {e}")))?;
        let source = source.to_string();
        let (memory, timeout) = (self.limits.memory_limit_bytes, self.timeout);
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            run_blocking(&source, &globals, memory, timeout, handle)
        })
        .await
        .map_err(|e| ScriptError::Engine(format!("script thread: {e}")))?
    }
}

fn run_blocking(
    source: &str,
    globals_json: &str,
    memory: usize,
    timeout: Duration,
    handle: tokio::runtime::Handle,
) -> Result<Value, ScriptError> {
    let engine = |e: rquickjs::Error| ScriptError::Engine(e.to_string());
    let rt = Runtime::new().map_err(engine)?;
    rt.set_memory_limit(memory);
    rt.set_max_stack_size(MAX_STACK_BYTES);
    let deadline = Instant::now() + timeout;
    rt.set_interrupt_handler(Some(Box::new(move || Instant::now() >= deadline)));
    let ctx = Context::full(&rt).map_err(engine)?;
    let out = ctx.with(|ctx| -> Result<Value, ScriptError> {
        let classify =
            |ctx: &rquickjs::Ctx, e: rquickjs::Error| classify(ctx, e, memory, timeout, deadline);
        helpers::install(&ctx, handle, deadline).map_err(|e| classify(&ctx, e))?;
        let parsed: rquickjs::Value = ctx
            .json_parse(globals_json.as_bytes().to_vec())
            .map_err(|e| classify(&ctx, e))?;
        if let Some(obj) = parsed.as_object() {
            let g = ctx.globals();
            for entry in obj.props::<rquickjs::String, rquickjs::Value>() {
                let (k, v) = entry.map_err(|e| classify(&ctx, e))?;
                g.set(k, v).map_err(|e| classify(&ctx, e))?;
            }
        }
        let result: rquickjs::Value = ctx
            .eval(source.as_bytes().to_vec())
            .map_err(|e| classify(&ctx, e))?;
        if result.is_undefined() || result.is_function() {
            return Ok(Value::Null);
        }
        let text = ctx
            .json_stringify(result)
            .map_err(|e| classify(&ctx, e))?
            .map(|s| s.to_string())
            .transpose()
            .map_err(|e| classify(&ctx, e))?;
        match text {
            None => Ok(Value::Null),
            Some(t) => {
                serde_json::from_str(&t).map_err(|e| ScriptError::Result(format!("not JSON: {e}")))
            }
        }
    });
    drop(ctx);
    drop(rt);
    out
}

fn classify(
    ctx: &rquickjs::Ctx,
    e: rquickjs::Error,
    memory: usize,
    timeout: Duration,
    deadline: Instant,
) -> ScriptError {
    let message = match e {
        rquickjs::Error::Exception => {
            let exc = ctx.catch();
            match exc.as_exception() {
                Some(x) => x.message().unwrap_or_else(|| "exception".into()),
                None => match exc.as_string().and_then(|s| s.to_string().ok()) {
                    Some(s) => s,
                    None if exc.is_null() => "out of memory".into(),
                    None => ctx
                        .json_stringify(exc)
                        .ok()
                        .flatten()
                        .and_then(|s| s.to_string().ok())
                        .unwrap_or_else(|| "exception".into()),
                },
            }
        }
        rquickjs::Error::Allocation => return ScriptError::Memory(memory),
        other => other.to_string(),
    };
    if message.contains("interrupted") && Instant::now() >= deadline {
        ScriptError::Timeout(timeout)
    } else if message.contains("out of memory") || message.contains("stack overflow") {
        ScriptError::Memory(memory)
    } else {
        ScriptError::Exception(message)
    }
}
