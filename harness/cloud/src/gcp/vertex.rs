//! The emulated Vertex AI prediction endpoint:
//! `POST /v1/projects/{P}/locations/{LOC}/publishers/{PUB}/models/{M}:generateContent` (Gemini)
//! and `…:rawPredict` (partner models such as Claude, Anthropic's Messages API body).
//!
//! The checks run in Google's order, each refusing with Google's error envelope
//! `{"error": {"code", "message", "status", "details": [ErrorInfo]}}`: the bearer token (401),
//! its scopes, the quota project (`x-goog-user-project`, else a federated token's workforce pool
//! user project) and the caller's right to bill it, the
//! API being enabled, then `aiplatform.endpoints.predict` on the model (403). Only then is the
//! body looked at, and a canned answer returned.
//!
//! Two kinds of bearer are accepted: access tokens minted by the emulated STS, and Google OAuth
//! access tokens from a configured `google_accounts` issuer — JWTs signed with that issuer's
//! keys carrying `iss`, `email`, `exp` and a space-separated `scope` that must include
//! `https://www.googleapis.com/auth/cloud-platform` (an ID token has no `scope`, and is refused
//! as a bearer like Google refuses it). Such a caller is `user:<email>` in IAM bindings.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::Algorithm;
use serde::Serialize;
use serde_json::{json, Value};

use super::config::{GoogleAccounts, Project};
use super::iam::{Caller, Member};
use super::sts::CLOUD_PLATFORM_SCOPE;
use super::tokens::Grant;
use super::GcpState;
use crate::web_identity;

const SERVICE: &str = "aiplatform.googleapis.com";
const PREDICT: &str = "aiplatform.endpoints.predict";
/// The project gcloud's own OAuth client belongs to: what Google names as the consumer when a
/// user credential has no quota project.
const GCLOUD_CONSUMER: &str = "projects/764086051850";
const AUTH_HELP: &str = "Expected OAuth 2 access token, login cookie or other valid \
                         authentication credential. See \
                         https://developers.google.com/identity/sign-in/web/devconsole-project.";

/// The prediction methods emulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    GenerateContent,
    RawPredict,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::GenerateContent => "generateContent",
            Method::RawPredict => "rawPredict",
        }
    }

    /// The RPC name Google reports in error metadata.
    fn rpc(self) -> &'static str {
        match self {
            Method::GenerateContent => {
                "google.cloud.aiplatform.v1.PredictionService.GenerateContent"
            }
            Method::RawPredict => "google.cloud.aiplatform.v1.PredictionService.RawPredict",
        }
    }
}

/// The model a request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VertexTarget {
    pub project: String,
    pub location: String,
    pub publisher: String,
    pub model: String,
    pub method: Method,
}

impl VertexTarget {
    /// `projects/P/locations/L/publishers/PUB/models/M`.
    pub fn resource(&self) -> String {
        format!(
            "projects/{}/locations/{}/publishers/{}/models/{}",
            self.project, self.location, self.publisher, self.model
        )
    }
}

/// Parses a request path (percent-encoded, as received). The `:method` suffix is a literal
/// colon in the last segment, which is why this is not an axum route.
pub fn parse_path(path: &str) -> Result<VertexTarget, VertexFailure> {
    let not_found = || VertexFailure::not_found(path);
    let segments = path
        .strip_prefix('/')
        .ok_or_else(not_found)?
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .ok()
                .filter(|s| !s.is_empty() && !s.contains('/'))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(not_found)?;
    let segments: Vec<&str> = segments.iter().map(|s| s.as_ref()).collect();
    let ["v1" | "v1beta1", "projects", project, "locations", location, "publishers", publisher, "models", last] =
        segments[..]
    else {
        return Err(not_found());
    };
    let (model, method) = last.rsplit_once(':').ok_or_else(not_found)?;
    let method = match method {
        "generateContent" => Method::GenerateContent,
        "rawPredict" => Method::RawPredict,
        _ => return Err(not_found()),
    };
    if model.is_empty() {
        return Err(not_found());
    }
    Ok(VertexTarget {
        project: project.to_string(),
        location: location.to_string(),
        publisher: publisher.to_string(),
        model: model.to_string(),
        method,
    })
}

/// A refusal in Google's error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VertexFailure {
    pub code: StatusCode,
    pub status: &'static str,
    pub message: String,
    pub info: Option<ErrorInfo>,
}

/// `type.googleapis.com/google.rpc.ErrorInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorInfo {
    pub reason: &'static str,
    pub domain: &'static str,
    pub metadata: BTreeMap<&'static str, String>,
}

impl VertexFailure {
    fn new(code: StatusCode, status: &'static str, message: String) -> VertexFailure {
        VertexFailure {
            code,
            status,
            message,
            info: None,
        }
    }

    fn with_info(
        mut self,
        reason: &'static str,
        domain: &'static str,
        metadata: &[(&'static str, String)],
    ) -> VertexFailure {
        self.info = Some(ErrorInfo {
            reason,
            domain,
            metadata: metadata.iter().cloned().collect(),
        });
        self
    }

    fn not_found(path: &str) -> VertexFailure {
        // Emulator wording: Google answers an unknown URL with an HTML page.
        VertexFailure::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("The requested URL {path} was not found on this server."),
        )
    }

    fn invalid_argument(message: impl Into<String>) -> VertexFailure {
        VertexFailure::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message.into())
    }

    fn unauthenticated(reason: &'static str, method: Method) -> VertexFailure {
        let message = if reason == "CREDENTIALS_MISSING" {
            format!("Request is missing required authentication credential. {AUTH_HELP}")
        } else {
            format!("Request had invalid authentication credentials. {AUTH_HELP}")
        };
        VertexFailure::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message).with_info(
            reason,
            "googleapis.com",
            &[("method", method.rpc().into()), ("service", SERVICE.into())],
        )
    }

    fn permission_denied(message: String) -> VertexFailure {
        VertexFailure::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", message)
    }

    fn service_disabled(project: &str) -> VertexFailure {
        VertexFailure::permission_denied(format!(
            "Vertex AI API has not been used in project {project} before or it is disabled. \
             Enable it by visiting https://console.developers.google.com/apis/api/{SERVICE}/overview?project={project} \
             then retry. If you enabled this API recently, wait a few minutes for the action to \
             propagate to our systems and retry."
        ))
        .with_info(
            "SERVICE_DISABLED",
            "googleapis.com",
            &[
                ("activationUrl", format!("https://console.developers.google.com/apis/api/{SERVICE}/overview?project={project}")),
                ("consumer", format!("projects/{project}")),
                ("service", SERVICE.into()),
                ("serviceTitle", "Vertex AI API".into()),
            ],
        )
    }
}

impl IntoResponse for VertexFailure {
    fn into_response(self) -> Response {
        let details: Vec<Value> = self
            .info
            .iter()
            .map(|info| {
                json!({
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": info.reason,
                    "domain": info.domain,
                    "metadata": info.metadata,
                })
            })
            .collect();
        let body = json!({"error": {
            "code": self.code.as_u16(),
            "message": self.message,
            "status": self.status,
            "details": details,
        }});
        (self.code, axum::Json(body)).into_response()
    }
}

/// A prediction the emulator answered, for attribution checks (never the token).
#[derive(Debug, Clone, PartialEq)]
pub struct VertexCall {
    pub caller: Caller,
    pub quota_project: String,
    pub resource: String,
    pub method: Method,
}

/// Any request outside the STS route: Vertex predictions, or Google's 404.
pub async fn handle(
    axum::extract::State(state): axum::extract::State<Arc<GcpState>>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if method != axum::http::Method::POST {
        return VertexFailure::not_found(uri.path()).into_response();
    }
    match predict(&state, uri.path(), &headers, &body).await {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(failure) => failure.into_response(),
    }
}

async fn predict(
    state: &GcpState,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, VertexFailure> {
    let target = parse_path(path)?;
    let grant = authenticate(state, headers, target.method).await?;
    if !grant.scopes.iter().any(|s| s == CLOUD_PLATFORM_SCOPE) {
        return Err(VertexFailure::permission_denied(
            "Request had insufficient authentication scopes.".into(),
        )
        .with_info(
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            "googleapis.com",
            &[
                ("method", target.method.rpc().into()),
                ("service", SERVICE.into()),
            ],
        ));
    }
    let quota_project = quota_project(headers, &grant)?;
    let billed = state.config.project(&quota_project);
    if !billed.is_some_and(|p| grants(&p.permissions.service_usage, &grant.caller)) {
        return Err(VertexFailure::permission_denied(format!(
            "Caller does not have required permission to use project {quota_project}. Grant the \
             caller the roles/serviceusage.serviceUsageConsumer role, or a custom role with the \
             serviceusage.services.use permission, by visiting \
             https://console.developers.google.com/iam-admin/iam/project?project={quota_project} \
             and then retry. Propagation of the new permission may take a few minutes."
        ))
        .with_info(
            "USER_PROJECT_DENIED",
            "googleapis.com",
            &[
                ("consumer", format!("projects/{quota_project}")),
                ("service", SERVICE.into()),
            ],
        ));
    }
    let resource_project = state.config.project(&target.project);
    for project in [billed, resource_project].into_iter().flatten() {
        if !project.vertex_enabled {
            return Err(VertexFailure::service_disabled(project.id.as_str()));
        }
    }
    if !resource_project.is_some_and(|p: &Project| grants(&p.permissions.predict, &grant.caller)) {
        let resource = target.resource();
        return Err(VertexFailure::permission_denied(format!(
            "Permission '{PREDICT}' denied on resource '//{SERVICE}/{resource}' (or it may not exist)."
        ))
        .with_info(
            "IAM_PERMISSION_DENIED",
            SERVICE,
            &[("permission", PREDICT.into()), ("resource", resource)],
        ));
    }
    let request: Value = serde_json::from_slice(body).map_err(|e| {
        VertexFailure::invalid_argument(format!("Invalid JSON payload received. {e}"))
    })?;
    let answer = match target.method {
        Method::GenerateContent => generate_content(&target, &request)?,
        Method::RawPredict => raw_predict(&target, &request)?,
    };
    state.record(VertexCall {
        caller: grant.caller,
        quota_project,
        resource: target.resource(),
        method: target.method,
    });
    Ok(answer)
}

fn grants(members: &[Member], caller: &Caller) -> bool {
    members.iter().any(|m| m.matches(caller))
}

/// The project billed: the `x-goog-user-project` header, else the token's own client project.
/// A workforce-federated token has one, the workforce pool user project of its STS exchange
/// (google-auth sends `workforce_pool_user_project` only as the STS `options.userProject`, and
/// the header only when `quota_project_id` is set); a Google user's token has none, so without
/// the header Google has no one to bill.
fn quota_project(headers: &HeaderMap, grant: &Grant) -> Result<String, VertexFailure> {
    let project = headers
        .get("x-goog-user-project")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .or(grant.user_project.as_deref());
    project.map(str::to_string).ok_or_else(|| {
        VertexFailure::permission_denied(format!(
            "Your application is authenticating by using local Application Default Credentials. \
             The {SERVICE} API requires a quota project, which is not set by default. To learn \
             how to set your quota project, see \
             https://cloud.google.com/docs/authentication/adc-troubleshooting/user-creds ."
        ))
        .with_info(
            "SERVICE_DISABLED",
            "googleapis.com",
            &[
                ("consumer", GCLOUD_CONSUMER.into()),
                ("service", SERVICE.into()),
            ],
        )
    })
}

/// Recognises the bearer token: one the STS minted, or a Google account's OAuth token.
async fn authenticate(
    state: &GcpState,
    headers: &HeaderMap,
    method: Method,
) -> Result<Grant, VertexFailure> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| VertexFailure::unauthenticated("CREDENTIALS_MISSING", method))?;
    let grant = match state.tokens.lookup(token) {
        Some(grant) => grant,
        None => google_account_grant(state, token).await.ok_or_else(|| {
            VertexFailure::unauthenticated("ACCESS_TOKEN_TYPE_UNSUPPORTED", method)
        })?,
    };
    if grant.is_expired(SystemTime::now()) {
        return Err(VertexFailure::unauthenticated(
            "ACCESS_TOKEN_EXPIRED",
            method,
        ));
    }
    Ok(grant)
}

/// A Google OAuth access token: a JWT from a configured Google account issuer, with `scope`.
async fn google_account_grant(state: &GcpState, token: &str) -> Option<Grant> {
    let (_, claims) = web_identity::peek(token).ok()?;
    let issuer = claims.get("iss")?.as_str()?;
    let accounts: &GoogleAccounts = state
        .config
        .google_accounts
        .iter()
        .find(|a| a.issuer.as_str() == issuer)?;
    let verified = web_identity::verify(
        &state.http,
        token,
        &accounts.key_source(),
        &[Algorithm::RS256, Algorithm::ES256],
    )
    .await
    .ok()?;
    let claims = verified.claims;
    let email = claims.get("email")?.as_str()?.to_string();
    let scopes = claims.get("scope")?.as_str()?;
    // Claims are attacker-chosen: cap `exp` (in 2106) so the time arithmetic cannot overflow.
    let exp = claims.get("exp")?.as_f64()?.clamp(0.0, u32::MAX as f64);
    let expires_at = UNIX_EPOCH + Duration::from_secs_f64(exp);
    Some(Grant {
        caller: Caller::GoogleUser { email },
        issued_by: issuer.to_string(),
        scopes: scopes.split_whitespace().map(str::to_string).collect(),
        user_project: None,
        expires_at,
    })
}

const ANSWER: &str = "Hello from the ssoproof Vertex AI emulator.";

/// Gemini's answer shape, with token counts from a word count of the prompt's text parts.
fn generate_content(target: &VertexTarget, request: &Value) -> Result<Value, VertexFailure> {
    let contents = request
        .get("contents")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            VertexFailure::invalid_argument(
                "Unable to submit request because at least one contents field is required.",
            )
        })?;
    let prompt_tokens: usize = contents
        .iter()
        .filter_map(|c| c.get("parts").and_then(Value::as_array))
        .flatten()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .map(|t| t.split_whitespace().count())
        .sum();
    let answer_tokens = ANSWER.split_whitespace().count();
    Ok(json!({
        "candidates": [{
            "content": {"role": "model", "parts": [{"text": ANSWER}]},
            "finishReason": "STOP",
        }],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": answer_tokens,
            "totalTokenCount": prompt_tokens + answer_tokens,
        },
        "modelVersion": target.model,
    }))
}

/// Anthropic's Messages API on Vertex: the body names `anthropic_version`, not the model.
fn raw_predict(target: &VertexTarget, request: &Value) -> Result<Value, VertexFailure> {
    let missing = ["anthropic_version", "max_tokens", "messages"]
        .into_iter()
        .find(|field| request.get(field).is_none());
    if let Some(field) = missing {
        return Err(VertexFailure::invalid_argument(format!(
            "{field}: Field required"
        )));
    }
    let input_tokens: usize = request["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("content").and_then(Value::as_str))
        .map(|t| t.split_whitespace().count())
        .sum();
    Ok(json!({
        "id": "msg_vrtx_ssoproof",
        "type": "message",
        "role": "assistant",
        "model": target.model,
        "content": [{"type": "text", "text": ANSWER}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "output_tokens": ANSWER.split_whitespace().count()},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_methods_and_encoded_colons() {
        let target = parse_path(
            "/v1/projects/acme-ai/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent",
        )
        .unwrap();
        assert_eq!(target.project, "acme-ai");
        assert_eq!(target.location, "us-central1");
        assert_eq!(target.model, "gemini-2.0-flash");
        assert_eq!(target.method, Method::GenerateContent);
        assert_eq!(
            target.resource(),
            "projects/acme-ai/locations/us-central1/publishers/google/models/gemini-2.0-flash"
        );
        let target = parse_path(
            "/v1/projects/acme-ai/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514%3ArawPredict",
        )
        .unwrap();
        assert_eq!(target.model, "claude-sonnet-4@20250514");
        assert_eq!(target.method, Method::RawPredict);
    }

    #[test]
    fn anything_else_is_not_found() {
        for path in [
            "",
            "/",
            "/v1/projects/p/locations/l/publishers/google/models/m",
            "/v1/projects/p/locations/l/publishers/google/models/m:predict",
            "/v1/projects/p/locations/l/publishers/google/models/:generateContent",
            "/v1/projects//locations/l/publishers/google/models/m:generateContent",
            "/v2/projects/p/locations/l/publishers/google/models/m:generateContent",
            "/v1/projects/p%2Fq/locations/l/publishers/google/models/m:generateContent",
            "/v1/projects/p/locations/l/publishers/google/models/m:generateContent/extra",
            "/v1/projects/%FF/locations/l/publishers/google/models/m:generateContent",
        ] {
            let failure = parse_path(path).unwrap_err();
            assert_eq!(failure.code, StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[test]
    fn canned_answers_check_their_bodies() {
        let target = parse_path(
            "/v1/projects/p-roject/locations/l/publishers/google/models/gemini:generateContent",
        )
        .unwrap();
        let answer = generate_content(
            &target,
            &json!({"contents": [{"role": "user", "parts": [{"text": "say hi"}]}]}),
        )
        .unwrap();
        assert_eq!(
            answer["candidates"][0]["content"]["parts"][0]["text"],
            ANSWER
        );
        assert_eq!(answer["usageMetadata"]["promptTokenCount"], 2);
        assert!(generate_content(&target, &json!({"contents": []})).is_err());
        let failure = raw_predict(&target, &json!({"messages": [], "max_tokens": 5})).unwrap_err();
        assert_eq!(failure.message, "anthropic_version: Field required");
    }
}
