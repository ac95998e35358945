use super::harness::{Harness, assert_error};
use axum::http::Method;
use serde_json::json;

#[tokio::test]
async fn users_never_show_a_password_and_roles_are_checked() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    let r = h.post("/api/user", &admin, json!({"id": "ann", "username": "ann", "password": "short", "roles": ["root", "viewer"]})).await;
    assert_error(&r, 400, "invalid_resource");
    let paths: Vec<&str> = r.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["roles[0]", "password"]);
    let r = h.post("/api/user", &admin, json!({"id": "ann", "username": "ann", "password": "ann's long password", "roles": ["viewer"]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("password").is_none());
    for uri in ["/api/user", "/api/user/ann"] {
        let body = h.get(uri, &admin).await.raw;
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("argon2") && !text.contains("password"),
            "{uri}: {text}"
        );
    }
    let r = h
        .send(
            Method::POST,
            "/api/user/login",
            None,
            Some(json!({"username": "ann", "password": "ann's long password"})),
        )
        .await;
    let ann = r.body["token"].as_str().unwrap().to_string();
    assert_error(
        &h.post(
            "/api/gateway",
            &ann,
            json!({"id": "g", "provider": {"type": "echo"}}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_eq!(h.get("/api/gateway", &ann).await.status, 200);
    // A change of roles ends the user's sessions.
    let r = h
        .post(
            "/api/user",
            &admin,
            json!({"id": "ann", "username": "ann", "roles": ["operator"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_error(&h.get("/api/gateway", &ann).await, 401, "unauthorized");
    // The last admin stays an admin, and nobody deletes themselves.
    let r = h
        .post(
            "/api/user",
            &admin,
            json!({"id": "admin", "username": "admin", "roles": ["viewer"]}),
        )
        .await;
    assert_error(&r, 409, "last_admin");
    let r = h
        .send(
            Method::DELETE,
            "/api/user",
            Some(&admin),
            Some(json!(["admin"])),
        )
        .await;
    assert_error(&r, 409, "cannot_delete_self");
    let r = h
        .post(
            "/api/user",
            &admin,
            json!({"username": "ann", "password": "another long one"}),
        )
        .await;
    assert_error(&r, 409, "already_exists");
}

#[tokio::test]
async fn service_tokens_are_shown_once_stored_hashed_and_revocable() {
    let h = Harness::new().await;
    let op = h.login("op").await;
    let r = h
        .post(
            "/api/servicetoken",
            &op,
            json!({"name": "script", "neverExpire": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let raw = r.body["rawToken"].as_str().unwrap().to_string();
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(raw.starts_with(&format!("{id}_")));
    let stored = h
        .state
        .store
        .get::<switchyard_core::model::ServiceToken>(&id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.token.token.starts_with("sha256:") && !stored.token.token.contains(&raw));
    let listed = h.get("/api/servicetoken", &op).await;
    assert_eq!(listed.body["count"], 1);
    assert!(
        !String::from_utf8_lossy(&listed.raw).contains("sha256"),
        "{}",
        listed.body
    );
    // Used directly, with the owner's roles.
    let me = h.get("/api/user/profile", &raw).await;
    assert_eq!(me.body["username"], "op");
    assert_eq!(
        h.post("/api/task", &raw, json!({"id": "t"})).await.status,
        200
    );
    assert_error(
        &h.post(
            "/api/gateway",
            &raw,
            json!({"id": "g", "provider": {"type": "x"}}),
        )
        .await,
        403,
        "forbidden",
    );
    // Exchanged for a session at login.
    let r = h
        .send(
            Method::POST,
            "/api/user/login",
            None,
            Some(json!({"token": raw})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["username"], "op");
    let exchanged = r.body["token"].as_str().unwrap().to_string();
    assert_eq!(
        h.get("/api/user/profile", &exchanged).await.body["serviceTokenId"],
        id.as_str()
    );
    // Another user neither sees nor revokes it.
    let view = h.login("view").await;
    assert_eq!(h.get("/api/servicetoken", &view).await.body["count"], 0);
    assert_error(
        &h.get(&format!("/api/servicetoken/{id}"), &view).await,
        404,
        "not_found",
    );
    let r = h
        .send(
            Method::DELETE,
            "/api/servicetoken",
            Some(&op),
            Some(json!([id])),
        )
        .await;
    assert_eq!(r.body["deleted"], 1);
    assert_error(&h.get("/api/user/profile", &raw).await, 401, "unauthorized");
    assert_error(
        &h.get("/api/user/profile", &exchanged).await,
        401,
        "unauthorized",
    );
    let r = h
        .post(
            "/api/servicetoken",
            &op,
            json!({"name": "x", "expiresOn": "2001-01-01T00:00:00Z"}),
        )
        .await;
    assert_error(&r, 400, "invalid_resource");
    assert_eq!(r.body["details"][0]["path"], "expiresOn");
}

#[tokio::test]
async fn settings_are_read_by_viewers_and_changed_by_admins() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    let view = h.login("view").await;
    let r = h.get("/api/settings", &view).await;
    assert_eq!(r.body["spec"]["nodeStateJob"]["inactiveDuration"], "15m");
    let r = h.post("/api/settings", &admin, json!({"id": "system_settings", "spec": {"unitSystem": "furlongs", "nodeStateJob": {"executionInterval": "x", "inactiveDuration": "1h"}}})).await;
    assert_error(&r, 400, "invalid_resource");
    let paths: Vec<&str> = r.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["spec.unitSystem", "spec.nodeStateJob.executionInterval"]
    );
    let r = h.post("/api/settings", &admin, json!({"id": "system_settings", "spec": {"unitSystem": "imperial", "login": {"message": "Welcome home"}, "geoLocation": {"latitude": 51.5, "longitude": -0.1}}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        h.get("/api/settings", &view).await.body["spec"]["unitSystem"],
        "imperial"
    );
    let status = h.send(Method::GET, "/api/status", None, None).await;
    assert_eq!(status.body["loginMessage"], "Welcome home");
}

#[tokio::test]
async fn an_imported_bcrypt_password_logs_in_once_and_becomes_argon2() {
    use switchyard_core::model::User;
    let h = Harness::new().await;
    // MyController's hashes: Openwall's `$2a$` test vector, and a `$2y$` one.
    let two_y = bcrypt::hash_with_result("mc's password", 4)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoY);
    for (id, hash, password) in [
        (
            "mc_a",
            "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW".to_string(),
            "U*U",
        ),
        ("mc_y", two_y, "mc's password"),
    ] {
        let mut user = User {
            id: id.into(),
            username: id.into(),
            password: hash.clone(),
            roles: vec!["viewer".into()],
            ..Default::default()
        };
        user.labels
            .insert("password_reset_required".into(), "true".into());
        h.state.store.insert(&user).await.unwrap();
        let login = |password: &str| {
            h.send(
                Method::POST,
                "/api/user/login",
                None,
                Some(json!({"username": id, "password": password})),
            )
        };
        assert_error(&login("wrong").await, 401, "unauthorized");
        let stored: User = h.state.store.get(id).await.unwrap().unwrap();
        assert_eq!(stored.password, hash, "a failed login changes nothing");

        let r = login(password).await;
        assert_eq!(r.status, 200, "{id}: {}", r.body);
        assert!(r.body["token"].as_str().is_some_and(|t| !t.is_empty()));
        let stored: User = h.state.store.get(id).await.unwrap().unwrap();
        assert!(
            stored.password.starts_with("$argon2id$"),
            "{id}: rehashed, got {}",
            stored.password
        );
        assert!(!stored.labels.contains_key("password_reset_required"));

        // The new hash takes the same password, and only that one.
        assert_eq!(login(password).await.status, 200);
        assert_error(&login("wrong").await, 401, "unauthorized");
    }
}
