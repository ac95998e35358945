//! Serves the web console at `/`: the files embedded at build time (see `build.rs`), or those in
//! `http.web_dir` when it is set. A path that names no file gets `index.html`, so the console's
//! own routes (`/gateways/gw1`) load on refresh; paths under `/api/` stay the API's and get its
//! JSON 404.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::path::{Component, Path, PathBuf};
use switchyard_api::error::ApiError;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// Where the embedded console came from (`built with npm`, `web/dist`, `placeholder`, …).
pub fn embedded_origin() -> &'static str {
    assets::ORIGIN
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn file_response(path: &str, bytes: impl Into<Body>) -> Response {
    // Vite puts a content hash in every name under assets/, so those never change.
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut res = (StatusCode::OK, bytes.into()).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// The request path as a relative file path, or `None` when it tries to leave the root.
fn relative(uri_path: &str) -> Option<String> {
    let decoded = percent_decode(uri_path.trim_start_matches('/'))?;
    let p = Path::new(&decoded);
    if p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(decoded)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn embedded(path: &str) -> Option<&'static [u8]> {
    assets::FILES
        .binary_search_by(|(name, _)| (*name).cmp(path))
        .ok()
        .map(|i| assets::FILES[i].1)
}

async fn from_dir(dir: &Path, path: &str) -> Option<Vec<u8>> {
    let full: PathBuf = dir.join(path);
    match tokio::fs::metadata(&full).await {
        Ok(m) if m.is_file() => tokio::fs::read(&full).await.ok(),
        _ => None,
    }
}

/// The fallback service of the HTTP router: console files for GET and HEAD outside `/api/`.
pub async fn serve(web_dir: Option<PathBuf>, req: Request) -> Response {
    let uri_path = req.uri().path();
    if uri_path == "/api" || uri_path.starts_with("/api/") {
        return ApiError::not_found("no such route").into_response();
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "the console only answers GET",
        )
        .into_response();
    }
    let Some(path) = relative(uri_path) else {
        return ApiError::not_found("no such file").into_response();
    };
    let path = if path.is_empty() {
        "index.html".to_string()
    } else {
        path
    };
    match &web_dir {
        Some(dir) => {
            if let Some(bytes) = from_dir(dir, &path).await {
                return file_response(&path, bytes);
            }
            if path.starts_with("assets/") {
                return ApiError::not_found("no such file").into_response();
            }
            match from_dir(dir, "index.html").await {
                Some(bytes) => file_response("index.html", bytes),
                None => {
                    ApiError::not_found(format!("http.web_dir {} has no index.html", dir.display()))
                        .into_response()
                }
            }
        }
        None => {
            if let Some(bytes) = embedded(&path) {
                return file_response(&path, bytes);
            }
            // A missing hashed asset is a stale page, not a route: say so instead of HTML.
            if path.starts_with("assets/") {
                return ApiError::not_found("no such file").into_response();
            }
            file_response("index.html", embedded("index.html").unwrap_or_default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_root() {
        assert_eq!(relative("/assets/a.js").as_deref(), Some("assets/a.js"));
        assert_eq!(
            relative("/gateways/gw%201").as_deref(),
            Some("gateways/gw 1")
        );
        assert_eq!(relative("/../etc/passwd"), None);
        assert_eq!(relative("/a/%2e%2e/%2e%2e/x"), None);
        assert_eq!(relative("/bad%zz"), None);
    }

    #[test]
    fn embedded_console_has_an_index() {
        assert!(
            embedded("index.html").is_some(),
            "origin: {}",
            embedded_origin()
        );
        assert!(
            assets::FILES.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted for binary search"
        );
    }
}
