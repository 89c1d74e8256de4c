//! In-process round trip over loopback HTTP: a test issuer signs an ES256 ID token, the STS
//! emulator verifies it (discovery + JWKS fetched on every call, as STS does not promise to
//! cache) and mints credentials, and a SigV4-signed Bedrock InvokeModel is verified and
//! answered. Prints median, p95 and mean per round trip.
//!
//! `cargo bench -p ssoproof --bench aws_round_trip [-- ITERATIONS]` (default 300, minimum 200)

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use ssoproof::cloud::aws::{AssumeRoleRequest, AwsClient, AwsConfig, AwsEmulator, AwsOptions};
use ssoproof::cloud::test_issuer::TestIssuer;
use ssoproof::secret::Secret;

const WARMUP: usize = 20;

fn main() {
    // `cargo bench` passes `--bench`; the first number is the iteration count.
    let iterations = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(300)
        .max(200);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut samples = runtime.block_on(run(iterations));
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "aws round trip (token -> STS AssumeRoleWithWebIdentity -> signed Bedrock InvokeModel), {} iterations:",
        samples.len()
    );
    println!(
        "  median {:.2} ms   p95 {:.2} ms   mean {:.2} ms   min {:.2} ms   max {:.2} ms",
        ms(at(0.5)),
        ms(at(0.95)),
        ms(mean),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    );
}

async fn run(iterations: usize) -> Vec<Duration> {
    let issuer = TestIssuer::start().await.expect("test issuer");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cloud/aws.yaml");
    let config = AwsConfig::load_with_issuer(&path, issuer.issuer()).expect("fixture");
    let aws = AwsEmulator::start(config, AwsOptions::default())
        .await
        .expect("emulator");
    let client = AwsClient::new();
    let body = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
                      "messages": [{"role": "user", "content": "hi"}]});
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..WARMUP + iterations {
        let started = Instant::now();
        let token = issuer.token(json!({"aud": "acme-app", "sub": format!("user-{i}")}));
        let request = AssumeRoleRequest {
            role_arn: "arn:aws:iam::123456789012:role/BedrockUser".into(),
            session_name: format!("user-{i}"),
            web_identity_token: Secret::new(token),
            duration_seconds: Some(900),
            policy: None,
        };
        let assumed = client
            .assume_role_with_web_identity(&aws.sts_endpoint(), &request)
            .await
            .expect("assume role");
        client
            .invoke_model(
                &aws.bedrock_endpoint(),
                "us-east-1",
                &assumed.credentials,
                "anthropic.claude-3-5-sonnet-20240620-v1:0",
                &body,
            )
            .await
            .expect("invoke model");
        if i >= WARMUP {
            samples.push(started.elapsed());
        }
    }
    samples
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
