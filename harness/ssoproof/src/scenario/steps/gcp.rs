//! The Google leg as `runbooks/gcp-vertex.md` sets it up: the IdP's ID token → Google STS
//! (workforce identity federation) → a federated access token → Vertex AI; and the Google-direct
//! leg, where a Google account's own OAuth token with the `cloud-platform` scope is the Vertex
//! bearer. Against the emulated organisation of `fixtures/cloud/gcp.yaml`.
//!
//! The Google accounts' tokens come from the shared test issuer standing in for
//! accounts.google.com; once the IdP emulator has a Google persona, `holds_google_token` should
//! sign in through it instead.

use cucumber::{given, then, when};
use serde_json::{json, Value};
use serde_yaml_ng::Value as Yaml;

use super::cloud::{current_identity, note_refusal, signed_in_identity};
use super::{ensure, StepResult};
use crate::scenario::clouds::{roots_from_pem, set, GcpLab};
use crate::scenario::world::RunbookWorld;
use ssoproof_cloud::gcp::{self, VertexError, VertexModel, CLOUD_PLATFORM_SCOPE};
use ssoproof_secret::Secret;

/// The model the runbook calls when a step names none.
const RUNBOOK_MODEL: &str = "gemini-2.0-flash-001";

fn lab(world: &mut RunbookWorld) -> Result<&mut GcpLab, String> {
    world
        .clouds
        .gcp
        .as_mut()
        .ok_or_else(|| "no Google Cloud organisation in this scenario: start with `Given the Google workforce provider trusts the IdP`".into())
}

fn describe(error: &VertexError) -> String {
    format!("[{}] {error}", error.code())
}

/// The runbook's smallest Vertex call with the bearer she holds.
async fn call_vertex(
    world: &mut RunbookWorld,
    model: &str,
    project: &str,
    quota_project: Option<&str>,
) -> StepResult {
    let lab = lab(world)?;
    let bearer = lab.bearer.clone().ok_or("she holds no token for Vertex")?;
    let endpoint = lab.emulator().await?.vertex_url();
    let location = if model.starts_with("claude") {
        "us-east5"
    } else {
        "us-central1"
    };
    let target = VertexModel::by_id(project, location, model);
    let answer = gcp::say_hello(&lab.http, &endpoint, target, &bearer, quota_project).await;
    let refusal = answer.as_ref().err().map(|e| e.to_string());
    lab.vertex = Some(answer);
    if let Some(message) = refusal {
        note_refusal(world, message);
    }
    Ok(())
}

/// The token exchange google-auth makes, recorded as the lab's last answer; a federated token
/// becomes her bearer.
async fn exchange(world: &mut RunbookWorld, token: Secret, project: &str) -> StepResult {
    let lab = lab(world)?;
    let audience = lab.audience()?;
    let sts = lab.emulator().await?.sts_url();
    let answer = gcp::exchange_token(&lab.http, &sts, &audience, &token, project).await;
    lab.bearer = answer.as_ref().ok().map(|t| t.token.clone());
    let refusal = answer.as_ref().err().map(|e| e.to_string());
    lab.exchange = Some(answer);
    if let Some(message) = refusal {
        note_refusal(world, message);
    }
    Ok(())
}

#[given("the Google workforce provider trusts the IdP")]
async fn organisation_from_runbook(world: &mut RunbookWorld) -> StepResult {
    let issuer = world.idp().issuer();
    let roots = roots_from_pem(world.idp().trusted_ca_pem().as_deref())?;
    world.clouds.gcp = Some(GcpLab::read(&world.root, &issuer, &roots).await?);
    Ok(())
}

#[given(expr = "the workforce provider's client id is {string}")]
fn provider_client_id(world: &mut RunbookWorld, client_id: String) -> StepResult {
    set(
        lab(world)?.provider_mut()?,
        "client_id",
        Yaml::String(client_id),
    )
}

#[given(expr = "the workforce provider's issuer is {string}")]
fn provider_issuer(world: &mut RunbookWorld, issuer: String) -> StepResult {
    set(
        lab(world)?.provider_mut()?,
        "issuer_uri",
        Yaml::String(issuer),
    )
}

#[given("the workforce provider passes the groups claim to google.groups unchanged")]
fn groups_unchanged(world: &mut RunbookWorld) -> StepResult {
    let provider = lab(world)?.provider_mut()?;
    let mapping = provider
        .get_mut("attribute_mapping")
        .ok_or("the provider has no attribute mapping")?;
    set(
        mapping,
        "google.groups",
        Yaml::String("assertion.groups".into()),
    )
}

#[when("Google Cloud is set up as in the runbook")]
async fn set_up(world: &mut RunbookWorld) -> StepResult {
    let refusal = lab(world)?.emulator().await.err();
    world.clouds.setup_refusal = refusal;
    Ok(())
}

#[when(expr = "{word} signs in and exchanges her/his ID token at Google STS for project {string}")]
async fn signs_in_and_exchanges(
    world: &mut RunbookWorld,
    username: String,
    project: String,
) -> StepResult {
    let (token, _) = signed_in_identity(world, &username).await?;
    exchange(world, token, &project).await
}

#[when(expr = "she/he exchanges her/his ID token at Google STS for project {string}")]
async fn exchanges(world: &mut RunbookWorld, project: String) -> StepResult {
    let (token, _) = current_identity(world)?;
    exchange(world, token, &project).await
}

#[then("Google STS issues an access token")]
fn sts_issues(world: &mut RunbookWorld) -> StepResult {
    match &lab(world)?.exchange {
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) => Err(format!("Google STS refused: [{}] {e}", e.code())),
        None => Err("nobody exchanged a token".into()),
    }
}

#[then(expr = "Google STS refuses with {string}")]
fn sts_refuses(world: &mut RunbookWorld, error: String) -> StepResult {
    match &lab(world)?.exchange {
        Some(Err(gcp::StsError::Refused { error: got, .. })) => ensure(*got == error, || {
            format!("Google STS refused with {got}, not {error}")
        }),
        Some(Err(e)) => Err(format!("Google STS failed: [{}] {e}", e.code())),
        Some(Ok(_)) => Err(format!(
            "Google STS issued a token but should refuse with {error}"
        )),
        None => Err("nobody exchanged a token".into()),
    }
}

/// A Google OAuth access token for `email` (what Google's sign-in hands an application), with
/// or without the `cloud-platform` scope.
fn google_token(lab: &GcpLab, email: &str, cloud_platform: bool) -> Secret {
    let scope = if cloud_platform {
        format!("openid email {CLOUD_PLATFORM_SCOPE}")
    } else {
        "openid email".to_string()
    };
    Secret::new(lab.google.token(json!({
        "sub": format!("google-{email}"),
        "email": email,
        "azp": "acme-app.apps.googleusercontent.com",
        "scope": scope,
    })))
}

#[given(expr = "the Google account {string} holds an OAuth token with the cloud-platform scope")]
fn holds_google_token(world: &mut RunbookWorld, email: String) -> StepResult {
    let lab = lab(world)?;
    lab.bearer = Some(google_token(lab, &email, true));
    Ok(())
}

#[given(expr = "the Google account {string} holds an OAuth token without the cloud-platform scope")]
fn holds_narrow_google_token(world: &mut RunbookWorld, email: String) -> StepResult {
    let lab = lab(world)?;
    lab.bearer = Some(google_token(lab, &email, false));
    Ok(())
}

#[when(expr = "she/he calls {string} on Vertex in project {string}")]
async fn calls(world: &mut RunbookWorld, model: String, project: String) -> StepResult {
    call_vertex(world, &model, &project, Some(&project)).await
}

#[when(expr = "she/he calls {string} on Vertex in project {string} without a quota project")]
async fn calls_without_quota(
    world: &mut RunbookWorld,
    model: String,
    project: String,
) -> StepResult {
    call_vertex(world, &model, &project, None).await
}

#[when(expr = "she/he calls {string} on Vertex in project {string} billed to {string}")]
async fn calls_billed_to(
    world: &mut RunbookWorld,
    model: String,
    project: String,
    quota_project: String,
) -> StepResult {
    call_vertex(world, &model, &project, Some(&quota_project)).await
}

#[then("Vertex answers")]
fn vertex_answers(world: &mut RunbookWorld) -> StepResult {
    match &lab(world)?.vertex {
        Some(Ok(answer)) => ensure(is_model_answer(answer), || {
            format!("Vertex answered {answer}, not a model's answer")
        }),
        Some(Err(e)) => Err(format!("Vertex refused: {}", describe(e))),
        None => Err("nobody called Vertex".into()),
    }
}

#[then(expr = "Vertex bills the call to project {string}")]
async fn vertex_bills(world: &mut RunbookWorld, project: String) -> StepResult {
    let calls = lab(world)?.emulator().await?.vertex_calls();
    let billed = calls.last().map(|c| c.quota_project.as_str());
    ensure(billed == Some(project.as_str()), || {
        format!("Vertex billed {billed:?}, not {project}")
    })
}

/// `what` is the ErrorInfo reason (`SERVICE_DISABLED`, …) or, for refusals without one, the
/// status (`UNAUTHENTICATED`).
#[then(expr = "Vertex refuses with {string}")]
fn vertex_refuses(world: &mut RunbookWorld, what: String) -> StepResult {
    match &lab(world)?.vertex {
        Some(Err(VertexError::Refused { status, reason, .. })) => {
            let got = reason.as_deref().unwrap_or(status);
            ensure(got == what, || {
                format!("Vertex refused with {got}, not {what}")
            })
        }
        Some(Err(e)) => Err(format!("Vertex failed: {}", describe(e))),
        Some(Ok(_)) => Err(format!("Vertex answered but should refuse with {what}")),
        None => Err("nobody called Vertex".into()),
    }
}

#[then("her federated access token still works until it expires")]
async fn federated_still_works(world: &mut RunbookWorld) -> StepResult {
    let lab = lab(world)?;
    let lifetime = match &lab.exchange {
        Some(Ok(token)) => token.expires_in,
        _ => return Err("she holds no federated access token".into()),
    };
    ensure(lifetime.is_some_and(|s| s > 0 && s <= 3600), || {
        format!("the federated token's lifetime is {lifetime:?} s, not at most an hour")
    })?;
    call_vertex(world, RUNBOOK_MODEL, "acme-ai", Some("acme-ai")).await?;
    vertex_answers(world)
}

/// Whether a Vertex answer is a model's (Gemini or Claude shaped).
fn is_model_answer(answer: &Value) -> bool {
    answer.get("candidates").is_some() || answer["type"] == "message"
}
