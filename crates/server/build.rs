//! Embeds the web console (`web/`) into the binary.
//!
//! Where the files come from, first match wins:
//! 1. `SWITCHYARD_WEB_DIST=<dir>`: a console built elsewhere.
//! 2. `npm` on PATH (and `SWITCHYARD_SKIP_WEB_BUILD` unset): `npm ci` when `web/node_modules` is
//!    missing or older than `web/package-lock.json`, then `vite build` into this build's OUT_DIR.
//! 3. `web/dist/` from an earlier `npm run build`.
//! 4. A one-page placeholder that says how to get the console, so the server still builds and
//!    runs with nothing but the Rust toolchain.
//!
//! A failing console build never fails the Rust build: it warns and falls through.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let web = manifest.join("../../web");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    for p in [
        "src",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "dist/index.html",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(p).display());
    }
    println!("cargo:rerun-if-env-changed=SWITCHYARD_WEB_DIST");
    println!("cargo:rerun-if-env-changed=SWITCHYARD_SKIP_WEB_BUILD");

    let (dir, origin) = if let Ok(d) = env::var("SWITCHYARD_WEB_DIST") {
        (Some(PathBuf::from(d)), "SWITCHYARD_WEB_DIST")
    } else if let Some(d) = build_with_npm(&web, &out.join("web")) {
        (Some(d), "built with npm")
    } else if web.join("dist/index.html").is_file() {
        (Some(web.join("dist")), "web/dist")
    } else {
        (None, "placeholder")
    };

    let mut files = Vec::new();
    if let Some(dir) = &dir {
        collect(dir, dir, &mut files);
    }
    if !files.iter().any(|(name, _)| name == "index.html") {
        let page = out.join("placeholder.html");
        fs::write(&page, PLACEHOLDER).unwrap();
        files = vec![("index.html".to_string(), page)];
    }
    files.sort();
    let mut code = format!(
        "/// Where the embedded console came from.\npub const ORIGIN: &str = {origin:?};\n"
    );
    code.push_str("/// `(path, bytes)` of every console file, sorted by path.\npub static FILES: &[(&str, &[u8])] = &[\n");
    for (name, path) in &files {
        code.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
    fs::write(out.join("web_assets.rs"), code).unwrap();
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let name = rel.to_string_lossy().replace('\\', "/");
            out.push((name, fs::canonicalize(&path).unwrap_or(path)));
        }
    }
}

fn npm() -> Command {
    let mut c = Command::new("npm");
    c.env("NO_UPDATE_NOTIFIER", "1")
        .env("npm_config_fund", "false")
        .env("npm_config_audit", "false");
    c
}

fn build_with_npm(web: &Path, dest: &Path) -> Option<PathBuf> {
    if env::var_os("SWITCHYARD_SKIP_WEB_BUILD").is_some() || !web.join("package.json").is_file() {
        return None;
    }
    if npm()
        .arg("--version")
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        return None;
    }
    // Several cargo runs (check, clippy, test, other clones' builds) may get here at once and
    // share web/node_modules: one at a time.
    let lock = fs::File::create(web.join(".build.lock")).ok()?;
    lock.lock().ok()?;
    // `npm ci` again only when the lock file's content differs from what was installed.
    let wanted = fs::read(web.join("package-lock.json")).unwrap_or_default();
    let stamp = web.join("node_modules/.switchyard-installed");
    let vite = web.join("node_modules/vite/bin/vite.js");
    if fs::read(&stamp).ok().as_deref() != Some(&wanted[..]) || !vite.is_file() {
        let ok = npm()
            .arg("ci")
            .current_dir(web)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            println!(
                "cargo:warning=web console: `npm ci` failed; embedding web/dist or a placeholder"
            );
            return None;
        }
        let _ = fs::write(&stamp, &wanted);
    }
    let built = Command::new("node")
        .arg(vite)
        .args(["build", "--emptyOutDir", "--logLevel", "warn", "--outDir"])
        .arg(dest)
        .current_dir(web)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if built && dest.join("index.html").is_file() {
        Some(dest.to_path_buf())
    } else {
        println!(
            "cargo:warning=web console: `vite build` failed; embedding web/dist or a placeholder"
        );
        None
    }
}

const PLACEHOLDER: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Switchyard</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}code{background:#eee;padding:0 .3em}</style>
</head><body>
<h1>Switchyard</h1>
<p>The server is running and its API answers under <a href="/api/status"><code>/api/status</code></a>,
but this binary was built without the web console: Node.js (<code>npm</code>) was not found when it was compiled.</p>
<p>Install Node.js 20 or newer and build again (<code>cargo build</code> then builds the console too), or build it
yourself with <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> and serve it with the setting
<code>http.web_dir: web/dist</code>.</p>
</body></html>
"#;
