//! Emulated AWS: STS `AssumeRoleWithWebIdentity` and Bedrock Runtime, validating what the
//! existing mocks never read — the web-identity token (issuer, keys, signature, audience,
//! expiry), the role's trust policy, SigV4 signatures and the role's permission policies — so
//! runbook failure modes can be reproduced locally.
//!
//! ```no_run
//! # async fn demo(token: String) -> Result<(), Box<dyn std::error::Error>> {
//! use ssoproof_cloud::aws::{AssumeRoleRequest, AwsClient, AwsConfig, AwsEmulator, AwsOptions};
//! use ssoproof_secret::Secret;
//!
//! let path = std::path::Path::new("fixtures/cloud/aws.yaml");
//! let config = AwsConfig::load_with_issuer(path, "http://127.0.0.1:8080/realms/acme")?;
//! let region = config.region.clone();
//! let aws = AwsEmulator::start(config, AwsOptions::default()).await?;
//! let client = AwsClient::new();
//! let assumed = client
//!     .assume_role_with_web_identity(&aws.sts_endpoint(), &AssumeRoleRequest {
//!         role_arn: "arn:aws:iam::123456789012:role/BedrockUser".into(),
//!         session_name: "alice@acme.test".into(),
//!         web_identity_token: Secret::new(token),
//!         duration_seconds: Some(900),
//!         policy: None,
//!     })
//!     .await?;
//! let answer = client
//!     .invoke_model(&aws.bedrock_endpoint(), &region, &assumed.credentials,
//!         "anthropic.claude-3-5-sonnet-20240620-v1:0",
//!         &serde_json::json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
//!                             "messages": [{"role": "user", "content": "hi"}]}))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Wire error codes (all with the real services' statuses and wording):
//! - STS (XML `ErrorResponse`): `ValidationError` 400, `InvalidIdentityToken` 400,
//!   `ExpiredTokenException` 400, `AccessDenied` 403, `MalformedPolicyDocument` 400, and for
//!   requests that are not AssumeRoleWithWebIdentity `MissingAction` / `InvalidAction` 400.
//! - Bedrock (JSON `{"message"}` + `x-amzn-errortype`): `MissingAuthenticationTokenException`,
//!   `IncompleteSignatureException`, `UnrecognizedClientException`, `ExpiredTokenException`,
//!   `InvalidSignatureException`, `AccessDeniedException` (all 403), `ValidationException` 400,
//!   `UnknownOperationException` 404.
//!
//! Module map: [`config`] (the account file), [`policy`] (IAM policy language), `sts`,
//! `sigv4` (request verification), `bedrock`, `sessions` (minted credentials), `emulator`
//! (the server), [`client`] (typed client for the doctor and steps).

mod bedrock;
pub mod client;
pub mod config;
mod emulator;
pub mod policy;
mod sessions;
mod sigv4;
mod sts;

pub use client::{
    AssumeRoleRequest, AssumedRole, AwsCallError, AwsClient, Credentials, StreamEvent,
};
pub use config::{AwsConfig, AwsConfigError, AwsConfigFile, OidcProvider, Role};
pub use emulator::{AwsEmulator, AwsOptions, Mode};

#[cfg(test)]
mod tests;
