//! The AWS leg as `runbooks/aws-bedrock.md` sets it up: the IdP's ID token → STS
//! `AssumeRoleWithWebIdentity` → temporary credentials → a SigV4-signed Bedrock call, against
//! the emulated account of `fixtures/cloud/aws.yaml`, and the account mistakes its
//! troubleshooting rows describe.

use std::time::Duration;

use cucumber::{given, then, when};
use serde_json::{json, Value};
use serde_yaml_ng::Value as Yaml;

use super::cloud::{current_identity, note_refusal, signed_in_identity};
use super::{ensure, StepResult};
use crate::scenario::clouds::{roots_from_pem, set, AwsLab, StreamOperation};
use crate::scenario::world::RunbookWorld;
use ssoproof_cloud::aws::{AssumeRoleRequest, AwsCallError, Credentials, Mode};
use ssoproof_secret::Secret;

/// The model the runbook's role is for, which credentials are tried on when a step names none.
const RUNBOOK_MODEL: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";

fn lab(world: &mut RunbookWorld) -> Result<&mut AwsLab, String> {
    world
        .clouds
        .aws
        .as_mut()
        .ok_or_else(|| "no AWS account in this scenario: start with `Given the AWS account from the runbook trusts the IdP`".into())
}

fn role_arn(lab: &AwsLab, role: &str) -> String {
    format!("arn:aws:iam::{}:role/{role}", lab.account_id())
}

fn describe(error: &AwsCallError) -> String {
    format!("[{}] {error}", error.code())
}

/// A Bedrock `InvokeModel` with an Anthropic Messages body.
async fn invoke(
    lab: &mut AwsLab,
    credentials: &Credentials,
    model: &str,
) -> Result<Result<Value, AwsCallError>, String> {
    let body = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
                      "messages": [{"role": "user", "content": "Say hello"}]});
    let aws = lab.emulator().await?;
    let (endpoint, region) = (aws.bedrock_endpoint(), aws.config().region.clone());
    Ok(lab
        .client
        .invoke_model(&endpoint, &region, credentials, model, &body)
        .await)
}

/// `AssumeRoleWithWebIdentity` for `role` with `token`, recorded as the lab's last answer.
async fn assume(
    world: &mut RunbookWorld,
    role: &str,
    token: Secret,
    session_name: String,
) -> StepResult {
    let lab = lab(world)?;
    let request = AssumeRoleRequest {
        role_arn: role_arn(lab, role),
        session_name,
        web_identity_token: token,
        duration_seconds: lab.duration_seconds,
        policy: None,
    };
    let endpoint = lab.emulator().await?.sts_endpoint();
    let answer = lab
        .client
        .assume_role_with_web_identity(&endpoint, &request)
        .await;
    let refusal = answer.as_ref().err().map(|e| e.to_string());
    lab.assumed = Some(answer);
    if let Some(message) = refusal {
        note_refusal(world, message);
    }
    Ok(())
}

/// The credentials of the last successful `AssumeRoleWithWebIdentity`.
fn assumed_credentials(lab: &AwsLab) -> Result<Credentials, String> {
    match &lab.assumed {
        Some(Ok(assumed)) => Ok(assumed.credentials.clone()),
        Some(Err(e)) => Err(format!("STS refused the role: {}", describe(e))),
        None => Err("nobody assumed a role".into()),
    }
}

#[given("the AWS account from the runbook trusts the IdP")]
fn account_from_runbook(world: &mut RunbookWorld) -> StepResult {
    let issuer = world.idp().issuer();
    let roots = roots_from_pem(world.idp().trusted_ca_pem().as_deref())?;
    world.clouds.aws = Some(AwsLab::read(&world.root, &issuer, &roots)?);
    Ok(())
}

#[given("AWS fetches the IdP's keys from the internet, as real STS does")]
fn realistic(world: &mut RunbookWorld) -> StepResult {
    lab(world)?.mode = Mode::Realistic;
    Ok(())
}

#[given(expr = "the trust policy of {string} requires the audience {string}")]
fn trust_audience(world: &mut RunbookWorld, role: String, audience: String) -> StepResult {
    let mut found = false;
    lab(world)?.edit_trust_policy(&role, |statement| {
        let conditions = statement
            .get_mut("Condition")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|c| c.values_mut())
            .filter_map(Value::as_object_mut);
        for condition in conditions {
            for (key, value) in condition.iter_mut() {
                if key.ends_with(":aud") {
                    *value = json!(audience);
                    found = true;
                }
            }
        }
    })?;
    ensure(found, || {
        format!("the trust policy of {role} has no `:aud` condition")
    })
}

#[given(expr = "the trust policy of {string} trusts the provider {string}")]
fn trust_provider(world: &mut RunbookWorld, role: String, host_path: String) -> StepResult {
    let lab = lab(world)?;
    let arn = format!(
        "arn:aws:iam::{}:oidc-provider/{host_path}",
        lab.account_id()
    );
    lab.edit_trust_policy(&role, |statement| {
        statement.insert("Principal".into(), json!({ "Federated": arn }));
    })
}

#[given(expr = "the IAM OIDC provider's URL ends in {string}")]
fn provider_url_suffix(world: &mut RunbookWorld, suffix: String) -> StepResult {
    let provider = lab(world)?.provider_mut()?;
    let url = provider
        .get("url")
        .and_then(Yaml::as_str)
        .ok_or("the provider has no url")?;
    let url = format!("{url}{suffix}");
    set(provider, "url", Yaml::String(url))
}

#[given(expr = "the IAM OIDC provider's audiences are only {string}")]
fn provider_audiences(world: &mut RunbookWorld, client_id: String) -> StepResult {
    let provider = lab(world)?.provider_mut()?;
    set(
        provider,
        "client_ids",
        Yaml::Sequence(vec![Yaml::String(client_id)]),
    )
}

#[given(expr = "the application asks STS for {int}-second sessions")]
fn session_duration(world: &mut RunbookWorld, seconds: u32) -> StepResult {
    lab(world)?.duration_seconds = Some(seconds);
    Ok(())
}

#[when("AWS is set up as in the runbook")]
async fn set_up(world: &mut RunbookWorld) -> StepResult {
    let refusal = lab(world)?.emulator().await.err();
    world.clouds.setup_refusal = refusal;
    Ok(())
}

#[when(expr = "{word} signs in and assumes the role {string} with her/his ID token")]
async fn signs_in_and_assumes(
    world: &mut RunbookWorld,
    username: String,
    role: String,
) -> StepResult {
    let (token, name) = signed_in_identity(world, &username).await?;
    assume(world, &role, token, name).await
}

#[when(expr = "she/he assumes the role {string} with her/his ID token")]
async fn assumes(world: &mut RunbookWorld, role: String) -> StepResult {
    let (token, name) = current_identity(world)?;
    assume(world, &role, token, name).await
}

#[then("STS issues temporary credentials")]
fn issues_credentials(world: &mut RunbookWorld) -> StepResult {
    assumed_credentials(lab(world)?).map(|_| ())
}

#[then(expr = "they expire within {int} seconds")]
fn expire_within(world: &mut RunbookWorld, seconds: i64) -> StepResult {
    let credentials = assumed_credentials(lab(world)?)?;
    let left = credentials.expiration - time::OffsetDateTime::now_utc();
    ensure(
        left > time::Duration::ZERO && left <= time::Duration::seconds(seconds),
        || format!("the credentials expire in {left}, not within {seconds} s"),
    )
}

#[then(expr = "STS refuses with {string}")]
fn sts_refuses(world: &mut RunbookWorld, code: String) -> StepResult {
    match &lab(world)?.assumed {
        Some(Err(e)) => ensure(e.code() == code, || {
            format!("STS refused with {}, not {code}", describe(e))
        }),
        Some(Ok(assumed)) => Err(format!(
            "STS issued credentials for {} but should refuse with {code}",
            assumed.assumed_role_arn
        )),
        None => Err("nobody asked STS for a role".into()),
    }
}

#[when(expr = "she/he invokes {string} on Bedrock")]
async fn invokes(world: &mut RunbookWorld, model: String) -> StepResult {
    let lab = lab(world)?;
    let credentials = assumed_credentials(lab)?;
    let answer = invoke(lab, &credentials, &model).await?;
    let refusal = answer.as_ref().err().map(|e| e.to_string());
    lab.bedrock = Some(answer);
    if let Some(message) = refusal {
        note_refusal(world, message);
    }
    Ok(())
}

#[then("Bedrock answers")]
fn bedrock_answers(world: &mut RunbookWorld) -> StepResult {
    match &lab(world)?.bedrock {
        Some(Ok(answer)) => ensure(answer["type"] == "message", || {
            format!("Bedrock answered {answer}, not a message")
        }),
        Some(Err(e)) => Err(format!("Bedrock refused: {}", describe(e))),
        None => Err("nobody called Bedrock".into()),
    }
}

#[then(expr = "Bedrock refuses with {string}")]
fn bedrock_refuses(world: &mut RunbookWorld, code: String) -> StepResult {
    match &lab(world)?.bedrock {
        Some(Err(e)) => ensure(e.code() == code, || {
            format!("Bedrock refused with {}, not {code}", describe(e))
        }),
        Some(Ok(_)) => Err(format!("Bedrock answered but should refuse with {code}")),
        None => Err("nobody called Bedrock".into()),
    }
}

#[when(expr = "she/he streams {string} from Bedrock with {word}")]
async fn streams(world: &mut RunbookWorld, model: String, operation: String) -> StepResult {
    let lab = lab(world)?;
    let credentials = assumed_credentials(lab)?;
    let aws = lab.emulator().await?;
    let (endpoint, region) = (aws.bedrock_endpoint(), aws.config().region.clone());
    let (operation, answer) = match operation.as_str() {
        "ConverseStream" => {
            let body = json!({"messages": [{"role": "user", "content": [{"text": "Say hello"}]}]});
            let answer = lab
                .client
                .converse_stream(&endpoint, &region, &credentials, &model, &body)
                .await;
            (StreamOperation::ConverseStream, answer)
        }
        "InvokeModelWithResponseStream" => {
            let body = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
                              "messages": [{"role": "user", "content": "Say hello"}]});
            let answer = lab
                .client
                .invoke_model_with_response_stream(&endpoint, &region, &credentials, &model, &body)
                .await;
            (StreamOperation::InvokeModelWithResponseStream, answer)
        }
        other => {
            return Err(format!(
                "`{other}` is not a streaming operation: ConverseStream or InvokeModelWithResponseStream"
            ))
        }
    };
    let refusal = answer.as_ref().err().map(|e| e.to_string());
    lab.stream = Some((operation, answer));
    if let Some(message) = refusal {
        note_refusal(world, message);
    }
    Ok(())
}

/// The streamed text: ConverseStream's `contentBlockDelta` texts, or the `text_delta`s of
/// Anthropic's events; `None` unless the stream also opens and closes as the operation does.
fn streamed_text(
    operation: StreamOperation,
    events: &[ssoproof_cloud::aws::StreamEvent],
) -> Option<String> {
    let (first, last, delta) = match operation {
        StreamOperation::ConverseStream => (
            events.first()?.event_type == "messageStart",
            events.last()?.event_type == "metadata",
            "contentBlockDelta",
        ),
        StreamOperation::InvokeModelWithResponseStream => (
            events.first()?.payload["type"] == "message_start",
            events.last()?.payload["type"] == "message_stop",
            "content_block_delta",
        ),
    };
    let text: String = events
        .iter()
        .filter(|e| e.event_type == delta || e.payload["type"] == delta)
        .filter_map(|e| e.payload["delta"]["text"].as_str())
        .collect();
    (first && last && !text.is_empty()).then_some(text)
}

#[then("Bedrock streams an answer")]
fn bedrock_streams(world: &mut RunbookWorld) -> StepResult {
    match &lab(world)?.stream {
        Some((operation, Ok(events))) => streamed_text(*operation, events)
            .map(drop)
            .ok_or_else(|| format!("{operation:?} streamed {events:?}, not a whole answer")),
        Some((operation, Err(e))) => Err(format!("{operation:?} refused: {}", describe(e))),
        None => Err("nobody streamed from Bedrock".into()),
    }
}

#[then(expr = "the stream is refused with {string}")]
fn stream_refused(world: &mut RunbookWorld, code: String) -> StepResult {
    match &lab(world)?.stream {
        Some((operation, Err(e))) => ensure(e.code() == code, || {
            format!("{operation:?} refused with {}, not {code}", describe(e))
        }),
        Some((operation, Ok(_))) => Err(format!(
            "{operation:?} streamed but should refuse with {code}"
        )),
        None => Err("nobody streamed from Bedrock".into()),
    }
}

#[given(expr = "{word} holds AWS credentials for the role {string}")]
async fn holds_credentials(world: &mut RunbookWorld, username: String, role: String) -> StepResult {
    signs_in_and_assumes(world, username, role).await?;
    let lab = lab(world)?;
    lab.held = Some(assumed_credentials(lab)?);
    Ok(())
}

#[then("her AWS credentials still work until they expire")]
async fn held_still_work(world: &mut RunbookWorld) -> StepResult {
    let lab = lab(world)?;
    let held = lab.held.clone().ok_or("she holds no AWS credentials")?;
    match invoke(lab, &held, RUNBOOK_MODEL).await? {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("her credentials no longer work: {}", describe(&e))),
    }
}

#[when(expr = "{int} seconds pass at AWS")]
async fn time_passes(world: &mut RunbookWorld, seconds: u64) -> StepResult {
    lab(world)?
        .emulator()
        .await?
        .advance_clock(Duration::from_secs(seconds));
    Ok(())
}

#[then(expr = "her AWS credentials are refused with {string}")]
async fn held_refused(world: &mut RunbookWorld, code: String) -> StepResult {
    let lab = lab(world)?;
    let held = lab.held.clone().ok_or("she holds no AWS credentials")?;
    match invoke(lab, &held, RUNBOOK_MODEL).await? {
        Ok(_) => Err(format!("her credentials still work; expected {code}")),
        Err(e) => ensure(e.code() == code, || {
            format!(
                "her credentials were refused with {}, not {code}",
                describe(&e)
            )
        }),
    }
}
