use std::process::Command;

#[test]
fn config_default_prints_the_documented_config() {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["config", "default"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("# Switchyard configuration"));
    let yaml: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    assert_eq!(yaml["http"]["address"].as_str(), Some("0.0.0.0:8080"));
    assert_eq!(yaml["storage"]["type"].as_str(), Some("embedded"));
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "storage:\n  type: floppy\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--config"])
        .arg(&path)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid configuration") && err.contains("floppy"),
        "{err}"
    );
}

#[test]
fn environment_overrides_show_in_config_show() {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["config", "show"])
        .env("SWITCHYARD__PROCESSOR__WORKERS", "5")
        .env("SWITCHYARD_HTTP", "127.0.0.1:9999")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml: serde_norway::Value = serde_norway::from_slice(&out.stdout).unwrap();
    assert_eq!(yaml["processor"]["workers"].as_u64(), Some(5));
    assert_eq!(yaml["http"]["address"].as_str(), Some("127.0.0.1:9999"));
}
