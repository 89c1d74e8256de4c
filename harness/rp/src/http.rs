//! Back-channel HTTP: every request has a timeout, and every answer that is not what it should be
//! becomes a [`Failure`] naming the request (method and URL), which callers turn into the
//! [`RpError`](super::RpError) variant of their step. Nothing here panics on a server's answer.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Map, Value};

use ssoproof_secret::{redact_all, Secret};

/// A failed request: which one, and what was wrong with it.
#[derive(Debug)]
pub(crate) struct Failure {
    /// `METHOD URL`.
    pub request: String,
    pub problem: String,
}

/// Most of a server's answer echoed into a message.
const SNIPPET: usize = 200;

/// The largest answer or page read, in bytes (1 MiB). Discovery documents, key sets, token
/// responses and login pages are a few kilobytes; a larger answer is refused, not buffered.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub(crate) fn user_agent() -> String {
    format!("ssoproof/{}", env!("CARGO_PKG_VERSION"))
}

/// What every client of the relying party shares: the timeout, no automatic redirects (the
/// browser follows them itself; on a discovery, token or JWKS URL a redirect is a
/// configuration error to report, not to follow), the user agent, and the extra trusted roots.
pub(crate) fn client_builder(
    timeout: Duration,
    roots: &[reqwest::Certificate],
) -> reqwest::ClientBuilder {
    let builder = Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent());
    roots
        .iter()
        .fold(builder, |b, root| b.add_root_certificate(root.clone()))
}

/// A client for back-channel calls: no cookies.
pub(crate) fn back_channel_client(
    timeout: Duration,
    roots: &[reqwest::Certificate],
) -> Result<Client, reqwest::Error> {
    client_builder(timeout, roots).build()
}

/// `reqwest`'s error with its causes, without the URL (the caller names the request itself).
pub(crate) fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs_f64());
    }
    let mut text = if error.is_connect() {
        "cannot connect".to_string()
    } else if error.is_redirect() {
        "redirect refused".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Sends `request`, turning transport errors into a [`Failure`].
pub(crate) async fn send(
    request: RequestBuilder,
    label: &str,
    timeout: Duration,
) -> Result<Response, Failure> {
    request.send().await.map_err(|e| Failure {
        request: label.to_string(),
        problem: describe(&e.without_url(), timeout),
    })
}

/// The answer's status, content type and body; reading the body can time out too.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub location: Option<String>,
    pub body: String,
}

pub(crate) async fn read(
    mut response: Response,
    label: &str,
    timeout: Duration,
) -> Result<Answer, Failure> {
    let status = response.status();
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
    let location = header(reqwest::header::LOCATION);
    let failed = |problem: String| Failure {
        request: label.to_string(),
        problem,
    };
    let too_large = || {
        failed(format!(
            "the answer is larger than {} MiB, the most this relying party reads",
            MAX_BODY_BYTES / (1024 * 1024)
        ))
    };
    if response
        .content_length()
        .is_some_and(|len| len > MAX_BODY_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        failed(format!(
            "reading the answer: {}",
            describe(&e.without_url(), timeout)
        ))
    })? {
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        content_type,
        location,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// A short, single-line, redacted excerpt of a server's answer for an error message.
pub(crate) fn snippet(text: &str, secrets: &[&Secret]) -> String {
    // Redacted before flattening: a secret with a run of spaces would no longer match after.
    let redacted = redact_all(text, secrets);
    let redacted = redacted.split_whitespace().collect::<Vec<_>>().join(" ");
    if redacted.chars().count() > SNIPPET {
        let cut: String = redacted.chars().take(SNIPPET).collect();
        format!("{cut}…")
    } else {
        redacted
    }
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

impl Answer {
    /// The body as a JSON object, whatever the status.
    fn object(&self) -> Option<Map<String, Value>> {
        match serde_json::from_str::<Value>(&self.body) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        }
    }

    /// Describes an answer that is not the expected success: the status, an OAuth error
    /// (`error`, `error_description`) if the body carries one, else a redacted excerpt.
    pub fn problem(&self, secrets: &[&Secret]) -> String {
        let mut text = format!("answered {}", status_text(self.status));
        if self.status.is_redirection() {
            if let Some(location) = &self.location {
                text.push_str(&format!(
                    " (redirect to {}, not followed; configure the final URL)",
                    redact_all(location, secrets)
                ));
            }
            return text;
        }
        if let Some(error) = self.object().as_ref().and_then(oauth_error) {
            text.push_str(&format!(" with `{}`", redact_all(&error, secrets)));
            return text;
        }
        let body = snippet(&self.body, secrets);
        if !body.is_empty() {
            text.push_str(&format!(": {body}"));
        }
        text
    }

    /// A 200 answer whose body is a JSON object; anything else is a problem description.
    pub fn json_object(&self, secrets: &[&Secret]) -> Result<Map<String, Value>, String> {
        if self.status != StatusCode::OK {
            return Err(self.problem(secrets));
        }
        self.object().ok_or_else(|| {
            let kind = if self.content_type.is_empty() {
                "no content type".to_string()
            } else {
                format!("content type `{}`", self.content_type)
            };
            format!(
                "answered 200 but the body is not a JSON object ({kind}): {}",
                snippet(&self.body, secrets)
            )
        })
    }
}

/// `error` and `error_description` of an OAuth error body, as `error: description`.
fn oauth_error(map: &Map<String, Value>) -> Option<String> {
    let error = map.get("error")?.as_str()?;
    Some(match map.get("error_description").and_then(Value::as_str) {
        Some(description) if !description.is_empty() => format!("{error}: {description}"),
        _ => error.to_string(),
    })
}

/// GETs `url` and returns its JSON object, or a [`Failure`] naming the request.
pub(crate) async fn get_json(
    client: &Client,
    url: &str,
    timeout: Duration,
) -> Result<Map<String, Value>, Failure> {
    let label = format!("GET {url}");
    let response = send(
        client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json"),
        &label,
        timeout,
    )
    .await?;
    let answer = read(response, &label, timeout).await?;
    answer.json_object(&[]).map_err(|problem| Failure {
        request: label,
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            content_type: "text/html".into(),
            location: None,
            body: body.into(),
        }
    }

    #[test]
    fn problems_name_the_status_and_the_oauth_error() {
        let a = answer(
            401,
            r#"{"error":"invalid_client","error_description":"bad secret"}"#,
        );
        assert_eq!(
            a.problem(&[]),
            "answered 401 Unauthorized with `invalid_client: bad secret`"
        );
        let a = answer(502, "<html>\n  <h1>Bad   gateway</h1></html>");
        assert_eq!(
            a.problem(&[]),
            "answered 502 Bad Gateway: <html> <h1>Bad gateway</h1></html>"
        );
    }

    #[test]
    fn non_json_success_is_a_problem_not_a_panic() {
        let err = answer(200, "<html>login</html>")
            .json_object(&[])
            .unwrap_err();
        assert!(
            err.contains("not a JSON object (content type `text/html`)"),
            "{err}"
        );
        let err = answer(200, "[1,2]").json_object(&[]).unwrap_err();
        assert!(err.contains("not a JSON object"), "{err}");
    }

    #[test]
    fn snippets_are_short_flat_and_redacted() {
        let secret = Secret::new("s3cr3t");
        let long = format!("token s3cr3t\n{}", "x".repeat(500));
        let s = snippet(&long, &[&secret]);
        assert!(s.starts_with("token [redacted] x"), "{s}");
        assert!(s.chars().count() <= SNIPPET + 1 && s.ends_with('…'));
        // Whitespace inside a secret survives flattening only if redaction comes first.
        let spaced = Secret::new("two  spaces\tand a tab");
        let s = snippet("<p>two  spaces\tand a tab</p>", &[&spaced]);
        assert_eq!(s, "<p>[redacted]</p>");
    }
}
