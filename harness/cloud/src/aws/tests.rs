//! End to end: a test issuer's token → STS → signed Bedrock calls, over real HTTP, with the
//! failure modes runbooks describe.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::client::sign_request;
use super::*;
use crate::placeholders;
use crate::test_issuer::TestIssuer;
use ssoproof_secret::Secret;

const ACCOUNT: &str = "123456789012";
const SONNET: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";
const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

struct Lab {
    issuer: TestIssuer,
    aws: AwsEmulator,
    client: AwsClient,
}

impl Lab {
    /// The shipped fixture, trusting a fresh test issuer.
    async fn fixture(mode: Mode) -> Lab {
        let issuer = TestIssuer::start().await.unwrap();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cloud/aws.yaml");
        let config = AwsConfig::load_with_issuer(&path, issuer.issuer()).unwrap();
        Lab::start(issuer, config, mode).await
    }

    /// A configuration text using `${IDP_ISSUER}` placeholders.
    async fn with(text: &str) -> Lab {
        let issuer = TestIssuer::start().await.unwrap();
        let config = AwsConfig::parse(
            text,
            Path::new("test.yaml"),
            &placeholders::idp_issuer(issuer.issuer()),
        )
        .unwrap();
        Lab::start(issuer, config, Mode::Lab).await
    }

    async fn start(issuer: TestIssuer, config: AwsConfig, mode: Mode) -> Lab {
        let aws = AwsEmulator::start(
            config,
            AwsOptions {
                mode,
                ..AwsOptions::default()
            },
        )
        .await
        .unwrap();
        Lab {
            issuer,
            aws,
            client: AwsClient::new(),
        }
    }

    fn token(&self) -> String {
        self.issuer
            .token(json!({"aud": "acme-app", "sub": "user-1", "email": "alice@acme.test"}))
    }

    async fn assume(&self, role: &str, token: String) -> Result<AssumedRole, AwsCallError> {
        self.assume_with(role, token, None, None).await
    }

    async fn assume_with(
        &self,
        role: &str,
        token: String,
        duration: Option<u32>,
        policy: Option<&str>,
    ) -> Result<AssumedRole, AwsCallError> {
        let request = AssumeRoleRequest {
            role_arn: role_arn(role),
            session_name: "alice@acme.test".into(),
            web_identity_token: Secret::new(token),
            duration_seconds: duration,
            policy: policy.map(str::to_string),
        };
        self.client
            .assume_role_with_web_identity(&self.aws.sts_endpoint(), &request)
            .await
    }

    async fn invoke(&self, credentials: &Credentials, model: &str) -> Result<Value, AwsCallError> {
        let body = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]});
        self.client
            .invoke_model(
                &self.aws.bedrock_endpoint(),
                "us-east-1",
                credentials,
                model,
                &body,
            )
            .await
    }
}

fn service_error(result: Result<impl std::fmt::Debug, AwsCallError>) -> (u16, String, String) {
    match result.unwrap_err() {
        AwsCallError::Service {
            status,
            code,
            message,
            ..
        } => (status, code, message),
        other => panic!("not a service error: {other}"),
    }
}

#[tokio::test]
async fn token_to_credentials_to_claude() {
    let lab = Lab::fixture(Mode::Lab).await;
    let assumed = lab.assume("BedrockUser", lab.token()).await.unwrap();
    assert_eq!(
        assumed.assumed_role_arn,
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/BedrockUser/alice@acme.test")
    );
    assert!(
        assumed.assumed_role_id.starts_with("AROA")
            && assumed.assumed_role_id.ends_with(":alice@acme.test")
    );
    assert_eq!(
        (assumed.subject.as_str(), assumed.audience.as_str()),
        ("user-1", "acme-app")
    );
    assert_eq!(assumed.provider, lab.issuer.issuer());
    let credentials = &assumed.credentials;
    assert!(credentials.access_key_id.starts_with("ASIA"));
    let lifetime = credentials.expiration - time::OffsetDateTime::now_utc();
    assert!(
        lifetime > time::Duration::minutes(59) && lifetime <= time::Duration::minutes(60),
        "{lifetime}"
    );

    // The model id's `:` travels as %3A and is signed double-encoded.
    let answer = lab.invoke(credentials, SONNET).await.unwrap();
    assert_eq!(answer["type"], "message");
    assert_eq!(answer["model"], "claude-3-5-sonnet-20240620");
    assert!(answer["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("assumed-role/BedrockUser/alice@acme.test"));

    let conversation = json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]});
    let answer = lab
        .client
        .converse(
            &lab.aws.bedrock_endpoint(),
            "us-east-1",
            credentials,
            SONNET,
            &conversation,
        )
        .await
        .unwrap();
    assert_eq!(answer["stopReason"], "end_turn");
    assert_eq!(answer["output"]["message"]["role"], "assistant");
}

#[tokio::test]
async fn issuer_audience_signature_and_expiry_are_checked() {
    let lab = Lab::fixture(Mode::Lab).await;
    let stranger = TestIssuer::start().await.unwrap();
    let (status, code, message) = service_error(
        lab.assume("BedrockUser", stranger.token(json!({"aud": "acme-app"})))
            .await,
    );
    assert_eq!((status, code.as_str()), (400, "InvalidIdentityToken"));
    assert_eq!(
        message,
        format!(
            "No OpenIDConnect provider found in your account for {}",
            stranger.issuer()
        )
    );

    // The INI trap: an issuer written with a trailing `/#` never matches.
    let hashed = lab
        .issuer
        .token(json!({"aud": "acme-app", "iss": format!("{}/#", lab.issuer.issuer())}));
    let (_, code, message) = service_error(lab.assume("BedrockUser", hashed).await);
    assert_eq!(code, "InvalidIdentityToken");
    assert!(
        message.starts_with("No OpenIDConnect provider found"),
        "{message}"
    );

    let (status, code, message) = service_error(
        lab.assume("BedrockUser", lab.issuer.token(json!({"aud": "other-app"})))
            .await,
    );
    assert_eq!(
        (status, code.as_str(), message.as_str()),
        (400, "InvalidIdentityToken", "Incorrect token audience")
    );

    let (_, code, message) = service_error(
        lab.assume(
            "BedrockUser",
            lab.issuer.forged_token(json!({"aud": "acme-app"})),
        )
        .await,
    );
    assert_eq!(code, "InvalidIdentityToken");
    assert!(message.contains("signature"), "{message}");

    let (_, code, message) = service_error(lab.assume("BedrockUser", "not-a-jwt".into()).await);
    assert_eq!(code, "InvalidIdentityToken");
    assert!(
        message.starts_with("The ID Token provided is not a valid JWT"),
        "{message}"
    );

    let past = time::OffsetDateTime::now_utc().unix_timestamp() - 60;
    let (status, code, message) = service_error(
        lab.assume(
            "BedrockUser",
            lab.issuer.token(json!({"aud": "acme-app", "exp": past})),
        )
        .await,
    );
    assert_eq!((status, code.as_str()), (400, "ExpiredTokenException"));
    assert!(
        message.starts_with("Token expired: current date/time ")
            && message.ends_with(&format!("must be before the expiration date/time {past}")),
        "{message}"
    );
}

#[tokio::test]
async fn keys_that_cannot_be_fetched() {
    // Realistic mode: real STS fetches keys from AWS's side and never reaches a loopback issuer.
    let lab = Lab::fixture(Mode::Realistic).await;
    let (status, code, message) = service_error(lab.assume("BedrockUser", lab.token()).await);
    assert_eq!((status, code.as_str()), (400, "InvalidIdentityToken"));
    assert_eq!(
        message,
        "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"
    );

    // Lab mode, but the IdP is down.
    let lab = Lab::fixture(Mode::Lab).await;
    let token = lab.token();
    let Lab {
        issuer,
        aws,
        client,
    } = lab;
    drop(issuer);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let request = AssumeRoleRequest {
        role_arn: role_arn("BedrockUser"),
        session_name: "alice".into(),
        web_identity_token: Secret::new(token),
        duration_seconds: None,
        policy: None,
    };
    let (_, code, message) = service_error(
        client
            .assume_role_with_web_identity(&aws.sts_endpoint(), &request)
            .await,
    );
    assert_eq!(code, "InvalidIdentityToken");
    assert!(
        message.starts_with("Couldn't retrieve verification key"),
        "{message}"
    );
}

const STRICT: &str = r#"account_id: "123456789012"
region: us-east-1
oidc_providers:
  - url: "${IDP_ISSUER}"
    client_ids: [acme-app, other-app]
roles:
  - name: Engineers
    max_session_duration: 7200
    trust_policy: |
      {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/${IDP_ISSUER_HOST_PATH}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"${IDP_ISSUER_HOST_PATH}:aud": "acme-app"},
                      "StringLike": {"${IDP_ISSUER_HOST_PATH}:sub": "user-*"},
                      "ForAnyValue:StringEquals": {"${IDP_ISSUER_HOST_PATH}:amr": "mfa"}}}]}
    permission_policies:
      - '{"Statement": {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}}'
      - '{"Statement": {"Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": "arn:aws:bedrock:*::foundation-model/anthropic.claude-3-opus*"}}'
  - name: WrongAccount
    trust_policy: |
      {"Statement": {"Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::999999999999:oidc-provider/${IDP_ISSUER_HOST_PATH}"},
        "Action": "sts:AssumeRoleWithWebIdentity"}}
"#;

#[tokio::test]
async fn trust_policies_decide_who_assumes() {
    let lab = Lab::with(STRICT).await;
    let token = |claims: Value| lab.issuer.token(claims);
    let good = json!({"aud": "acme-app", "sub": "user-7", "amr": ["pwd", "mfa"]});
    lab.assume("Engineers", token(good.clone())).await.unwrap();

    let denied = [
        json!({"aud": "other-app", "sub": "user-7", "amr": ["mfa"]}),
        json!({"aud": "acme-app", "sub": "admin-7", "amr": ["mfa"]}),
        json!({"aud": "acme-app", "sub": "user-7", "amr": ["pwd"]}),
        json!({"aud": "acme-app", "sub": "user-7"}),
    ];
    for claims in denied {
        let (status, code, message) =
            service_error(lab.assume("Engineers", token(claims.clone())).await);
        assert_eq!(
            (status, code.as_str(), message.as_str()),
            (
                403,
                "AccessDenied",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity"
            ),
            "{claims}"
        );
    }
    // A missing role and a trust policy naming another account's provider look the same.
    for role in ["NoSuchRole", "WrongAccount"] {
        let (status, code, _) = service_error(lab.assume(role, token(good.clone())).await);
        assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{role}");
    }
    let request = AssumeRoleRequest {
        role_arn: "arn:aws:iam::999999999999:role/Engineers".into(),
        session_name: "alice".into(),
        web_identity_token: Secret::new(token(good.clone())),
        duration_seconds: None,
        policy: None,
    };
    assert_eq!(
        service_error(
            lab.client
                .assume_role_with_web_identity(&lab.aws.sts_endpoint(), &request)
                .await
        )
        .1,
        "AccessDenied"
    );

    lab.assume_with("Engineers", token(good.clone()), Some(7200), None)
        .await
        .unwrap();
    let (status, code, message) = service_error(
        lab.assume_with("Engineers", token(good.clone()), Some(7201), None)
            .await,
    );
    assert_eq!((status, code.as_str()), (400, "ValidationError"));
    assert_eq!(
        message,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    );
}

#[tokio::test]
async fn both_streaming_operations_answer_in_event_stream_framing() {
    let lab = Lab::fixture(Mode::Lab).await;
    let credentials = lab
        .assume("BedrockUser", lab.token())
        .await
        .unwrap()
        .credentials;
    let endpoint = lab.aws.bedrock_endpoint();
    let anthropic = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
                           "messages": [{"role": "user", "content": "hi"}]});
    let events = lab
        .client
        .invoke_model_with_response_stream(&endpoint, "us-east-1", &credentials, SONNET, &anthropic)
        .await
        .unwrap();
    assert!(events.iter().all(|e| e.event_type == "chunk"), "{events:?}");
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e.payload["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[..2], ["message_start", "content_block_start"]);
    assert_eq!(
        kinds[kinds.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    let text: String = events
        .iter()
        .filter(|e| e.payload["type"] == "content_block_delta")
        .map(|e| e.payload["delta"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        text,
        format!("Hello from the ssoproof Bedrock emulator: {SONNET} answered arn:aws:sts::{ACCOUNT}:assumed-role/BedrockUser/alice@acme.test.")
    );
    assert!(
        kinds
            .iter()
            .filter(|k| **k == "content_block_delta")
            .count()
            > 1
    );
    assert_eq!(
        events[0].payload["message"]["model"],
        "claude-3-5-sonnet-20240620"
    );
    assert!(
        events.last().unwrap().payload["amazon-bedrock-invocationMetrics"]["outputTokenCount"]
            .is_u64()
    );

    let conversation = json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]});
    let events = lab
        .client
        .converse_stream(&endpoint, "us-east-1", &credentials, SONNET, &conversation)
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds[0], "messageStart");
    assert_eq!(
        kinds[kinds.len() - 3..],
        ["contentBlockStop", "messageStop", "metadata"]
    );
    assert!(kinds[1..kinds.len() - 3]
        .iter()
        .all(|k| *k == "contentBlockDelta"));
    assert_eq!(events[0].payload, json!({"role": "assistant"}));
    assert_eq!(
        events[kinds.len() - 2].payload,
        json!({"stopReason": "end_turn"})
    );
    let usage = &events.last().unwrap().payload["usage"];
    assert_eq!(
        usage["totalTokens"].as_u64(),
        Some(usage["inputTokens"].as_u64().unwrap() + usage["outputTokens"].as_u64().unwrap())
    );
    // The body checks still run before anything streams.
    let (status, code, _) = service_error(
        lab.client
            .converse_stream(&endpoint, "us-east-1", &credentials, SONNET, &json!({}))
            .await,
    );
    assert_eq!((status, code.as_str()), (400, "ValidationException"));

    // On the wire: the media type, and frames whose prelude holds the total and headers
    // lengths and whose headers are Bedrock's three.
    let url =
        format!("{endpoint}/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream");
    let body = serde_json::to_vec(&conversation).unwrap();
    let mut request = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.clone());
    for (name, value) in sign_request(&url, "us-east-1", "bedrock", &credentials, &body).unwrap() {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.amazon.eventstream"
    );
    let bytes = response.bytes().await.unwrap();
    let total = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    let headers_len = u32::from_be_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let first = aws_smithy_eventstream::frame::read_message_from(&bytes[..total]).unwrap();
    assert_eq!(total, 12 + headers_len + first.payload().len() + 4);
    let names: Vec<(&str, &str)> = first
        .headers()
        .iter()
        .map(|h| (h.name().as_str(), h.value().as_string().unwrap().as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (":event-type", "messageStart"),
            (":content-type", "application/json"),
            (":message-type", "event")
        ]
    );
    // A flipped payload byte breaks the message CRC.
    let mut corrupt = bytes[..total].to_vec();
    corrupt[total - 5] ^= 1;
    assert!(aws_smithy_eventstream::frame::read_message_from(&corrupt[..]).is_err());
}

#[tokio::test]
async fn streaming_needs_invoke_model_with_response_stream() {
    let lab = Lab::fixture(Mode::Lab).await;
    // HaikuOnly is allowed bedrock:InvokeModel on Haiku, and nothing else.
    let haiku_only = lab
        .assume("HaikuOnly", lab.token())
        .await
        .unwrap()
        .credentials;
    let conversation = json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]});
    let (status, code, message) = service_error(
        lab.client
            .converse_stream(
                &lab.aws.bedrock_endpoint(),
                "us-east-1",
                &haiku_only,
                HAIKU,
                &conversation,
            )
            .await,
    );
    assert_eq!((status, code.as_str()), (403, "AccessDeniedException"));
    assert_eq!(
        message,
        format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/HaikuOnly/alice@acme.test is not authorized to perform: bedrock:InvokeModelWithResponseStream \
             on resource: arn:aws:bedrock:us-east-1::foundation-model/{HAIKU} because no identity-based policy allows the bedrock:InvokeModelWithResponseStream action"
        )
    );
    let anthropic =
        json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 8, "messages": []});
    let denied = lab
        .client
        .invoke_model_with_response_stream(
            &lab.aws.bedrock_endpoint(),
            "us-east-1",
            &haiku_only,
            HAIKU,
            &anthropic,
        )
        .await;
    assert_eq!(service_error(denied).1, "AccessDeniedException");
    // The same credentials still invoke Haiku without streaming.
    lab.invoke(&haiku_only, HAIKU).await.unwrap();
}

#[tokio::test]
async fn permission_and_session_policies_decide_what_bedrock_allows() {
    let lab = Lab::fixture(Mode::Lab).await;
    let haiku_only = lab.assume("HaikuOnly", lab.token()).await.unwrap();
    lab.invoke(&haiku_only.credentials, HAIKU).await.unwrap();
    let (status, code, message) = service_error(lab.invoke(&haiku_only.credentials, SONNET).await);
    assert_eq!((status, code.as_str()), (403, "AccessDeniedException"));
    assert_eq!(
        message,
        format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/HaikuOnly/alice@acme.test is not authorized to perform: bedrock:InvokeModel \
             on resource: arn:aws:bedrock:us-east-1::foundation-model/{SONNET} because no identity-based policy allows the bedrock:InvokeModel action"
        )
    );
    // Converse authorizes as bedrock:InvokeModel too.
    let conversation = json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]});
    let denied = lab
        .client
        .converse(
            &lab.aws.bedrock_endpoint(),
            "us-east-1",
            &haiku_only.credentials,
            SONNET,
            &conversation,
        )
        .await;
    assert_eq!(service_error(denied).1, "AccessDeniedException");

    // A session policy narrows the role.
    let session_policy = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-*"}]}"#;
    let narrowed = lab
        .assume_with("BedrockUser", lab.token(), None, Some(session_policy))
        .await
        .unwrap();
    lab.invoke(&narrowed.credentials, HAIKU).await.unwrap();
    let (_, code, message) = service_error(lab.invoke(&narrowed.credentials, SONNET).await);
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.ends_with("because no session policy allows the bedrock:InvokeModel action"),
        "{message}"
    );
    let (status, code, _) = service_error(
        lab.assume_with("BedrockUser", lab.token(), None, Some(r#"{"Statement": "#))
            .await,
    );
    assert_eq!((status, code.as_str()), (400, "MalformedPolicyDocument"));

    // Explicit deny wins over bedrock:*.
    let lab = Lab::with(STRICT).await;
    let engineer = lab
        .assume(
            "Engineers",
            lab.issuer
                .token(json!({"aud": "acme-app", "sub": "user-7", "amr": "mfa"})),
        )
        .await
        .unwrap();
    lab.invoke(&engineer.credentials, SONNET).await.unwrap();
    let (_, code, message) = service_error(
        lab.invoke(
            &engineer.credentials,
            "anthropic.claude-3-opus-20240229-v1:0",
        )
        .await,
    );
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.ends_with("with an explicit deny in an identity-based policy"),
        "{message}"
    );
    // Authorized but not a model the emulator answers.
    let (status, code, _) = service_error(
        lab.invoke(&engineer.credentials, "amazon.titan-text-express-v1")
            .await,
    );
    assert_eq!((status, code.as_str()), (400, "ValidationException"));
}

/// Sends a hand-signed Bedrock InvokeModel request; `tamper` edits the headers after signing.
async fn raw_invoke(
    sign_url: &str,
    send_url: &str,
    service: &str,
    credentials: &Credentials,
    tamper: impl FnOnce(&mut Vec<(String, String)>),
) -> (u16, String, String) {
    let body = br#"{"anthropic_version": "bedrock-2023-05-31", "max_tokens": 8, "messages": []}"#;
    let mut headers = sign_request(sign_url, "us-east-1", service, credentials, body).unwrap();
    tamper(&mut headers);
    let mut request = reqwest::Client::new()
        .post(send_url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body: Value = response.json().await.unwrap();
    (
        status,
        error_type,
        body["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn sigv4_mistakes_fail_like_bedrock() {
    let lab = Lab::fixture(Mode::Lab).await;
    let credentials = lab
        .assume("BedrockUser", lab.token())
        .await
        .unwrap()
        .credentials;
    let base = lab.aws.bedrock_endpoint();
    let encoded = format!("{base}/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke");
    let keep = |_: &mut Vec<(String, String)>| {};

    assert_eq!(
        raw_invoke(&encoded, &encoded, "bedrock", &credentials, keep)
            .await
            .0,
        200
    );

    let (status, kind, message) =
        raw_invoke(&encoded, &encoded, "bedrock-runtime", &credentials, keep).await;
    assert_eq!(
        (status, kind.as_str(), message.as_str()),
        (
            403,
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'bedrock'. "
        )
    );

    // Signing the decoded path (single encoding) is the classic custom-signer bug.
    let decoded = format!("{base}/model/anthropic.claude-3-5-sonnet-20240620-v1:0/invoke");
    let (status, kind, message) =
        raw_invoke(&decoded, &encoded, "bedrock", &credentials, keep).await;
    assert_eq!((status, kind.as_str()), (403, "InvalidSignatureException"));
    assert!(
        message.starts_with(
            "The request signature we calculated does not match the signature you provided."
        ),
        "{message}"
    );

    let without_token =
        |h: &mut Vec<(String, String)>| h.retain(|(n, _)| n != "x-amz-security-token");
    let (status, kind, message) =
        raw_invoke(&encoded, &encoded, "bedrock", &credentials, without_token).await;
    assert_eq!(
        (status, kind.as_str(), message.as_str()),
        (
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid."
        )
    );

    let mut stranger = credentials.clone();
    stranger.access_key_id = "ASIAUNKNOWNKEY000000".into();
    assert_eq!(
        raw_invoke(&encoded, &encoded, "bedrock", &stranger, keep)
            .await
            .1,
        "UnrecognizedClientException"
    );

    let mut wrong_secret = credentials.clone();
    wrong_secret.secret_access_key = Secret::new("wrong");
    assert_eq!(
        raw_invoke(&encoded, &encoded, "bedrock", &wrong_secret, keep)
            .await
            .1,
        "InvalidSignatureException"
    );

    let no_auth = |h: &mut Vec<(String, String)>| h.retain(|(n, _)| n != "authorization");
    let (status, kind, message) =
        raw_invoke(&encoded, &encoded, "bedrock", &credentials, no_auth).await;
    assert_eq!(
        (status, kind.as_str(), message.as_str()),
        (
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token"
        )
    );

    let stale = |h: &mut Vec<(String, String)>| {
        for (n, v) in h.iter_mut() {
            if n == "x-amz-date" {
                *v = "20200101T000000Z".into();
            }
        }
    };
    let (_, kind, message) = raw_invoke(&encoded, &encoded, "bedrock", &credentials, stale).await;
    assert_eq!(kind, "InvalidSignatureException");
    assert!(
        message.starts_with("Date in Credential scope does not match"),
        "{message}"
    );
}

#[tokio::test]
async fn credentials_outlive_the_idp_until_they_expire() {
    let lab = Lab::fixture(Mode::Lab).await;
    let assumed = lab
        .assume_with("BedrockUser", lab.token(), Some(900), None)
        .await
        .unwrap();
    let Lab {
        issuer,
        aws,
        client,
    } = lab;
    // Offboarding: the IdP is gone (user disabled, realm deleted); the minted credentials live on.
    drop(issuer);
    let body = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 8, "messages": []});
    client
        .invoke_model(
            &aws.bedrock_endpoint(),
            "us-east-1",
            &assumed.credentials,
            SONNET,
            &body,
        )
        .await
        .unwrap();
    aws.advance_clock(Duration::from_secs(901));
    let (status, code, message) = service_error(
        client
            .invoke_model(
                &aws.bedrock_endpoint(),
                "us-east-1",
                &assumed.credentials,
                SONNET,
                &body,
            )
            .await,
    );
    assert_eq!(
        (status, code.as_str(), message.as_str()),
        (
            403,
            "ExpiredTokenException",
            "The security token included in the request is expired"
        )
    );
}

#[tokio::test]
async fn wire_details() {
    let lab = Lab::fixture(Mode::Lab).await;
    let http = reqwest::Client::new();
    let form = [
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", &role_arn("BedrockUser")),
        ("RoleSessionName", "alice"),
        ("WebIdentityToken", &lab.token()),
    ];
    // The call is unsigned: an Authorization header is ignored, not checked.
    let response = http
        .post(lab.aws.sts_endpoint())
        .header("authorization", "AWS4-HMAC-SHA256 Credential=garbage")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/xml");
    let xml = response.text().await.unwrap();
    assert!(xml.starts_with("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"), "{xml}");
    for element in [
        "<SubjectFromWebIdentityToken>",
        "<Audience>acme-app</Audience>",
        "<AccessKeyId>ASIA",
        "<SessionToken>IQoJb3JpZ2luX2Vj",
        "<Provider>",
        "<ResponseMetadata>",
        "<RequestId>",
    ] {
        assert!(xml.contains(element), "{element} in {xml}");
    }
    assert!(
        regex::Regex::new(r"<Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</Expiration>")
            .unwrap()
            .is_match(&xml),
        "{xml}"
    );

    // The GET form of the Query API works too.
    let query = serde_urlencoded::to_string(form).unwrap();
    let response = http
        .get(format!("{}/?{query}", lab.aws.sts_endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let response = http
        .post(lab.aws.sts_endpoint())
        .form(&[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let xml = response.text().await.unwrap();
    assert!(
        xml.contains("<Code>ValidationError</Code>") && xml.contains("<Type>Sender</Type>"),
        "{xml}"
    );
    assert!(
        xml.contains("3 validation errors detected: Value null at 'roleArn'"),
        "{xml}"
    );

    // Bedrock: malformed bodies and unknown paths are proper errors, never panics.
    let credentials = lab
        .assume("BedrockUser", lab.token())
        .await
        .unwrap()
        .credentials;
    let (status, code, message) = service_error(
        lab.client
            .invoke_model(
                &lab.aws.bedrock_endpoint(),
                "us-east-1",
                &credentials,
                SONNET,
                &json!({"messages": []}),
            )
            .await,
    );
    assert_eq!((status, code.as_str()), (400, "ValidationException"));
    assert!(
        message.contains("required key [anthropic_version]"),
        "{message}"
    );
    let response = http
        .get(format!("{}/model/x/invoke", lab.aws.bedrock_endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "UnknownOperationException"
    );
    let response = http
        .post(format!("{}/model/x/invoke", lab.aws.bedrock_endpoint()))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
}
