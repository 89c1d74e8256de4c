//! What the tests share: the realm fixture, a timeout guard, and a fake Keycloak admin API.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::admin::{AdminApi, TOKEN_PATH};
use super::http::http_client;
use ssoproof_secret::Secret;

/// A plain timeout guard: detection must never hang a run.
const GUARD: Duration = Duration::from_secs(3);

/// A realm export shaped like the fixture: realm `acme`, confidential `acme-app` with a
/// `groups` mapper, alice and bob with passwords and group paths.
const TEST_REALM: &str = r#"{
  "id": "acme",
  "realm": "acme",
  "enabled": true,
  "sslRequired": "none",
  "groups": [
    {"id": "7d0b3c52-0000-4000-8000-000000000001", "name": "engineers", "path": "/engineers",
     "subGroups": [{"id": "7d0b3c52-0000-4000-8000-000000000002", "name": "oncall",
                    "path": "/engineers/oncall"}]},
    {"id": "7d0b3c52-0000-4000-8000-000000000003", "name": "finance", "path": "/finance"}
  ],
  "roles": {"realm": [{"id": "7d0b3c52-0000-4000-8000-000000000009", "name": "auditor", "containerId": "acme"}]},
  "users": [
    {"id": "11111111-1111-4111-8111-111111111111", "username": "alice", "enabled": true,
     "email": "alice@acme.test", "emailVerified": true, "firstName": "Alice", "lastName": "Admin",
     "credentials": [{"type": "password", "value": "alice-password", "temporary": false}],
     "groups": ["/engineers", "/engineers/oncall"]},
    {"id": "22222222-2222-4222-8222-222222222222", "username": "bob", "enabled": true,
     "email": "bob@acme.test", "emailVerified": true, "firstName": "Bob", "lastName": "Builder",
     "credentials": [{"type": "password", "value": "bob-password", "temporary": false}],
     "groups": ["/finance"]}
  ],
  "clients": [
    {"id": "33333333-3333-4333-8333-333333333333", "clientId": "acme-app", "enabled": true,
     "publicClient": false, "secret": "acme-app-secret",
     "redirectUris": ["http://127.0.0.1/*"], "standardFlowEnabled": true,
     "directAccessGrantsEnabled": true,
     "attributes": {"pkce.code.challenge.method": "S256"},
     "protocolMappers": [
       {"id": "44444444-4444-4444-8444-444444444444", "name": "groups", "protocol": "openid-connect",
        "protocolMapper": "oidc-group-membership-mapper", "consentRequired": false,
        "config": {"claim.name": "groups", "full.path": "true", "id.token.claim": "true",
                   "access.token.claim": "true", "userinfo.token.claim": "true"}}
     ]}
  ]
}"#;

pub(super) fn test_realm() -> Value {
    serde_json::from_str(TEST_REALM).unwrap()
}

pub(super) fn write_fixture(dir: &Path) -> PathBuf {
    let path = dir.join("keycloak-realm.json");
    std::fs::write(&path, TEST_REALM).unwrap();
    path
}

pub(super) async fn guarded<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, future)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {GUARD:?}"))
}

/// An address nothing listens on.
pub(super) async fn closed_address() -> SocketAddr {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
}

#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) auth: Option<String>,
    pub(super) body: String,
}

pub(super) type Answer = (u16, Vec<(String, String)>, String);

/// A one-request-per-connection HTTP server; `handler` answers, every request is recorded.
pub(super) async fn serve(
    handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static,
) -> (String, Arc<StdMutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(StdMutex::new(Vec::new()));
    let log = seen.clone();
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (log, handler) = (log.clone(), handler.clone());
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => data.extend_from_slice(&chunk[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&data[..head_end]).to_string();
                let header = |name: &str| {
                    head.lines().find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                    })
                };
                let length: usize = header("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                while data.len() < head_end + length {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => data.extend_from_slice(&chunk[..n]),
                    }
                }
                let mut request_line = head.lines().next().unwrap_or_default().split_whitespace();
                let seen = Seen {
                    method: request_line.next().unwrap_or_default().to_string(),
                    target: request_line.next().unwrap_or_default().to_string(),
                    auth: header("authorization"),
                    body: String::from_utf8_lossy(&data[head_end..head_end + length]).to_string(),
                };
                let (status, headers, body) = handler(&seen);
                log.lock().unwrap().push(seen);
                let mut response = format!(
                    "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    response.push_str(&format!("{k}: {v}\r\n"));
                }
                response.push_str("\r\n");
                response.push_str(&body);
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (base, seen)
}

/// Just enough of Keycloak's admin API for the operations above.
#[derive(Default)]
pub(super) struct FakeKeycloak {
    pub(super) realms: HashMap<String, Value>,
    pub(super) tokens: usize,
    /// Answer the next admin call with 401, as for a token that expired early.
    pub(super) reject_next: bool,
    keys: Vec<Value>,
    active: String,
}

pub(super) const ADMIN_PASSWORD: &str = "pw-very-secret";

fn fake_keycloak(
    state: Arc<StdMutex<FakeKeycloak>>,
) -> impl Fn(&Seen) -> Answer + Send + Sync + 'static {
    move |req: &Seen| {
        let mut kc = state.lock().unwrap();
        let ok = |body: Value| (200, vec![], body.to_string());
        if req.target == TOKEN_PATH {
            let expected = format!("password={ADMIN_PASSWORD}");
            if req.method == "POST"
                && req.body.contains("grant_type=password")
                && req.body.contains("client_id=admin-cli")
                && req.body.contains("username=admin")
                && req.body.contains(&expected)
            {
                kc.tokens += 1;
                return ok(json!({"access_token": format!("tok-{}", kc.tokens), "expires_in": 60}));
            }
            return (401, vec![], r#"{"error":"invalid_grant"}"#.into());
        }
        let current = format!("Bearer tok-{}", kc.tokens);
        if kc.reject_next || req.auth.as_deref() != Some(current.as_str()) {
            kc.reject_next = false;
            return (401, vec![], String::new());
        }
        let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (req.method.as_str(), segments.as_slice()) {
            ("POST", ["admin", "realms"]) => {
                let rep: Value = serde_json::from_str(&req.body).unwrap();
                let name = rep["realm"].as_str().unwrap().to_string();
                if kc.realms.contains_key(&name) {
                    // Keycloak does not echo secrets; this fake does, to test redaction.
                    let message = format!("Conflict detected ({ADMIN_PASSWORD}, {current})");
                    let body = json!({ "errorMessage": message }).to_string();
                    return (409, vec![], body);
                }
                kc.realms.insert(name, rep);
                kc.keys = vec![
                    json!({"kid": "k0", "algorithm": "RS256", "providerId": "c0", "providerPriority": 100}),
                ];
                kc.active = "k0".into();
                (201, vec![], String::new())
            }
            ("GET", ["admin", "realms", realm]) => {
                ok(json!({"id": kc.realms[*realm]["id"], "realm": realm}))
            }
            ("GET", ["admin", "realms", realm, "users"]) => {
                assert!(query.contains("exact=true"), "{query}");
                let users = kc.realms[*realm]["users"].as_array().unwrap();
                let found: Vec<&Value> = users
                    .iter()
                    .filter(|u| {
                        query.contains(&format!("username={}", u["username"].as_str().unwrap()))
                    })
                    .collect();
                ok(json!(found))
            }
            ("GET", ["admin", "realms", realm, "users", id]) => {
                let users = kc.realms[*realm]["users"].as_array().unwrap();
                ok(users.iter().find(|u| u["id"] == *id).unwrap().clone())
            }
            ("PUT", ["admin", "realms", realm, "users", id]) => {
                let rep: Value = serde_json::from_str(&req.body).unwrap();
                let users = kc.realms.get_mut(*realm).unwrap()["users"]
                    .as_array_mut()
                    .unwrap();
                *users.iter_mut().find(|u| u["id"] == *id).unwrap() = rep;
                (204, vec![], String::new())
            }
            ("GET", ["admin", "realms", _, "keys"]) => {
                ok(json!({"active": {"RS256": kc.active, "HS512": "hmac"}, "keys": kc.keys}))
            }
            ("POST", ["admin", "realms", realm, "components"]) => {
                let rep: Value = serde_json::from_str(&req.body).unwrap();
                assert_eq!(rep["parentId"], kc.realms[*realm]["id"]);
                let priority: i64 = rep["config"]["priority"][0]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let n = kc.keys.len();
                let (kid, component) = (format!("k{n}"), format!("c{n}"));
                let highest = kc
                    .keys
                    .iter()
                    .map(|k| k["providerPriority"].as_i64().unwrap())
                    .max()
                    .unwrap();
                if priority > highest {
                    kc.active = kid.clone();
                }
                kc.keys.push(json!({"kid": kid, "algorithm": "RS256",
                                    "providerId": component, "providerPriority": priority}));
                let location = format!("http://kc/admin/realms/{realm}/components/{component}");
                (201, vec![("Location".into(), location)], String::new())
            }
            ("GET", ["admin", "realms", realm, "clients"]) => {
                let clients = kc.realms[*realm]["clients"].as_array().unwrap();
                let found: Vec<&Value> = clients
                    .iter()
                    .filter(|c| query == format!("clientId={}", c["clientId"].as_str().unwrap()))
                    .collect();
                ok(json!(found))
            }
            (
                "GET",
                ["admin", "realms", realm, "clients", client, "protocol-mappers", "models"],
            ) => {
                let clients = kc.realms[*realm]["clients"].as_array().unwrap();
                ok(clients.iter().find(|c| c["id"] == *client).unwrap()["protocolMappers"].clone())
            }
            (
                method @ ("PUT" | "DELETE"),
                ["admin", "realms", realm, "clients", client, "protocol-mappers", "models", id],
            ) => {
                let clients = kc.realms.get_mut(*realm).unwrap()["clients"]
                    .as_array_mut()
                    .unwrap();
                let client = clients.iter_mut().find(|c| c["id"] == *client).unwrap();
                let mappers = client["protocolMappers"].as_array_mut().unwrap();
                let i = mappers.iter().position(|m| m["id"] == *id).unwrap();
                if method == "PUT" {
                    mappers[i] = serde_json::from_str(&req.body).unwrap();
                } else {
                    mappers.remove(i);
                }
                (204, vec![], String::new())
            }
            _ => (
                404,
                vec![],
                format!(
                    "{{\"error\":\"no fake for {} {}\"}}",
                    req.method, req.target
                ),
            ),
        }
    }
}

pub(super) async fn fake_admin() -> (
    Arc<AdminApi>,
    Arc<StdMutex<FakeKeycloak>>,
    Arc<StdMutex<Vec<Seen>>>,
    PathBuf,
    tempfile::TempDir,
) {
    let state = Arc::new(StdMutex::new(FakeKeycloak::default()));
    let (base, seen) = serve(fake_keycloak(state.clone())).await;
    let admin = Arc::new(AdminApi::new(
        http_client().unwrap(),
        base,
        Secret::new(ADMIN_PASSWORD),
    ));
    let dir = tempfile::tempdir().unwrap();
    let fixture = write_fixture(dir.path());
    (admin, state, seen, fixture, dir)
}
