//! The HTTP client every call to the container goes through, and how its failures read.

use std::time::Duration;

/// Creating a realm on a busy 2-core machine can take tens of seconds.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of a server's answer an error message quotes.
const BODY_EXCERPT: usize = 300;

pub(super) fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        // The container is reached directly, never through a proxy from the environment.
        .no_proxy()
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// A transport error with its causes ("error sending request" alone says little), without the
/// URL, which the message already names.
pub(super) fn transport(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

pub(super) fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return "(empty answer)".into();
    }
    match body.char_indices().nth(BODY_EXCERPT) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_string(),
    }
}
