//! Bedrock Runtime `InvokeModel` (`POST /model/{modelId}/invoke`), `Converse`
//! (`POST /model/{modelId}/converse`) and their streaming twins `InvokeModelWithResponseStream`
//! (`…/invoke-with-response-stream`) and `ConverseStream` (`…/converse-stream`), answering
//! with canned model output once the request is authenticated (SigV4 with temporary
//! credentials from the STS emulator) and authorized by the assumed role's permission
//! policies, narrowed by its session policy if any.
//!
//! `InvokeModel` and `Converse` authorize as `bedrock:InvokeModel`: IAM has no
//! `bedrock:Converse` action (the Converse API reference: "This operation requires permission
//! for the bedrock:InvokeModel action"); both streaming operations authorize as
//! `bedrock:InvokeModelWithResponseStream`. Streams are `application/vnd.amazon.eventstream`
//! messages (`:message-type` `event`, `:event-type`, `:content-type` `application/json`):
//! `InvokeModelWithResponseStream` sends `chunk` events whose `bytes` hold the base64 of each
//! Anthropic streaming event; `ConverseStream` sends `messageStart`, `contentBlockDelta`,
//! `contentBlockStop`, `messageStop` and `metadata`. A request refused before streaming starts
//! gets the plain JSON error, as from Bedrock. The resource is the model's ARN: a foundation model
//! `arn:aws:bedrock:<region>::foundation-model/<id>`, a cross-region inference profile
//! (`us.…`, `eu.…`) `arn:aws:bedrock:<region>:<account>:inference-profile/<id>` (real AWS also
//! checks the foundation model in each destination region; the emulator does not), or the ARN
//! given as the model id. Only Anthropic models answer; others are "invalid model
//! identifiers" once authorized.
//!
//! Errors are JSON `{"message": …}` with the type in `x-amzn-errortype`.

use std::sync::Arc;

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::emulator::Shared;
use super::policy::{evaluate_all, Context, Decision, Request};
use super::sessions::Session;
use super::sigv4::{self, AuthError, Received, Scope};

const MALFORMED: &str = "Malformed input request, please reformat your input and try again.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Invoke,
    Converse,
    InvokeStream,
    ConverseStream,
}

impl Operation {
    /// The IAM action the operation is authorized as.
    fn action(self) -> &'static str {
        match self {
            Operation::Invoke | Operation::Converse => "bedrock:InvokeModel",
            Operation::InvokeStream | Operation::ConverseStream => {
                "bedrock:InvokeModelWithResponseStream"
            }
        }
    }
}

/// A Bedrock error answer.
#[derive(Debug)]
struct Fault {
    status: StatusCode,
    error_type: &'static str,
    message: String,
}

impl Fault {
    fn validation(message: impl Into<String>) -> Fault {
        Fault {
            status: StatusCode::BAD_REQUEST,
            error_type: "ValidationException",
            message: message.into(),
        }
    }
}

impl From<AuthError> for Fault {
    fn from(error: AuthError) -> Fault {
        Fault {
            status: StatusCode::FORBIDDEN,
            error_type: error.error_type(),
            message: error.message(),
        }
    }
}

/// The axum handler for `operation`.
pub(crate) async fn serve(
    operation: Operation,
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(handle(
        &shared,
        operation,
        &Received {
            method: &method,
            uri: &uri,
            headers: &headers,
            body: &body,
        },
    ))
}

/// Any other path or method.
pub(crate) async fn unknown_operation() -> Response {
    respond(Err(Fault {
        status: StatusCode::NOT_FOUND,
        error_type: "UnknownOperationException",
        message: "The emulator serves STS at / and Bedrock Runtime at POST /model/{modelId}/invoke, /converse, /invoke-with-response-stream and /converse-stream".into(),
    }))
}

/// A successful answer: a JSON document, or an event stream already framed.
enum Answer {
    Json(Value),
    Stream(Vec<u8>),
}

fn respond(result: Result<(Answer, usize, usize), Fault>) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let request_id_header = (HeaderName::from_static("x-amzn-requestid"), request_id);
    match result {
        Ok((Answer::Json(body), input_tokens, output_tokens)) => (
            [
                request_id_header,
                (
                    HeaderName::from_static("x-amzn-bedrock-input-token-count"),
                    input_tokens.to_string(),
                ),
                (
                    HeaderName::from_static("x-amzn-bedrock-output-token-count"),
                    output_tokens.to_string(),
                ),
                (
                    HeaderName::from_static("x-amzn-bedrock-invocation-latency"),
                    "1".to_string(),
                ),
            ],
            Json(body),
        )
            .into_response(),
        // Token counts travel inside the stream (Anthropic's invocation metrics, Converse's
        // `metadata` event), not in headers.
        Ok((Answer::Stream(frames), _, _)) => (
            [
                request_id_header,
                (
                    HeaderName::from_static("content-type"),
                    EVENT_STREAM.to_string(),
                ),
                (
                    HeaderName::from_static("x-amzn-bedrock-content-type"),
                    "application/json".to_string(),
                ),
            ],
            frames,
        )
            .into_response(),
        Err(fault) => (
            fault.status,
            [
                request_id_header,
                (
                    HeaderName::from_static("x-amzn-errortype"),
                    fault.error_type.to_string(),
                ),
            ],
            Json(json!({ "message": fault.message })),
        )
            .into_response(),
    }
}

/// Authenticates, authorizes and answers; the `Ok` value carries the body and token counts.
fn handle(
    shared: &Shared,
    operation: Operation,
    request: &Received,
) -> Result<(Answer, usize, usize), Fault> {
    let config = &shared.config;
    let scope = Scope {
        region: &config.region,
        service: "bedrock",
    };
    let session = sigv4::verify(request, &scope, &shared.sessions, shared.clock.now())?;
    let model_id = model_id(request.uri.path())?;
    let resource = model_arn(&model_id, &config.region, &config.account_id);
    authorize(shared, &session, operation.action(), &resource)?;
    if !is_anthropic(&model_id) {
        return Err(Fault::validation(
            "The provided model identifier is invalid.",
        ));
    }
    let body: Value =
        serde_json::from_slice(request.body).map_err(|_| Fault::validation(MALFORMED))?;
    let reply = format!(
        "Hello from the ssoproof Bedrock emulator: {model_id} answered {}.",
        session.assumed_role_arn
    );
    let input_tokens = request.body.len().div_ceil(4);
    let output_tokens = reply.split_whitespace().count();
    let answer = match operation {
        Operation::Invoke => Answer::Json(anthropic_messages(
            &body,
            &model_id,
            &reply,
            input_tokens,
            output_tokens,
        )?),
        Operation::Converse => {
            Answer::Json(converse_output(&body, &reply, input_tokens, output_tokens)?)
        }
        Operation::InvokeStream => {
            let message =
                anthropic_messages(&body, &model_id, &reply, input_tokens, output_tokens)?;
            Answer::Stream(event_stream(anthropic_stream_events(&message, &reply))?)
        }
        Operation::ConverseStream => {
            converse_output(&body, &reply, input_tokens, output_tokens)?;
            Answer::Stream(event_stream(converse_stream_events(
                &reply,
                input_tokens,
                output_tokens,
            ))?)
        }
    };
    Ok((answer, input_tokens, output_tokens))
}

/// The percent-decoded `{modelId}` of `/model/{modelId}/…`.
fn model_id(raw_path: &str) -> Result<String, Fault> {
    let segment = raw_path
        .strip_prefix("/model/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let id = percent_decode_str(segment)
        .decode_utf8()
        .map_err(|_| Fault::validation("The provided model identifier is invalid."))?
        .into_owned();
    // The router never matches an empty segment, so only the upper bound can fail here.
    if id.chars().count() > 2048 {
        return Err(Fault::validation(format!(
            "1 validation error detected: Value '{id}' at 'modelId' failed to satisfy constraint: Member must have length less than or equal to 2048"
        )));
    }
    Ok(id)
}

/// Cross-region inference profile prefixes.
const PROFILE_PREFIXES: [&str; 7] = ["us.", "us-gov.", "eu.", "apac.", "jp.", "au.", "global."];

fn model_arn(model_id: &str, region: &str, account_id: &str) -> String {
    if model_id.starts_with("arn:") {
        model_id.to_string()
    } else if PROFILE_PREFIXES.iter().any(|p| model_id.starts_with(p)) {
        format!("arn:aws:bedrock:{region}:{account_id}:inference-profile/{model_id}")
    } else {
        format!("arn:aws:bedrock:{region}::foundation-model/{model_id}")
    }
}

fn is_anthropic(model_id: &str) -> bool {
    let name = model_id.rsplit('/').next().unwrap_or(model_id);
    let name = PROFILE_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    name.starts_with("anthropic.")
}

/// The role's permission policies decide, then the session policy narrows; the message names
/// which policy type refused, as IAM's does.
fn authorize(
    shared: &Shared,
    session: &Session,
    action: &str,
    resource: &str,
) -> Result<(), Fault> {
    let context = Context::new();
    let request = Request {
        principal: None,
        action,
        resource: Some(resource),
        context: &context,
    };
    let role_policies = shared
        .config
        .role(&session.role_name)
        .map(|r| r.permission_policies.as_slice())
        .unwrap_or_default();
    let refusal = match evaluate_all(role_policies, &request) {
        Decision::ExplicitDeny => {
            Some("with an explicit deny in an identity-based policy".to_string())
        }
        Decision::ImplicitDeny => Some(format!(
            "because no identity-based policy allows the {action} action"
        )),
        Decision::Allow => match session
            .session_policy
            .as_ref()
            .map(|p| p.evaluate(&request))
        {
            Some(Decision::ExplicitDeny) => {
                Some("with an explicit deny in a session policy".to_string())
            }
            Some(Decision::ImplicitDeny) => Some(format!(
                "because no session policy allows the {action} action"
            )),
            Some(Decision::Allow) | None => None,
        },
    };
    match refusal {
        None => Ok(()),
        Some(reason) => Err(Fault {
            status: StatusCode::FORBIDDEN,
            error_type: "AccessDeniedException",
            message: format!(
                "User: {} is not authorized to perform: {action} on resource: {resource} {reason}",
                session.assumed_role_arn
            ),
        }),
    }
}

/// An Anthropic Messages API answer, after the checks Bedrock makes on the request body.
fn anthropic_messages(
    body: &Value,
    model_id: &str,
    reply: &str,
    input_tokens: usize,
    output_tokens: usize,
) -> Result<Value, Fault> {
    if !body.is_object() {
        return Err(Fault::validation(MALFORMED));
    }
    for key in ["anthropic_version", "max_tokens", "messages"] {
        if body.get(key).is_none() {
            return Err(Fault::validation(format!(
                "Malformed input request: #: required key [{key}] not found, please reformat your input and try again."
            )));
        }
    }
    let model = model_id.rsplit('/').next().unwrap_or(model_id);
    let model = model.split_once("anthropic.").map_or(model, |(_, m)| m);
    let model = model.split_once("-v").map_or(model, |(m, _)| m);
    Ok(json!({
        "id": format!("msg_bdrk_{}", uuid::Uuid::new_v4().simple()),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": reply}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }))
}

/// A Converse answer; the conversation must start with a user message.
fn converse_output(
    body: &Value,
    reply: &str,
    input_tokens: usize,
    output_tokens: usize,
) -> Result<Value, Fault> {
    let first_role = body
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.first())
        .and_then(|m| m.get("role"));
    if first_role.and_then(Value::as_str) != Some("user") {
        return Err(Fault::validation(
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        ));
    }
    Ok(json!({
        "output": {"message": {"role": "assistant", "content": [{"text": reply}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens, "totalTokens": input_tokens + output_tokens},
        "metrics": {"latencyMs": 1},
    }))
}

/// The media type of Bedrock's streaming answers.
const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// The reply cut into a few deltas, as a model streams it: words with their trailing space.
fn deltas(reply: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = reply;
    while !rest.is_empty() {
        let cut = rest
            .char_indices()
            .filter(|(_, c)| *c == ' ')
            .nth(3)
            .map_or(rest.len(), |(i, _)| i + 1);
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

/// Anthropic's Messages streaming events for a complete `message` (as `anthropic_messages`
/// builds it), each a `chunk` event of InvokeModelWithResponseStream; the last carries
/// Bedrock's `amazon-bedrock-invocationMetrics`.
fn anthropic_stream_events(message: &Value, reply: &str) -> Vec<(&'static str, Value)> {
    let usage = &message["usage"];
    let mut start = message.clone();
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    start["usage"] = json!({"input_tokens": usage["input_tokens"], "output_tokens": 1});
    let mut events = vec![
        json!({"type": "message_start", "message": start}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ];
    events.extend(deltas(reply).into_iter().map(|text| {
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}})
    }));
    events.extend([
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
               "usage": {"output_tokens": usage["output_tokens"]}}),
        json!({"type": "message_stop", "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": usage["input_tokens"], "outputTokenCount": usage["output_tokens"],
            "invocationLatency": 1, "firstByteLatency": 1}}),
    ]);
    let base64 = base64::engine::general_purpose::STANDARD;
    events
        .into_iter()
        .map(|event| {
            let bytes = base64.encode(event.to_string());
            ("chunk", json!({ "bytes": bytes }))
        })
        .collect()
}

/// ConverseStream's events for `reply`.
fn converse_stream_events(
    reply: &str,
    input_tokens: usize,
    output_tokens: usize,
) -> Vec<(&'static str, Value)> {
    let mut events = vec![("messageStart", json!({"role": "assistant"}))];
    events.extend(deltas(reply).into_iter().map(|text| {
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": text}}),
        )
    }));
    events.extend([
        ("contentBlockStop", json!({"contentBlockIndex": 0})),
        ("messageStop", json!({"stopReason": "end_turn"})),
        (
            "metadata",
            json!({"usage": {"inputTokens": input_tokens, "outputTokens": output_tokens,
                             "totalTokens": input_tokens + output_tokens},
                   "metrics": {"latencyMs": 1}}),
        ),
    ]);
    events
}

/// The events framed as `application/vnd.amazon.eventstream` messages, one after the other.
fn event_stream(events: Vec<(&'static str, Value)>) -> Result<Vec<u8>, Fault> {
    let mut frames = Vec::new();
    for (event_type, payload) in events {
        let message = Message::new(payload.to_string().into_bytes())
            .add_header(Header::new(
                ":event-type",
                HeaderValue::String(event_type.into()),
            ))
            .add_header(Header::new(
                ":content-type",
                HeaderValue::String("application/json".into()),
            ))
            .add_header(Header::new(
                ":message-type",
                HeaderValue::String("event".into()),
            ));
        // Only a payload over 16 MiB or headers over 128 KiB fail to frame; ours are canned.
        aws_smithy_eventstream::frame::write_message_to(&message, &mut frames).map_err(|e| {
            Fault {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                error_type: "InternalServerException",
                message: format!("cannot frame the {event_type} event: {e}"),
            }
        })?;
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_and_arns() {
        assert_eq!(
            model_id("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke").unwrap(),
            "anthropic.claude-3-5-sonnet-20240620-v1:0"
        );
        assert!(model_id("/model/%FF/invoke").is_err());
        assert_eq!(
            model_arn(
                "anthropic.claude-3-haiku-20240307-v1:0",
                "us-east-1",
                "123456789012"
            ),
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
        );
        assert_eq!(
            model_arn("us.anthropic.claude-3-haiku-20240307-v1:0", "us-east-1", "123456789012"),
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"
        );
        assert!(is_anthropic("us.anthropic.claude-x"));
        assert!(is_anthropic(
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-x"
        ));
        assert!(!is_anthropic("amazon.titan-text-express-v1"));
    }

    #[test]
    fn body_checks() {
        let err = anthropic_messages(
            &json!({"anthropic_version": "bedrock-2023-05-31", "messages": []}),
            "anthropic.claude-x-v1:0",
            "r",
            1,
            1,
        )
        .unwrap_err();
        assert_eq!(err.message, "Malformed input request: #: required key [max_tokens] not found, please reformat your input and try again.");
        let ok = anthropic_messages(
            &json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": []}),
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "r",
            1,
            1,
        )
        .unwrap();
        assert_eq!(ok["model"], "claude-3-5-sonnet-20240620");
        assert!(converse_output(
            &json!({"messages": [{"role": "assistant", "content": []}]}),
            "r",
            1,
            1
        )
        .is_err());
        assert!(converse_output(&json!({}), "r", 1, 1).is_err());
        assert_eq!(
            converse_output(
                &json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}),
                "r",
                1,
                2
            )
            .unwrap()["usage"]["totalTokens"],
            3
        );
    }
}
