//! Wire fidelity: the official AWS SDK for Rust talks to the STS emulator and gets typed
//! answers — success parsed into its output type, failures into its modelled error variants —
//! and credentials it received sign (with `aws-sigv4`) a Bedrock call the emulator accepts.
//!
//! `cargo test -p ssoproof --features aws-sdk-interop --test aws_sdk_interop`

use std::path::Path;

use aws_sdk_sts::config::{BehaviorVersion, Region};
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;
use aws_smithy_http_client::tls;
use serde_json::json;
use ssoproof_cloud::aws::{AwsClient, AwsConfig, AwsEmulator, AwsOptions, Credentials};
use ssoproof_cloud::test_issuer::TestIssuer;
use ssoproof_secret::Secret;

const ROLE: &str = "arn:aws:iam::123456789012:role/BedrockUser";

async fn setup() -> (TestIssuer, AwsEmulator, aws_sdk_sts::Client) {
    let issuer = TestIssuer::start().await.unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cloud/aws.yaml");
    let config = AwsConfig::load_with_issuer(&path, issuer.issuer()).unwrap();
    let aws = AwsEmulator::start(config, AwsOptions::default())
        .await
        .unwrap();
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    // No credentials provider: AssumeRoleWithWebIdentity is a noAuth operation.
    let sts_config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(aws.sts_endpoint())
        .http_client(http)
        .build();
    (issuer, aws, aws_sdk_sts::Client::from_conf(sts_config))
}

#[tokio::test]
async fn sdk_parses_success_and_the_credentials_sign_bedrock_calls() {
    let (issuer, aws, sts) = setup().await;
    let token = issuer.token(json!({"aud": "acme-app", "sub": "user-1"}));
    let output = sts
        .assume_role_with_web_identity()
        .role_arn(ROLE)
        .role_session_name("alice@acme.test")
        .web_identity_token(token)
        .duration_seconds(900)
        .send()
        .await
        .expect("the SDK accepts the emulator's answer");
    assert_eq!(output.subject_from_web_identity_token(), Some("user-1"));
    assert_eq!(output.audience(), Some("acme-app"));
    assert_eq!(output.provider(), Some(issuer.issuer()));
    let user = output.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        "arn:aws:sts::123456789012:assumed-role/BedrockUser/alice@acme.test"
    );
    assert!(user.assumed_role_id().starts_with("AROA"));
    let sdk_credentials = output.credentials().unwrap();
    assert!(sdk_credentials.access_key_id().starts_with("ASIA"));
    let expiration = sdk_credentials.expiration();
    let lifetime = expiration.secs() - time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((890..=900).contains(&lifetime), "{lifetime}");

    let credentials = Credentials {
        access_key_id: sdk_credentials.access_key_id().to_string(),
        secret_access_key: Secret::new(sdk_credentials.secret_access_key()),
        session_token: Secret::new(sdk_credentials.session_token()),
        expiration: time::OffsetDateTime::from_unix_timestamp(expiration.secs()).unwrap(),
    };
    let body = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 32,
                      "messages": [{"role": "user", "content": "hi"}]});
    let answer = AwsClient::new()
        .invoke_model(
            &aws.bedrock_endpoint(),
            "us-east-1",
            &credentials,
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            &body,
        )
        .await
        .unwrap();
    assert_eq!(answer["role"], "assistant");
}

#[tokio::test]
async fn sdk_maps_failures_to_its_error_types() {
    let (issuer, _aws, sts) = setup().await;
    let call = |token: String, role: &'static str, duration: i32| {
        sts.assume_role_with_web_identity()
            .role_arn(role)
            .role_session_name("alice")
            .web_identity_token(token)
            .duration_seconds(duration)
            .send()
    };

    let err = call(issuer.token(json!({"aud": "other-app"})), ROLE, 900)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(
            err,
            AssumeRoleWithWebIdentityError::InvalidIdentityTokenException(_)
        ),
        "{err:?}"
    );
    assert_eq!(err.message(), Some("Incorrect token audience"));

    let past = time::OffsetDateTime::now_utc().unix_timestamp() - 10;
    let err = call(
        issuer.token(json!({"aud": "acme-app", "exp": past})),
        ROLE,
        900,
    )
    .await
    .unwrap_err()
    .into_service_error();
    assert!(
        matches!(
            err,
            AssumeRoleWithWebIdentityError::ExpiredTokenException(_)
        ),
        "{err:?}"
    );
    assert!(err
        .message()
        .unwrap()
        .starts_with("Token expired: current date/time"));

    // AccessDenied and ValidationError are not modelled for this operation: they arrive as
    // unhandled errors carrying the code, as with real STS.
    let token = issuer.token(json!({"aud": "acme-app", "sub": "user-1"}));
    let err = call(token.clone(), "arn:aws:iam::123456789012:role/Nobody", 900)
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("AccessDenied"));
    assert_eq!(
        err.message(),
        Some("Not authorized to perform sts:AssumeRoleWithWebIdentity")
    );
    let err = call(token, ROLE, 7200)
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationError"));
    assert_eq!(
        err.message(),
        Some("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    );
}
