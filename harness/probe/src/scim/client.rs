//! The probe's SCIM client: one request at a time, each answer read up to a size cap and parsed
//! as JSON, every failure naming the request (`PATCH /scim/v2/Users/…`).
//!
//! The first request the server does not answer at all (a timeout, a refused connection) stops
//! the run: every later request fails at once, naming that first one, so a hanging server
//! costs one timeout, not one per case.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;
use ssoproof_secret::{redact_all, Secret};
use url::Url;

use crate::error::ProbeError;
use crate::idp::shorten;

/// What the server answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// `METHOD /path?query`, as reports name the request.
    pub request: String,
    pub status: u16,
    /// The parsed body; `None` for an empty one (a `204`).
    pub body: Option<Value>,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body, or `Null` when there was none.
    pub fn json(&self) -> &Value {
        self.body.as_ref().unwrap_or(&Value::Null)
    }

    /// The status and a shortened body, for "got …" in a report.
    pub fn shown(&self) -> String {
        match &self.body {
            Some(body) => format!("{} {}", self.status, shorten(&body.to_string(), 200)),
            None => format!("{} (no body)", self.status),
        }
    }
}

/// A request that got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub request: String,
    pub message: String,
}

pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Secret,
    timeout: Duration,
    max_body: usize,
    /// The first request the server never answered, once there is one.
    dead: Mutex<Option<Fault>>,
}

impl Client {
    pub fn new(
        base: &Url,
        token: Secret,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Client, ProbeError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ProbeError::Http {
                message: e.to_string(),
            })?;
        // Paths join below the base (`…/v2` + `Users` = `…/v2/Users`), so it ends in `/`.
        let mut base = base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(Client {
            http,
            base,
            token,
            timeout,
            max_body,
            dead: Mutex::new(None),
        })
    }

    /// The secrets answers are redacted of.
    pub fn redact(&self, text: &str) -> String {
        redact_all(text, &[&self.token])
    }

    /// Sends `method` to `path` (relative to the base URL, query included) with the bearer
    /// token and `body` as `application/scim+json`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, Fault> {
        self.send_as(method, path, body, true).await
    }

    /// As [`Client::send`], without the `Authorization` header.
    pub async fn send_anonymous(&self, method: Method, path: &str) -> Result<Answer, Fault> {
        self.send_as(method, path, None, false).await
    }

    async fn send_as(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        authorized: bool,
    ) -> Result<Answer, Fault> {
        let url = self.base.join(path).map_err(|e| Fault {
            request: format!("{method} {path}"),
            message: format!("not a path below {}: {e}", self.base),
        })?;
        let request = match url.query() {
            Some(query) => format!("{method} {}?{query}", url.path()),
            None => format!("{method} {}", url.path()),
        };
        let fault = |message: String| Fault {
            request: request.clone(),
            message: self.redact(&message),
        };
        if let Some(first) = self.dead.lock().expect("not poisoned").as_ref() {
            return Err(fault(format!(
                "not sent: the server did not answer an earlier request ({}: {})",
                first.request, first.message
            )));
        }
        let mut builder = self
            .http
            .request(method.clone(), url)
            .header(ACCEPT, "application/scim+json, application/json");
        if authorized {
            builder = builder.header(AUTHORIZATION, format!("Bearer {}", self.token.expose()));
        }
        if let Some(body) = body {
            builder = builder
                .header(CONTENT_TYPE, "application/scim+json")
                .body(body.to_string());
        }
        let mut response = match builder.send().await {
            Ok(response) => response,
            Err(e) => {
                let message = if e.is_timeout() {
                    format!("no answer within {} s (--timeout)", self.timeout.as_secs())
                } else {
                    format!("no answer: {}", error_chain(&e))
                };
                let failed = fault(message);
                *self.dead.lock().expect("not poisoned") = Some(failed.clone());
                return Err(failed);
            }
        };
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > self.max_body {
                        return Err(fault(format!(
                            "answered {status} with a body over {} bytes, the most the probe \
                             reads; a SCIM answer this large is a list without paging",
                            self.max_body
                        )));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let message = if e.is_timeout() {
                        format!(
                            "answered {status} but did not finish its body within {} s (--timeout)",
                            self.timeout.as_secs()
                        )
                    } else {
                        format!(
                            "answered {status} but its body broke off: {}",
                            error_chain(&e)
                        )
                    };
                    let failed = fault(message);
                    *self.dead.lock().expect("not poisoned") = Some(failed.clone());
                    return Err(failed);
                }
            }
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Answer {
                request,
                status,
                body: None,
            });
        }
        match serde_json::from_slice(&bytes) {
            Ok(body) => Ok(Answer {
                request,
                status,
                body: Some(body),
            }),
            Err(e) => Err(fault(format!(
                "answered {status} with a body that is not JSON ({e}): {}",
                shorten(&String::from_utf8_lossy(&bytes), 120)
            ))),
        }
    }
}

/// An error and its sources, e.g. "error sending request: connection refused".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
