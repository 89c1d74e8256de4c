//! Malformed requests, many of them, seeded: no endpoint may answer 5xx or drop the connection.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

const PATHS: &[&str] = &[
    "/realms/acme/.well-known/openid-configuration",
    "/realms/acme/protocol/openid-connect/certs",
    "/realms/acme/protocol/openid-connect/auth",
    "/realms/acme/login-actions/authenticate",
    "/realms/acme/login-actions/consent",
    "/realms/acme/protocol/openid-connect/token",
    "/realms/acme/protocol/openid-connect/userinfo",
    "/realms/acme/protocol/openid-connect/logout",
    "/realms/other/protocol/openid-connect/token",
    "/_ssoproof/state",
    "/_ssoproof/faults",
    "/_ssoproof/keys/rotate",
    "/_ssoproof/users/alice/enabled",
    "/_ssoproof/users/%FF%FE/enabled",
    "/_ssoproof/clients/acme-app/group-mapper/full-path",
    "/_ssoproof/clients/acme-app/mappers/%2e%2e",
    "/",
    "/realms/acme/../../etc/passwd",
];

const NAMES: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "prompt",
    "session_code",
    "execution",
    "tab_id",
    "username",
    "password",
    "grant_type",
    "code",
    "code_verifier",
    "refresh_token",
    "client_secret",
    "access_token",
    "id_token_hint",
    "post_logout_redirect_uri",
    "accept",
    "cancel",
    "enabled",
    "fault",
];

const VALUES: &[&str] = &[
    "acme-app",
    "acme-spa",
    "acme-consent",
    REDIRECT,
    "http://127.0.0.1/spa/x",
    "code",
    "token",
    "openid",
    "openid profile email",
    "S256",
    "plain",
    "authorization_code",
    "refresh_token",
    "password",
    "alice",
    "alice-password",
    "acme-app-secret",
    "none",
    "form_post",
    "fragment",
    "",
    "%",
    "%zz",
    "%FF",
    "\u{0}",
    "\r\n",
    "é",
    "🦀",
    "{\"fault\": \"jwks_down\"}",
    "eyJhbGciOiJub25lIn0.e30.",
    "a.b.c",
    "http://127.0.0.1/callback\r\nX: y",
];

fn random_text(rng: &mut StdRng) -> String {
    match rng.gen_range(0..4) {
        0 => VALUES[rng.gen_range(0..VALUES.len())].to_string(),
        1 => (0..rng.gen_range(0..40))
            .map(|_| rng.gen_range(' '..='~'))
            .collect(),
        2 => (0..rng.gen_range(0..20))
            .map(|_| char::from_u32(rng.gen_range(0..0x2FFFF)).unwrap_or('x'))
            .collect(),
        _ => "A".repeat(rng.gen_range(0..5000)),
    }
}

fn random_params(rng: &mut StdRng) -> Vec<(String, String)> {
    (0..rng.gen_range(0..10))
        .map(|_| {
            let name = if rng.gen_bool(0.9) {
                NAMES[rng.gen_range(0..NAMES.len())].to_string()
            } else {
                random_text(rng)
            };
            (name, random_text(rng))
        })
        .collect()
}

fn random_authorization(rng: &mut StdRng) -> Option<HeaderValue> {
    let value = match rng.gen_range(0..7) {
        0 => return None,
        1 => "Basic !!!".to_string(),
        2 => format!(
            "Basic {}",
            STANDARD.encode(
                (0..rng.gen_range(0..30))
                    .map(|_| rng.gen::<u8>())
                    .collect::<Vec<_>>()
            )
        ),
        3 => format!("Basic {}", STANDARD.encode("acme-app:acme-app-secret")),
        4 => format!("Bearer {}", random_text(rng)),
        5 => "Bearer".to_string(),
        _ => return HeaderValue::from_bytes(&[b'B', 0xFF, 0xFE, b' ', 0x80]).ok(),
    };
    HeaderValue::from_str(&value).ok()
}

#[tokio::test]
async fn malformed_requests_never_fail_the_server() {
    let emulator = start().await;
    let client = http();
    let mut rng = StdRng::seed_from_u64(20261123);
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
    ];
    for round in 0..600 {
        let path = PATHS[rng.gen_range(0..PATHS.len())];
        let method = methods[rng.gen_range(0..methods.len())].clone();
        let mut request = client
            .request(method.clone(), format!("{}{path}", emulator.base_url()))
            .timeout(Duration::from_secs(10))
            .query(&random_params(&mut rng));
        if let Some(value) = random_authorization(&mut rng) {
            request = request.header(AUTHORIZATION, value);
        }
        request = match rng.gen_range(0..4) {
            0 => request.form(&random_params(&mut rng)),
            1 => request
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(
                    (0..rng.gen_range(0..300))
                        .map(|_| rng.gen::<u8>())
                        .collect::<Vec<u8>>(),
                ),
            2 => request
                .header(CONTENT_TYPE, "application/json")
                .body(random_text(&mut rng)),
            _ => request,
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}: {method} {path}: {e}"));
        assert!(
            !response.status().is_server_error(),
            "round {round}: {method} {path} answered {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn raw_garbage_over_tcp_is_answered() {
    let emulator = start().await;
    let address = url::Url::parse(&emulator.base_url()).unwrap();
    let address = format!(
        "{}:{}",
        address.host_str().unwrap(),
        address.port().unwrap()
    );
    let mut rng = StdRng::seed_from_u64(7);
    for round in 0..150 {
        let mut path = PATHS[rng.gen_range(0..PATHS.len())].as_bytes().to_vec();
        path.push(b'?');
        path.extend((0..rng.gen_range(0..60)).map(|_| rng.gen_range(0x21u8..=0xFF)));
        let body: Vec<u8> = (0..rng.gen_range(0..200)).map(|_| rng.gen()).collect();
        let mut request = Vec::new();
        request.extend_from_slice(if rng.gen_bool(0.5) { b"POST " } else { b"GET " });
        request.extend_from_slice(&path);
        request.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        request.extend_from_slice(b"Content-Type: application/x-www-form-urlencoded\r\n");
        request.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        request.extend_from_slice(&body);
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream.write_all(&request).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
            .await
            .unwrap_or_else(|_| panic!("round {round}: no answer"))
            .unwrap();
        let status_line = String::from_utf8_lossy(&answer[..answer.len().min(12)]).to_string();
        assert!(
            status_line.starts_with("HTTP/1.1 "),
            "round {round}: {status_line:?}"
        );
        assert!(
            !status_line.starts_with("HTTP/1.1 5"),
            "round {round}: {status_line}"
        );
    }
}
