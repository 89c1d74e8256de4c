//! A small typed client for the two Google calls a federated sign-in makes: the STS token
//! exchange (sent exactly as google-auth sends it) and a Vertex prediction. Used by the doctor
//! and the scenario steps, against the emulator or the real endpoints.

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use super::sts::{
    CLOUD_PLATFORM_SCOPE, GRANT_TYPE_TOKEN_EXCHANGE, TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_ID_TOKEN,
};
use ssoproof_secret::{redact_all, Secret};

/// Every call gives up after this long.
const TIMEOUT: Duration = Duration::from_secs(15);

/// What Python's `urllib.parse.quote` leaves alone (google-auth quotes `options` with it).
const PY_QUOTE_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/');

/// A federated access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: Secret,
    pub issued_token_type: String,
    pub expires_in: Option<u64>,
}

/// Why a token exchange failed. Codes are stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StsError {
    #[error("STS refused the exchange (HTTP {status}): {error}: {description}")]
    Refused {
        status: u16,
        error: String,
        description: String,
    },
    #[error("cannot reach the STS at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the STS at {url} answered something that is not a token response: {reason}")]
    Malformed { url: String, reason: String },
}

impl StsError {
    pub fn code(&self) -> &'static str {
        match self {
            StsError::Refused { .. } => "gcp/sts-refused",
            StsError::Unreachable { .. } => "gcp/sts-unreachable",
            StsError::Malformed { .. } => "gcp/sts-malformed",
        }
    }
}

/// Exchanges an ID token from a workforce provider's issuer for a federated access token.
/// `audience` is the provider's full name
/// (`//iam.googleapis.com/locations/global/workforcePools/POOL/providers/PROVIDER`), `project`
/// the workforce pool user project.
pub async fn exchange_token(
    http: &reqwest::Client,
    sts_endpoint: &str,
    audience: &str,
    subject_token: &Secret,
    project: &str,
) -> Result<AccessToken, StsError> {
    let options = serde_json::json!({"userProject": project}).to_string();
    let options = utf8_percent_encode(&options, PY_QUOTE_SAFE).to_string();
    let form = [
        ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
        ("audience", audience),
        ("scope", CLOUD_PLATFORM_SCOPE),
        ("requested_token_type", TOKEN_TYPE_ACCESS_TOKEN),
        ("subject_token", subject_token.expose()),
        ("subject_token_type", TOKEN_TYPE_ID_TOKEN),
        ("options", &options),
    ];
    let url = sts_endpoint.to_string();
    let clean = |text: String| redact_all(&text, &[subject_token]);
    let unreachable = |e: reqwest::Error| StsError::Unreachable {
        url: url.clone(),
        reason: clean(e.to_string()),
    };
    let response = http
        .post(sts_endpoint)
        .timeout(TIMEOUT)
        .form(&form)
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| StsError::Malformed {
        url: url.clone(),
        reason: clean(e.to_string()),
    })?;
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .map(|s| clean(s.to_string()))
    };
    if !status.is_success() {
        return Err(StsError::Refused {
            status: status.as_u16(),
            error: text("error").unwrap_or_default(),
            description: text("error_description").unwrap_or_default(),
        });
    }
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| StsError::Malformed {
            url: url.clone(),
            reason: "no access_token".into(),
        })?;
    Ok(AccessToken {
        token: Secret::new(token),
        issued_token_type: text("issued_token_type").unwrap_or_default(),
        expires_in: body.get("expires_in").and_then(Value::as_u64),
    })
}

/// A Vertex model, as its URL names it.
#[derive(Debug, Clone, Copy)]
pub struct VertexModel<'a> {
    pub project: &'a str,
    pub location: &'a str,
    pub publisher: &'a str,
    pub model: &'a str,
}

impl<'a> VertexModel<'a> {
    /// A Gemini model (`publishers/google`).
    pub fn google(project: &'a str, location: &'a str, model: &'a str) -> VertexModel<'a> {
        VertexModel {
            project,
            location,
            publisher: "google",
            model,
        }
    }

    /// A Claude model (`publishers/anthropic`).
    pub fn anthropic(project: &'a str, location: &'a str, model: &'a str) -> VertexModel<'a> {
        VertexModel {
            project,
            location,
            publisher: "anthropic",
            model,
        }
    }
}

impl<'a> VertexModel<'a> {
    /// The publisher a model id implies: Anthropic for `claude-*`, Google otherwise.
    pub fn by_id(project: &'a str, location: &'a str, model: &'a str) -> VertexModel<'a> {
        if model.starts_with("claude") {
            VertexModel::anthropic(project, location, model)
        } else {
            VertexModel::google(project, location, model)
        }
    }
}

/// The smallest prediction that proves a bearer can use `model`: `rawPredict` with an
/// Anthropic Messages body for Anthropic models, `generateContent` for Google's.
pub async fn say_hello(
    http: &reqwest::Client,
    vertex_endpoint: &str,
    model: VertexModel<'_>,
    token: &Secret,
    quota_project: Option<&str>,
) -> Result<Value, VertexError> {
    if model.publisher == "anthropic" {
        let body = serde_json::json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 64,
                                      "messages": [{"role": "user", "content": "Say hello"}]});
        raw_predict(http, vertex_endpoint, model, token, quota_project, &body).await
    } else {
        let body =
            serde_json::json!({"contents": [{"role": "user", "parts": [{"text": "Say hello"}]}]});
        generate_content(http, vertex_endpoint, model, token, quota_project, &body).await
    }
}

/// Why a Vertex call failed. Codes are stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VertexError {
    /// Google's error envelope: HTTP code, status, the ErrorInfo reason (if any) and message.
    #[error("Vertex refused the call (HTTP {code} {status}{}): {message}", reason.as_ref().map(|r| format!(", {r}")).unwrap_or_default())]
    Refused {
        code: u16,
        status: String,
        reason: Option<String>,
        message: String,
    },
    #[error("cannot reach Vertex at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("Vertex at {url} answered something that is not JSON: {reason}")]
    Malformed { url: String, reason: String },
}

impl VertexError {
    pub fn code(&self) -> &'static str {
        match self {
            VertexError::Refused { .. } => "gcp/vertex-refused",
            VertexError::Unreachable { .. } => "gcp/vertex-unreachable",
            VertexError::Malformed { .. } => "gcp/vertex-malformed",
        }
    }
}

/// `…/models/{model}:generateContent` with a Gemini request body.
pub async fn generate_content(
    http: &reqwest::Client,
    vertex_endpoint: &str,
    model: VertexModel<'_>,
    token: &Secret,
    quota_project: Option<&str>,
    body: &Value,
) -> Result<Value, VertexError> {
    call(
        http,
        vertex_endpoint,
        model,
        "generateContent",
        token,
        quota_project,
        body,
    )
    .await
}

/// `…/models/{model}:rawPredict` with the publisher's own body (Anthropic's Messages API).
pub async fn raw_predict(
    http: &reqwest::Client,
    vertex_endpoint: &str,
    model: VertexModel<'_>,
    token: &Secret,
    quota_project: Option<&str>,
    body: &Value,
) -> Result<Value, VertexError> {
    call(
        http,
        vertex_endpoint,
        model,
        "rawPredict",
        token,
        quota_project,
        body,
    )
    .await
}

async fn call(
    http: &reqwest::Client,
    vertex_endpoint: &str,
    model: VertexModel<'_>,
    method: &str,
    token: &Secret,
    quota_project: Option<&str>,
    body: &Value,
) -> Result<Value, VertexError> {
    let url = model_url(vertex_endpoint, model, method)?;
    let clean = |text: String| redact_all(&text, &[token]);
    let mut request = http
        .post(url.clone())
        .timeout(TIMEOUT)
        .bearer_auth(token.expose())
        .json(body);
    if let Some(project) = quota_project {
        request = request.header("x-goog-user-project", project);
    }
    let response = request.send().await.map_err(|e| VertexError::Unreachable {
        url: url.to_string(),
        reason: clean(e.to_string()),
    })?;
    let status = response.status();
    let answer: Value = response.json().await.map_err(|e| VertexError::Malformed {
        url: url.to_string(),
        reason: clean(e.to_string()),
    })?;
    if status.is_success() {
        return Ok(answer);
    }
    let error = &answer["error"];
    let text = |v: &Value| v.as_str().map(|s| clean(s.to_string()));
    Err(VertexError::Refused {
        code: status.as_u16(),
        status: text(&error["status"]).unwrap_or_default(),
        reason: error["details"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|d| text(&d["reason"])),
        message: text(&error["message"]).unwrap_or_default(),
    })
}

fn model_url(
    endpoint: &str,
    model: VertexModel<'_>,
    method: &str,
) -> Result<url::Url, VertexError> {
    let mut url = url::Url::parse(endpoint).map_err(|e| VertexError::Unreachable {
        url: endpoint.to_string(),
        reason: format!("not a URL: {e}"),
    })?;
    url.path_segments_mut()
        .map_err(|_| VertexError::Unreachable {
            url: endpoint.to_string(),
            reason: "not a base URL".into(),
        })?
        .pop_if_empty()
        .extend([
            "v1",
            "projects",
            model.project,
            "locations",
            model.location,
            "publishers",
            model.publisher,
            "models",
            &format!("{}:{method}", model.model),
        ]);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_quoted_like_python_does() {
        let options = serde_json::json!({"userProject": "acme-ai"}).to_string();
        assert_eq!(
            utf8_percent_encode(&options, PY_QUOTE_SAFE).to_string(),
            "%7B%22userProject%22%3A%22acme-ai%22%7D"
        );
    }

    #[test]
    fn model_urls_keep_the_method_colon() {
        let url = model_url(
            "http://127.0.0.1:9/",
            VertexModel::anthropic("acme-ai", "us-east5", "claude-sonnet-4@20250514"),
            "rawPredict",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/v1/projects/acme-ai/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict"
        );
    }
}
