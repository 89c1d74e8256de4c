//! What the cloud runbooks share: a signed-in user's ID token as the web-identity token, cloud
//! setups refused at load time, the refusal message of the last cloud call, and the refused
//! refresh that offboarding causes. The AWS and Google legs have their own modules.

use cucumber::then;

use super::signin::sign_in;
use super::{ensure, StepResult};
use crate::scenario::world::RunbookWorld;
use ssoproof_rp::MemoryTokenStore;
use ssoproof_secret::Secret;

/// The signed-in user's ID token and the name a cloud session carries for attribution (the
/// email, else the `sub`).
pub(super) fn current_identity(world: &RunbookWorld) -> Result<(Secret, String), String> {
    let session = world.session.as_ref().ok_or("nobody has signed in")?;
    let name = session
        .outcome
        .email
        .clone()
        .unwrap_or_else(|| session.outcome.sub.clone());
    Ok((session.id_token().clone(), name))
}

/// Signs `username` in (failing the step if the IdP or the application refuses) and returns
/// [`current_identity`].
pub(super) async fn signed_in_identity(
    world: &mut RunbookWorld,
    username: &str,
) -> Result<(Secret, String), String> {
    sign_in(world, username, None).await?;
    if let Some(Err(e)) = &world.login {
        return Err(format!("{username} could not sign in: [{}] {e}", e.code()));
    }
    current_identity(world)
}

/// Remembers a cloud call's refusal message for `the refusal says …`.
pub(super) fn note_refusal(world: &mut RunbookWorld, message: String) {
    world.clouds.last_refusal = Some(message);
}

#[then(expr = "the setup is refused, saying {string}")]
fn setup_refused(world: &mut RunbookWorld, text: String) -> StepResult {
    let refusal = world
        .clouds
        .setup_refusal
        .as_ref()
        .ok_or("the cloud setup was accepted")?;
    ensure(refusal.contains(&text), || {
        format!("the setup was refused with `{refusal}`, which does not say `{text}`")
    })
}

#[then(expr = "the refusal says {string}")]
fn refusal_says(world: &mut RunbookWorld, text: String) -> StepResult {
    let refusal = world
        .clouds
        .last_refusal
        .as_ref()
        .ok_or("no cloud call was refused")?;
    ensure(refusal.contains(&text), || {
        format!("the refusal `{refusal}` does not say `{text}`")
    })
}

/// What the application does before it mints cloud credentials: refresh the session.
#[then(expr = "refreshing her session fails with {string}")]
async fn refresh_fails(world: &mut RunbookWorld, code: String) -> StepResult {
    let rp = world
        .rp
        .as_ref()
        .ok_or("the application never discovered the IdP")?;
    let session = world.session.as_mut().ok_or("nobody signed in")?;
    match rp.refresh(session, &MemoryTokenStore::default()).await {
        Ok(outcome) => Err(format!(
            "the refresh succeeded (role {}) but should fail with {code}",
            outcome.role
        )),
        Err(e) => ensure(e.code() == code, || {
            format!("the refresh failed with [{}] {e}, not {code}", e.code())
        }),
    }
}
