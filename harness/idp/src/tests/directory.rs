//! Users, groups and PKCE enforcement changed at run time, through the admin API and in Rust.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;
use crate::{NewUser, Vendor};

/// The `groups` claims of a login's ID and access tokens.
async fn groups_after_login(emulator: &Emulator, username: &str) -> (Value, Value) {
    let tokens = Login::new(emulator).tokens(username).await;
    let id = decode(tokens["id_token"].as_str().unwrap()).1;
    let access = decode(tokens["access_token"].as_str().unwrap()).1;
    (id["groups"].clone(), access["groups"].clone())
}

/// The status and the `error` code of an admin call.
async fn call(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_user_and_a_group_added_over_http_reach_the_tokens() {
    let emulator = start().await;
    let admin = |path: &str| format!("{}/_ssoproof/{path}", emulator.base_url());
    let client = http();

    let (status, body) = call(
        client
            .post(admin("groups"))
            .json(&json!({"path": "/AI-Power-Users"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::CREATED, json!({"path": "/AI-Power-Users"}))
    );
    let (status, _) = call(
        client
            .post(admin("groups"))
            .json(&json!({"path": "/acme/AI-Power-Users"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, body) = call(client.post(admin("users")).json(&json!({
        "username": "Zoe",
        "password": "zoe-password",
        "email": "Zoe@Acme.Example",
        "email_verified": true,
        "first_name": "Zoe",
        "last_name": "Quinn",
        "groups": ["/AI-Power-Users", "/acme/admins"],
        "attributes": {"department": ["research"]},
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["username"], "zoe");
    assert_eq!(emulator.user_id("zoe").as_deref(), body["id"].as_str());

    let tokens = Login::new(&emulator).tokens("zoe").await;
    let id = decode(tokens["id_token"].as_str().unwrap()).1;
    assert_eq!(id["sub"], body["id"]);
    assert_eq!(id["email"], "zoe@acme.example");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["name"], "Zoe Quinn");
    assert_eq!(id["groups"], json!(["/AI-Power-Users", "/acme/admins"]));

    // Membership changes take effect at the next login, in both tokens.
    let member = |method: reqwest::Method, group: &str| {
        client
            .request(method, admin("users/ZOE/groups"))
            .json(&json!({ "group": group }))
    };
    let (status, _) = call(member(reqwest::Method::DELETE, "/acme/admins")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(member(reqwest::Method::POST, "/acme/AI-Power-Users")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Twice is the same as once; leaving a group one is not in changes nothing.
    let (status, _) = call(member(reqwest::Method::POST, "/acme/AI-Power-Users")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(member(reqwest::Method::DELETE, "/acme/engineers")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let expected = json!(["/AI-Power-Users", "/acme/AI-Power-Users"]);
    assert_eq!(
        groups_after_login(&emulator, "zoe").await,
        (expected.clone(), expected)
    );
}

#[tokio::test]
async fn every_refusal_of_the_users_and_groups_routes_has_its_code() {
    let emulator = start().await;
    let admin = |path: &str| format!("{}/_ssoproof/{path}", emulator.base_url());
    let client = http();
    let user = |body: Value| client.post(admin("users")).json(&body);
    let group = |body: Value| client.post(admin("groups")).json(&body);
    let member = |method: reqwest::Method, who: &str, body: Value| {
        client
            .request(method, admin(&format!("users/{who}/groups")))
            .json(&body)
    };
    let cases = [
        (
            user(json!({"username": "ALICE", "password": "x"})),
            StatusCode::CONFLICT,
            "idp/user-exists",
        ),
        (
            user(json!({"username": "zed", "password": "x", "email": "ALICE@example.com"})),
            StatusCode::CONFLICT,
            "idp/user-exists",
        ),
        (
            user(json!({"username": "zed", "password": "x", "groups": ["/nope"]})),
            StatusCode::NOT_FOUND,
            "idp/unknown-group",
        ),
        (
            user(json!({"username": " ", "password": "x"})),
            StatusCode::BAD_REQUEST,
            "idp/invalid-user",
        ),
        (
            user(json!({"username": "zed", "password": ""})),
            StatusCode::BAD_REQUEST,
            "idp/invalid-user",
        ),
        (
            user(json!({"username": "zed"})),
            StatusCode::BAD_REQUEST,
            "admin/invalid-body",
        ),
        (
            user(json!({"username": "zed", "password": "x", "groupz": []})),
            StatusCode::BAD_REQUEST,
            "admin/invalid-body",
        ),
        (
            group(json!({"path": "/acme/admins"})),
            StatusCode::CONFLICT,
            "idp/group-exists",
        ),
        (
            group(json!({"path": "/nope/child"})),
            StatusCode::NOT_FOUND,
            "idp/unknown-group",
        ),
        (
            group(json!({"path": "no-slash"})),
            StatusCode::BAD_REQUEST,
            "idp/invalid-group",
        ),
        (
            group(json!({"path": "/a//b"})),
            StatusCode::BAD_REQUEST,
            "idp/invalid-group",
        ),
        (
            group(json!({"path": "/"})),
            StatusCode::BAD_REQUEST,
            "idp/invalid-group",
        ),
        (
            group(json!({"name": "x"})),
            StatusCode::BAD_REQUEST,
            "admin/invalid-body",
        ),
        (
            member(
                reqwest::Method::POST,
                "nobody",
                json!({"group": "/acme/admins"}),
            ),
            StatusCode::NOT_FOUND,
            "idp/unknown-user",
        ),
        (
            member(reqwest::Method::POST, "alice", json!({"group": "/nope"})),
            StatusCode::NOT_FOUND,
            "idp/unknown-group",
        ),
        (
            member(
                reqwest::Method::DELETE,
                "nobody",
                json!({"group": "/acme/admins"}),
            ),
            StatusCode::NOT_FOUND,
            "idp/unknown-user",
        ),
        (
            member(reqwest::Method::DELETE, "alice", json!({"group": "/nope"})),
            StatusCode::NOT_FOUND,
            "idp/unknown-group",
        ),
        (
            member(reqwest::Method::DELETE, "alice", json!({})),
            StatusCode::BAD_REQUEST,
            "admin/invalid-body",
        ),
    ];
    for (request, status, code) in cases {
        let (got, body) = call(request).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    // Nothing was added by the refused requests; the refusal never echoes the password.
    assert_eq!(emulator.usernames().len(), 5);
    let (_, body) = call(user(
        json!({"username": "alice", "password": "hunter2-secret"}),
    ))
    .await;
    assert!(!body.to_string().contains("hunter2-secret"), "{body}");
}

#[tokio::test]
async fn a_persona_refuses_new_users_and_groups() {
    let emulator = Emulator::persona(Vendor::Okta).await.unwrap();
    let refused = emulator
        .add_user(&NewUser::new("zoe@example.com", "zoe-password"))
        .unwrap_err();
    assert_eq!(refused.code(), "idp/persona");
    assert!(
        refused
            .to_string()
            .contains("Okta persona's come from its file"),
        "{refused}"
    );
    assert_eq!(emulator.add_group("/x").unwrap_err().code(), "idp/persona");
    let admin = format!("{}/_ssoproof/users", emulator.base_url());
    let (status, body) = call(
        http()
            .post(admin)
            .json(&json!({"username": "zoe", "password": "zoe-password"})),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("idp/persona"))
    );
}

#[tokio::test]
async fn pkce_enforcement_follows_the_client_setting() {
    let emulator = start().await;
    let without_pkce = || {
        Login::new(&emulator)
            .without("code_challenge")
            .without("code_challenge_method")
    };
    let refused = without_pkce().authorize().await;
    assert_eq!(
        location_params(&refused)["error_description"],
        "Missing parameter: code_challenge_method"
    );

    // Optional: a login without PKCE goes through, and one with S256 still does.
    let url = format!("{}/_ssoproof/clients/acme-app/pkce", emulator.base_url());
    let (status, _) = call(http().put(&url).json(&json!({"method": null}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut login = without_pkce();
    login.verifier = None;
    let code = login.code("alice").await;
    assert_eq!(login.exchange(&code).await.status(), StatusCode::OK);
    Login::new(&emulator).tokens("alice").await;

    // Enforced again.
    emulator.set_client_pkce("acme-app", Some("S256")).unwrap();
    let refused = without_pkce().authorize().await;
    assert_eq!(
        location_params(&refused)["error_description"],
        "Missing parameter: code_challenge_method"
    );

    let cases = [
        (
            json!({"method": "plain"}),
            StatusCode::BAD_REQUEST,
            "idp/pkce-method",
        ),
        (
            json!({"method": "S512"}),
            StatusCode::BAD_REQUEST,
            "idp/pkce-method",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "admin/invalid-body"),
        (
            json!({"method": 256}),
            StatusCode::BAD_REQUEST,
            "admin/invalid-body",
        ),
    ];
    for (body, status, code) in cases {
        let (got, answer) = call(http().put(&url).json(&body)).await;
        assert_eq!(
            (got, answer["error"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
    }
    let (got, answer) = call(
        http()
            .put(format!(
                "{}/_ssoproof/clients/nope/pkce",
                emulator.base_url()
            ))
            .json(&json!({"method": "S256"})),
    )
    .await;
    assert_eq!(
        (got, answer["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("idp/unknown-client"))
    );
    let plain = emulator
        .set_client_pkce("acme-app", Some("plain"))
        .unwrap_err();
    assert!(
        plain
            .to_string()
            .contains("refuses `plain` on every client"),
        "{plain}"
    );
}

#[tokio::test]
async fn a_persona_client_pkce_setting_is_the_same_switch() {
    // Okta's app in the fixture requires PKCE; made optional, a request without it is served.
    let emulator = Emulator::persona(Vendor::Okta).await.unwrap();
    let client = "0oa1b2c3d4e5f6g7h8i9";
    let authorize = || {
        http()
            .get(format!(
                "{}/oauth2/default/v1/authorize",
                emulator.base_url()
            ))
            .query(&[
                ("client_id", client),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", "st"),
            ])
            .send()
    };
    let refused = authorize().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FOUND);
    assert_eq!(location_params(&refused)["error"], "invalid_request");
    emulator.set_client_pkce(client, None).unwrap();
    assert_eq!(authorize().await.unwrap().status(), StatusCode::OK);
    emulator.set_client_pkce(client, Some("S256")).unwrap();
    assert_eq!(authorize().await.unwrap().status(), StatusCode::FOUND);
}
