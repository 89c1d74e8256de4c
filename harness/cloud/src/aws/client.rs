//! A small typed AWS client for the doctor and scenario steps: STS
//! `AssumeRoleWithWebIdentity` and Bedrock Runtime `InvokeModel` / `Converse` and their
//! streaming twins (the event stream decoded into [`StreamEvent`]s). It speaks the
//! real wire formats, so it works against the emulator and against real AWS alike, and it
//! signs with the official `aws-sigv4` signer, so the emulator's verifier is checked by an
//! implementation it shares no code with.
//!
//! Endpoints are base URLs: the emulator's [`super::AwsEmulator::sts_endpoint`], or
//! `https://sts.amazonaws.com` and `https://bedrock-runtime.<region>.amazonaws.com` for real.
//! Secrets (token, secret key, session token) never appear in errors.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use ssoproof_secret::Secret;

/// Temporary AWS credentials.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    pub expiration: OffsetDateTime,
}

/// An `AssumeRoleWithWebIdentity` call.
#[derive(Debug, Clone)]
pub struct AssumeRoleRequest {
    pub role_arn: String,
    /// Usually the user's email, for CloudTrail attribution.
    pub session_name: String,
    pub web_identity_token: Secret,
    /// Seconds; the service default (3600) when `None`.
    pub duration_seconds: Option<u32>,
    /// An inline session policy (JSON) that narrows the role's permissions.
    pub policy: Option<String>,
}

/// What `AssumeRoleWithWebIdentity` returned.
#[derive(Debug, Clone)]
pub struct AssumedRole {
    pub credentials: Credentials,
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub assumed_role_arn: String,
    /// `AROA…:<session>`.
    pub assumed_role_id: String,
    /// The token's `sub`.
    pub subject: String,
    /// The client id the token was accepted for.
    pub audience: String,
    /// The token's issuer.
    pub provider: String,
}

/// One event of a Bedrock stream: its `:event-type` and JSON payload. For
/// `InvokeModelWithResponseStream` the `chunk` payload's `bytes` is already base64-decoded
/// and parsed (the model's own streaming event).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    pub event_type: String,
    pub payload: Value,
}

/// Why an AWS call failed. [`AwsCallError::code`] is the AWS error code for service errors
/// (`InvalidIdentityToken`, `AccessDeniedException`, …) and a stable `aws-client/…` code
/// otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsCallError {
    #[error("{service} answered HTTP {status} {code}: {message}")]
    Service {
        service: &'static str,
        status: u16,
        code: String,
        message: String,
    },
    #[error("cannot call {service}: {reason}")]
    Transport {
        service: &'static str,
        reason: String,
    },
    #[error("{service} answered HTTP {status} with something unexpected: {reason}")]
    Unexpected {
        service: &'static str,
        status: u16,
        reason: String,
    },
}

impl AwsCallError {
    pub fn code(&self) -> &str {
        match self {
            AwsCallError::Service { code, .. } => code,
            AwsCallError::Transport { .. } => "aws-client/transport",
            AwsCallError::Unexpected { .. } => "aws-client/unexpected",
        }
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            AwsCallError::Service { status, .. } | AwsCallError::Unexpected { status, .. } => {
                Some(*status)
            }
            AwsCallError::Transport { .. } => None,
        }
    }
}

const STS: &str = "STS";
const BEDROCK: &str = "Bedrock Runtime";

/// Path-label encoding as the AWS SDKs do it: everything but unreserved characters.
const LABEL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A reusable client (connection pool, timeouts).
#[derive(Debug, Clone)]
pub struct AwsClient {
    http: reqwest::Client,
}

impl Default for AwsClient {
    fn default() -> Self {
        AwsClient::new()
    }
}

impl AwsClient {
    /// A client with a 5 s connect timeout and a 30 s overall timeout per call.
    pub fn new() -> AwsClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        AwsClient { http }
    }

    /// Calls STS `AssumeRoleWithWebIdentity` (unsigned, form-encoded POST).
    pub async fn assume_role_with_web_identity(
        &self,
        sts_endpoint: &str,
        request: &AssumeRoleRequest,
    ) -> Result<AssumedRole, AwsCallError> {
        let duration = request.duration_seconds.map(|d| d.to_string());
        let mut form = vec![
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", request.role_arn.as_str()),
            ("RoleSessionName", request.session_name.as_str()),
            ("WebIdentityToken", request.web_identity_token.expose()),
        ];
        if let Some(duration) = &duration {
            form.push(("DurationSeconds", duration));
        }
        if let Some(policy) = &request.policy {
            form.push(("Policy", policy));
        }
        let response = self
            .http
            .post(format!("{}/", sts_endpoint.trim_end_matches('/')))
            .form(&form)
            .send()
            .await
            .map_err(|e| transport(STS, e))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| transport(STS, e))?;
        if !(200..300).contains(&status) {
            let error: StsErrorXml = quick_xml::de::from_str(&text)
                .map_err(|e| unexpected(STS, status, format!("not an STS error document: {e}")))?;
            return Err(AwsCallError::Service {
                service: STS,
                status,
                code: error.error.code,
                message: error.error.message,
            });
        }
        // Parse errors name fields, never values: the document carries the secrets.
        let xml: StsSuccessXml = quick_xml::de::from_str(&text).map_err(|e| {
            unexpected(
                STS,
                status,
                format!("not an AssumeRoleWithWebIdentity response: {e}"),
            )
        })?;
        let result = xml.result;
        let expiration =
            OffsetDateTime::parse(&result.credentials.expiration, &Rfc3339).map_err(|_| {
                unexpected(
                    STS,
                    status,
                    "Credentials.Expiration is not an ISO-8601 time".into(),
                )
            })?;
        Ok(AssumedRole {
            credentials: Credentials {
                access_key_id: result.credentials.access_key_id,
                secret_access_key: Secret::new(result.credentials.secret_access_key),
                session_token: Secret::new(result.credentials.session_token),
                expiration,
            },
            assumed_role_arn: result.assumed_role_user.arn,
            assumed_role_id: result.assumed_role_user.assumed_role_id,
            subject: result.subject,
            audience: result.audience,
            provider: result.provider,
        })
    }

    /// Calls Bedrock Runtime `InvokeModel` with a JSON model payload; returns the model's JSON.
    pub async fn invoke_model(
        &self,
        bedrock_endpoint: &str,
        region: &str,
        credentials: &Credentials,
        model_id: &str,
        body: &Value,
    ) -> Result<Value, AwsCallError> {
        self.bedrock(
            bedrock_endpoint,
            region,
            credentials,
            model_id,
            "invoke",
            body,
        )
        .await
    }

    /// Calls Bedrock Runtime `Converse`; returns the Converse response.
    pub async fn converse(
        &self,
        bedrock_endpoint: &str,
        region: &str,
        credentials: &Credentials,
        model_id: &str,
        body: &Value,
    ) -> Result<Value, AwsCallError> {
        self.bedrock(
            bedrock_endpoint,
            region,
            credentials,
            model_id,
            "converse",
            body,
        )
        .await
    }

    /// Calls Bedrock Runtime `InvokeModelWithResponseStream`; returns the model's streaming
    /// events (Anthropic's `message_start` … `message_stop` for Claude).
    pub async fn invoke_model_with_response_stream(
        &self,
        bedrock_endpoint: &str,
        region: &str,
        credentials: &Credentials,
        model_id: &str,
        body: &Value,
    ) -> Result<Vec<StreamEvent>, AwsCallError> {
        let (status, bytes) = self
            .send_bedrock(
                bedrock_endpoint,
                region,
                credentials,
                model_id,
                "invoke-with-response-stream",
                body,
            )
            .await?;
        let mut events = decode_stream(status, &bytes)?;
        for event in &mut events {
            if event.event_type != "chunk" {
                continue;
            }
            let decoded = event
                .payload
                .get("bytes")
                .and_then(Value::as_str)
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .and_then(|b| serde_json::from_slice(&b).ok())
                .ok_or_else(|| {
                    unexpected(
                        BEDROCK,
                        status,
                        "a chunk without base64 JSON `bytes`".into(),
                    )
                })?;
            event.payload = decoded;
        }
        Ok(events)
    }

    /// Calls Bedrock Runtime `ConverseStream`; returns its events (`messageStart`,
    /// `contentBlockDelta`, …, `metadata`).
    pub async fn converse_stream(
        &self,
        bedrock_endpoint: &str,
        region: &str,
        credentials: &Credentials,
        model_id: &str,
        body: &Value,
    ) -> Result<Vec<StreamEvent>, AwsCallError> {
        let (status, bytes) = self
            .send_bedrock(
                bedrock_endpoint,
                region,
                credentials,
                model_id,
                "converse-stream",
                body,
            )
            .await?;
        decode_stream(status, &bytes)
    }

    async fn bedrock(
        &self,
        endpoint: &str,
        region: &str,
        credentials: &Credentials,
        model_id: &str,
        operation: &str,
        body: &Value,
    ) -> Result<Value, AwsCallError> {
        let (status, bytes) = self
            .send_bedrock(endpoint, region, credentials, model_id, operation, body)
            .await?;
        serde_json::from_slice(&bytes)
            .map_err(|_| unexpected(BEDROCK, status, "the body is not JSON".into()))
    }

    /// Signs and sends a Bedrock call; a success's status and body, or the service's error.
    async fn send_bedrock(
        &self,
        endpoint: &str,
        region: &str,
        credentials: &Credentials,
        model_id: &str,
        operation: &str,
        body: &Value,
    ) -> Result<(u16, axum::body::Bytes), AwsCallError> {
        let url = format!(
            "{}/model/{}/{operation}",
            endpoint.trim_end_matches('/'),
            utf8_percent_encode(model_id, LABEL)
        );
        let payload = serde_json::to_vec(body).map_err(|e| transport(BEDROCK, e))?;
        let signed =
            sign_request(&url, region, "bedrock", credentials, &payload).map_err(|reason| {
                AwsCallError::Transport {
                    service: BEDROCK,
                    reason,
                }
            })?;
        let mut request = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(payload);
        for (name, value) in signed {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| transport(BEDROCK, e))?;
        let status = response.status().as_u16();
        // `x-amzn-errortype` may carry a `:<namespace>` suffix.
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(':').next().unwrap_or(v).to_string());
        let bytes = response.bytes().await.map_err(|e| transport(BEDROCK, e))?;
        if (200..300).contains(&status) {
            return Ok((status, bytes));
        }
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        let message = json
            .as_ref()
            .and_then(|j| j.get("message").or_else(|| j.get("Message")))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match error_type {
            Some(code) => Err(AwsCallError::Service {
                service: BEDROCK,
                status,
                code,
                message,
            }),
            None => Err(unexpected(
                BEDROCK,
                status,
                "an error without x-amzn-errortype".into(),
            )),
        }
    }
}

/// The `application/vnd.amazon.eventstream` messages of a streaming answer, each checked
/// (prelude and message CRC32s) by the same decoder the AWS SDKs use. An `exception` message
/// mid-stream is the service's error.
fn decode_stream(status: u16, mut bytes: &[u8]) -> Result<Vec<StreamEvent>, AwsCallError> {
    let header = |message: &aws_smithy_types::event_stream::Message, name: &str| {
        message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| h.value().as_string().ok())
            .map(|v| v.as_str().to_string())
    };
    let mut events = Vec::new();
    while !bytes.is_empty() {
        let message = aws_smithy_eventstream::frame::read_message_from(&mut bytes)
            .map_err(|e| unexpected(BEDROCK, status, format!("a broken event stream: {e}")))?;
        let payload: Value = serde_json::from_slice(message.payload()).map_err(|_| {
            unexpected(BEDROCK, status, "an event whose payload is not JSON".into())
        })?;
        match header(&message, ":message-type").as_deref() {
            Some("event") => events.push(StreamEvent {
                event_type: header(&message, ":event-type").unwrap_or_default(),
                payload,
            }),
            Some("exception") => {
                return Err(AwsCallError::Service {
                    service: BEDROCK,
                    status,
                    code: header(&message, ":exception-type").unwrap_or_default(),
                    message: payload["message"].as_str().unwrap_or_default().to_string(),
                })
            }
            other => {
                return Err(unexpected(
                    BEDROCK,
                    status,
                    format!("an event stream message of type {other:?}"),
                ))
            }
        }
    }
    Ok(events)
}

/// The SigV4 headers (`authorization`, `x-amz-date`, `x-amz-security-token`) for a JSON POST,
/// computed by the official signer (tests sign for other services to reproduce mistakes).
pub(super) fn sign_request(
    url: &str,
    region: &str,
    service: &str,
    credentials: &Credentials,
    payload: &[u8],
) -> Result<Vec<(String, String)>, String> {
    let identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        credentials.secret_access_key.expose(),
        Some(credentials.session_token.expose().to_string()),
        Some(SystemTime::from(credentials.expiration)),
        "ssoproof",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign: {e}"))?
        .into();
    let headers = [
        ("content-type", "application/json"),
        ("accept", "application/json"),
    ];
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.into_iter(),
        SignableBody::Bytes(payload),
    )
    .map_err(|e| format!("cannot sign {url}: {e}"))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| format!("cannot sign: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect())
}

fn transport(service: &'static str, error: impl std::fmt::Display) -> AwsCallError {
    AwsCallError::Transport {
        service,
        reason: error.to_string(),
    }
}

fn unexpected(service: &'static str, status: u16, reason: String) -> AwsCallError {
    AwsCallError::Unexpected {
        service,
        status,
        reason,
    }
}

#[derive(Deserialize)]
struct StsErrorXml {
    #[serde(rename = "Error")]
    error: StsErrorBody,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsErrorBody {
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct StsSuccessXml {
    #[serde(rename = "AssumeRoleWithWebIdentityResult")]
    result: StsResultXml,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsResultXml {
    #[serde(rename = "SubjectFromWebIdentityToken", default)]
    subject: String,
    #[serde(default)]
    audience: String,
    assumed_role_user: AssumedRoleUserXml,
    credentials: CredentialsXml,
    #[serde(default)]
    provider: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumedRoleUserXml {
    arn: String,
    assumed_role_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CredentialsXml {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: String,
}
