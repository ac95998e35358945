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

/// A MyController user imported from a backup logs in with the MyController password; the
/// login leaves an argon2 hash in storage, and a wrong password is refused.
#[tokio::test]
async fn an_imported_mycontroller_user_logs_in_with_the_old_password() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let zip_path = dir.path().join("mc_backup_yaml_20260101_101010.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("backup.yaml", opts).unwrap();
        zip.write_all(b"filename: mc_backup_yaml_20260101_101010.zip\nstorage_export_type: yaml\nversion:\n  version: 2.1.0\n").unwrap();
        // Openwall's crypt_blowfish test vector: the password `U*U`.
        zip.start_file("storage/user__1.yaml", opts).unwrap();
        zip.write_all(b"- id: u1\n  username: ann\n  email: ann@example.org\n  password: $2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW\n").unwrap();
        zip.finish().unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["storage", "import-mycontroller"])
        .arg(&zip_path)
        .arg("--data-dir")
        .arg(&data)
        .env_remove("SWITCHYARD_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let server = crate::server::Server::start(&data, &[], &[]).await;
    let login = |password: &'static str| {
        server
            .client
            .post(server.url("/api/user/login"))
            .json(&serde_json::json!({"username": "ann", "password": password}))
            .send()
    };
    assert_eq!(login("U*V").await.unwrap().status(), 401);
    assert_eq!(login("U*U").await.unwrap().status(), 200);
    assert_eq!(
        login("U*U").await.unwrap().status(),
        200,
        "again, now argon2"
    );
    assert!(server.terminate().await.success());

    let storage = switchyard_storage::open(&Default::default(), &data)
        .await
        .unwrap();
    let user = storage
        .get(switchyard_core::EntityKind::User, "u1")
        .await
        .unwrap()
        .unwrap();
    let hash = user["password"].as_str().unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(
        user["labels"].get("password_reset_required").is_none(),
        "{user}"
    );
    storage.close().await.unwrap();
}
