//! In-process round trips over loopback HTTP, two ways:
//! - **IdP → STS → Bedrock**: the reference relying party signs alice in to the embedded IdP
//!   emulator (authorize → HTML form → code → token → ID-token validation → userinfo), the STS
//!   emulator verifies her RS256 ID token (discovery + JWKS fetched from the IdP on every call,
//!   as STS does not promise to cache) and mints credentials, and a SigV4-signed Bedrock
//!   InvokeModel is verified and answered. Goal: under 10 ms median.
//! - **token → STS → Bedrock**: the same without the sign-in, with an ES256 token from the test
//!   issuer: what the cloud side costs alone.
//!
//! Prints median, p95, mean, min and max per round trip.
//!
//! `cargo bench -p ssoproof --bench aws_round_trip [-- ITERATIONS]` (default 300, minimum 200)

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use ssoproof_cloud::aws::{
    AssumeRoleRequest, AwsClient, AwsConfig, AwsEmulator, AwsOptions, Credentials,
};
use ssoproof_cloud::test_issuer::TestIssuer;
use ssoproof_idp::{Emulator, IdpOptions, Realm};
use ssoproof_rp::{ClientConfig, RelyingParty};
use ssoproof_secret::Secret;

const WARMUP: usize = 20;
const MODEL: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";

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
    runtime.block_on(async {
        report(
            "IdP emulator sign-in -> STS AssumeRoleWithWebIdentity -> signed Bedrock InvokeModel",
            idp_round_trips(iterations).await,
        );
        report(
            "test-issuer token -> STS AssumeRoleWithWebIdentity -> signed Bedrock InvokeModel",
            token_round_trips(iterations).await,
        );
    });
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!("{what}, {} iterations:", samples.len());
    println!(
        "  median {:.2} ms   p95 {:.2} ms   mean {:.2} ms   min {:.2} ms   max {:.2} ms",
        ms(at(0.5)),
        ms(at(0.95)),
        ms(mean),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    );
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
}

async fn aws_trusting(issuer: &str) -> AwsEmulator {
    let config = AwsConfig::load_with_issuer(&root().join("fixtures/cloud/aws.yaml"), issuer)
        .expect("fixture");
    AwsEmulator::start(config, AwsOptions::default())
        .await
        .expect("emulator")
}

/// STS then Bedrock with `token`.
async fn assume_and_invoke(aws: &AwsEmulator, client: &AwsClient, token: Secret, who: &str) {
    let request = AssumeRoleRequest {
        role_arn: "arn:aws:iam::123456789012:role/BedrockUser".into(),
        session_name: who.to_string(),
        web_identity_token: token,
        duration_seconds: Some(900),
        policy: None,
    };
    let assumed = client
        .assume_role_with_web_identity(&aws.sts_endpoint(), &request)
        .await
        .expect("assume role");
    invoke(aws, client, &assumed.credentials).await;
}

async fn invoke(aws: &AwsEmulator, client: &AwsClient, credentials: &Credentials) -> Value {
    let body = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
                      "messages": [{"role": "user", "content": "hi"}]});
    client
        .invoke_model(
            &aws.bedrock_endpoint(),
            "us-east-1",
            credentials,
            MODEL,
            &body,
        )
        .await
        .expect("invoke model")
}

async fn idp_round_trips(iterations: usize) -> Vec<Duration> {
    let realm =
        Realm::from_keycloak_export(root().join("fixtures/keycloak-realm.json")).expect("realm");
    let idp = Emulator::start(realm, IdpOptions::default())
        .await
        .expect("IdP emulator");
    let aws = aws_trusting(&idp.issuer()).await;
    let mut config = ClientConfig::new(idp.issuer(), "acme-app", "http://127.0.0.1/callback");
    config.client_secret = Some(Secret::new("acme-app-secret"));
    config.role_mappings = vec![("/acme/admins".into(), config.roles.role("admin").unwrap())];
    let rp = RelyingParty::discover(config).await.expect("discovery");
    let client = AwsClient::new();
    let password = Secret::new("alice-password");
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..WARMUP + iterations {
        let started = Instant::now();
        let session = rp.login("alice", &password).await.expect("login");
        let who = session.outcome.email.clone().unwrap_or_default();
        assume_and_invoke(&aws, &client, session.id_token().clone(), &who).await;
        if i >= WARMUP {
            samples.push(started.elapsed());
        }
    }
    samples
}

async fn token_round_trips(iterations: usize) -> Vec<Duration> {
    let issuer = TestIssuer::start().await.expect("test issuer");
    let aws = aws_trusting(issuer.issuer()).await;
    let client = AwsClient::new();
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..WARMUP + iterations {
        let started = Instant::now();
        let who = format!("user-{i}");
        let token = issuer.token(json!({"aud": "acme-app", "sub": who}));
        assume_and_invoke(&aws, &client, Secret::new(token), &who).await;
        if i >= WARMUP {
            samples.push(started.elapsed());
        }
    }
    samples
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
