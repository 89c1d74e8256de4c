//! Keycloak's admin REST API, with a token from the `master` realm's `admin-cli` password grant.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::Mutex;

use super::failed;
use super::http::{excerpt, transport};
use crate::backend::BackendError;
use ssoproof_secret::{redact_all, Secret};

/// The bootstrap admin the container is started with.
pub(super) const ADMIN_USER: &str = "admin";

#[derive(Debug)]
pub(super) struct AdminApi {
    http: reqwest::Client,
    /// `http://host:port`, without a trailing slash.
    pub(super) base: String,
    password: Secret,
    token: Mutex<Option<AdminToken>>,
}

#[derive(Debug)]
struct AdminToken {
    value: Secret,
    renew_at: Instant,
}

pub(super) const TOKEN_PATH: &str = "/realms/master/protocol/openid-connect/token";

impl AdminApi {
    pub(super) fn new(http: reqwest::Client, base: String, password: Secret) -> AdminApi {
        AdminApi {
            http,
            base,
            password,
            token: Mutex::new(None),
        }
    }

    pub(super) fn failed(&self, what: &str, message: impl std::fmt::Display) -> BackendError {
        failed(redact_all(&format!("{what}: {message}"), &[&self.password]))
    }

    /// The master realm's admin token, renewed well before it expires (Keycloak's default
    /// lifetime for it is 60 s).
    async fn token(&self) -> Result<Secret, BackendError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let what = format!("POST {TOKEN_PATH}");
        let form = [
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", ADMIN_USER),
            ("password", self.password.expose()),
        ];
        let response = self
            .http
            .post(format!("{}{TOKEN_PATH}", self.base))
            .form(&form)
            .send()
            .await
            .map_err(|e| self.failed(&what, transport(e)))?;
        let (status, _, body) = self.read(&what, response, &[]).await?;
        if !status.is_success() {
            return Err(self.failed(&what, format!("{status}: {}", excerpt(&body))));
        }
        let json: Value = serde_json::from_str(&body)
            .map_err(|e| self.failed(&what, format!("not JSON: {e}")))?;
        let value = json["access_token"]
            .as_str()
            .map(Secret::from)
            .ok_or_else(|| self.failed(&what, "no access_token in the answer"))?;
        let lifetime = json["expires_in"].as_u64().unwrap_or(60);
        let renew_in = Duration::from_secs(lifetime.saturating_sub(15).max(lifetime / 2));
        *cached = Some(AdminToken {
            value: value.clone(),
            renew_at: Instant::now() + renew_in,
        });
        Ok(value)
    }

    async fn read(
        &self,
        what: &str,
        response: reqwest::Response,
        secrets: &[&Secret],
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, String), BackendError> {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .text()
            .await
            .map_err(|e| self.failed(what, transport(e)))?;
        let mut all = vec![&self.password];
        all.extend_from_slice(secrets);
        Ok((status, headers, redact_all(&body, &all)))
    }

    /// One admin call. A 401 (token revoked or expired early) renews the token once.
    /// Anything but 2xx is a `Failed` naming the request, the status and the answer.
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(reqwest::header::HeaderMap, String), BackendError> {
        let what = describe(&method, path, query);
        let mut retried = false;
        loop {
            let token = self.token().await?;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(token.expose());
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|e| self.failed(&what, transport(e)))?;
            let (status, headers, text) = self.read(&what, response, &[&token]).await?;
            if status == StatusCode::UNAUTHORIZED && !retried {
                retried = true;
                self.token.lock().await.take();
                continue;
            }
            if !status.is_success() {
                return Err(self.failed(&what, format!("{status}: {}", excerpt(&text))));
            }
            return Ok((headers, text));
        }
    }

    pub(super) async fn get_json(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Value, BackendError> {
        let (_, text) = self.call(Method::GET, path, query, None).await?;
        serde_json::from_str(&text).map_err(|e| {
            self.failed(
                &describe(&Method::GET, path, query),
                format!("not JSON: {e}"),
            )
        })
    }
}

fn describe(method: &Method, path: &str, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        format!("{method} {path}")
    } else {
        let q = query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        format!("{method} {path}?{q}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::http::http_client;
    use super::super::testkit::{closed_address, fake_admin, test_realm, ADMIN_PASSWORD};
    use super::*;

    #[tokio::test]
    async fn failures_name_the_request_and_the_answer_but_no_secret() {
        let (admin, state, _seen, _fixture, _dir) = fake_admin().await;
        let realm = test_realm();
        let create = || admin.call(Method::POST, "/admin/realms", &[], Some(&realm));
        create().await.unwrap();
        let error = create().await.unwrap_err();
        let message = error.to_string();
        assert_eq!(error.code(), "backend/failed");
        assert!(
            message.starts_with("keycloak: POST /admin/realms: 409 Conflict: "),
            "{message}"
        );
        assert!(
            message.contains("Conflict detected ([redacted], Bearer [redacted])"),
            "{message}"
        );
        assert!(
            !message.contains(ADMIN_PASSWORD) && !message.contains("tok-"),
            "{message}"
        );
        assert!(!format!("{admin:?}").contains(ADMIN_PASSWORD));

        // A token refused early is renewed once, then the call goes through.
        state.lock().unwrap().reject_next = true;
        admin.get_json("/admin/realms/acme", &[]).await.unwrap();
        assert_eq!(state.lock().unwrap().tokens, 2);

        let wrong = AdminApi::new(
            http_client().unwrap(),
            admin.base.clone(),
            Secret::new("wrong"),
        );
        let message = wrong
            .get_json("/admin/realms", &[])
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            format!(
                "keycloak: POST {TOKEN_PATH}: 401 Unauthorized: {{\"error\":\"invalid_grant\"}}"
            )
        );

        let closed = closed_address().await;
        let gone = AdminApi::new(
            http_client().unwrap(),
            format!("http://{closed}"),
            Secret::new("x"),
        );
        let message = gone
            .get_json("/admin/realms", &[])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with(&format!("keycloak: POST {TOKEN_PATH}: ")),
            "{message}"
        );
        assert!(message.to_lowercase().contains("refused"), "{message}");
    }
}
