//! What a script may call besides the language: hashes, encodings, HTTP, logging. The Rust side
//! takes and returns strings (JSON for structured data); a small JavaScript prelude gives them
//! their friendly shape and turns `{error}` answers into exceptions.

use crate::http::{HttpRequest, send};
use base64::Engine as _;
use rquickjs::{Ctx, Function};
use sha1::Digest as _;
use std::time::Instant;

const PRELUDE: &str = r#"
(() => {
  const call = (f, ...args) => {
    const r = JSON.parse(f(...args));
    if (r.error !== undefined) throw new Error(r.error);
    return r.ok;
  };
  const hash = (alg) => (text) => call(__sy_hash, alg, String(text));
  const enc = (kind) => (text) => call(__sy_encode, kind, String(text));
  const request = (opts) => {
    const r = call(__sy_http, JSON.stringify(opts || {}));
    try { r.json = JSON.parse(r.body); } catch (e) { r.json = undefined; }
    return r;
  };
  globalThis.mcUtils = {
    crypto: { md5: hash("md5"), sha1: hash("sha1"), sha256: hash("sha256"), sha512: hash("sha512") },
    convert: { toHex: enc("toHex"), fromHex: enc("fromHex"), toBase64: enc("toBase64"), fromBase64: enc("fromBase64") },
    httpClient: {
      request,
      get: (url, opts) => request(Object.assign({}, opts, { method: "GET", url })),
      post: (url, body, opts) => request(Object.assign({}, opts, { method: "POST", url, body })),
    },
  };
  const log = (level) => (...args) => __sy_log(level, args.map((a) => typeof a === "string" ? a : JSON.stringify(a)).join(" "));
  globalThis.console = { log: log("info"), info: log("info"), debug: log("debug"), warn: log("warn"), error: log("error") };
})();
"#;

fn answer(r: Result<serde_json::Value, String>) -> String {
    let v = match r {
        Ok(ok) => serde_json::json!({ "ok": ok }),
        Err(error) => serde_json::json!({ "error": error }),
    };
    v.to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(alg: &str, text: &str) -> Result<serde_json::Value, String> {
    let d = text.as_bytes();
    let h = match alg {
        "md5" => hex(&md5::Md5::digest(d)),
        "sha1" => hex(&sha1::Sha1::digest(d)),
        "sha256" => hex(&sha2::Sha256::digest(d)),
        "sha512" => hex(&sha2::Sha512::digest(d)),
        other => return Err(format!("unknown hash `{other}`")),
    };
    Ok(h.into())
}

fn encode(kind: &str, text: &str) -> Result<serde_json::Value, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let s = match kind {
        "toHex" => hex(text.as_bytes()),
        "fromHex" => {
            let t = text.trim();
            if !t.len().is_multiple_of(2) {
                return Err("hex text must have an even length".into());
            }
            let bytes = (0..t.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(t.get(i..i + 2).unwrap_or("zz"), 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| "not hex".to_string())?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        "toBase64" => b64.encode(text.as_bytes()),
        "fromBase64" => {
            let bytes = b64
                .decode(text.trim())
                .map_err(|e| format!("not base64: {e}"))?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        other => return Err(format!("unknown encoding `{other}`")),
    };
    Ok(s.into())
}

pub fn install(
    ctx: &Ctx<'_>,
    handle: tokio::runtime::Handle,
    deadline: Instant,
) -> rquickjs::Result<()> {
    let g = ctx.globals();
    g.set(
        "__sy_hash",
        Function::new(ctx.clone(), |alg: String, text: String| {
            answer(hash(&alg, &text))
        })?,
    )?;
    g.set(
        "__sy_encode",
        Function::new(ctx.clone(), |kind: String, text: String| {
            answer(encode(&kind, &text))
        })?,
    )?;
    g.set(
        "__sy_http",
        Function::new(ctx.clone(), move |opts: String| {
            let r = serde_json::from_str::<HttpRequest>(&opts)
                .map_err(|e| format!("http request options: {e}"))
                .and_then(|req| {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err("script time is up".into());
                    }
                    handle.block_on(send(&req, Some(left)))
                })
                .and_then(|resp| serde_json::to_value(resp).map_err(|e| e.to_string()));
            answer(r)
        })?,
    )?;
    g.set(
        "__sy_log",
        Function::new(ctx.clone(), |level: String, msg: String| {
            let msg: String = msg.chars().take(4096).collect();
            match level.as_str() {
                "error" => tracing::error!(target: "script", "{msg}"),
                "warn" => tracing::warn!(target: "script", "{msg}"),
                "debug" => tracing::debug!(target: "script", "{msg}"),
                _ => tracing::info!(target: "script", "{msg}"),
            }
        })?,
    )?;
    ctx.eval::<(), _>(PRELUDE)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_encodings() {
        assert_eq!(
            hash("md5", "abc").unwrap(),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hash("sha256", "abc").unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(encode("toHex", "AB").unwrap(), "4142");
        assert_eq!(encode("fromHex", "4142").unwrap(), "AB");
        assert_eq!(encode("toBase64", "hi").unwrap(), "aGk=");
        assert_eq!(encode("fromBase64", "aGk=").unwrap(), "hi");
        assert!(encode("fromHex", "4").is_err());
    }
}
