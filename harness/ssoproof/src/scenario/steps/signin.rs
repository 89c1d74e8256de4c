//! When a user signs in through the application, and what the application then decides.

use cucumber::{given, then, when};

use super::{ensure, StepResult};
use crate::backend::profiles::Driver;
use crate::scenario::world::RunbookWorld;
use ssoproof_rp::{BrowserOptions, LoginDriver, LoginOutcome, RelyingParty};
use ssoproof_secret::Secret;

/// Signs a test user in through the application. `name` is the runbook's short name; the
/// IdP says what the user types (`alice` → `alice@example.com` at most vendors). The step
/// fails only when the sign-in succeeds against what the tenant's operators promise about the
/// user (see [`check_promise`]); a refused login is for the next steps to judge.
pub(super) async fn sign_in(
    world: &mut RunbookWorld,
    name: &str,
    password: Option<Secret>,
) -> StepResult {
    let password = password
        .or_else(|| world.idp().password(name))
        .unwrap_or_else(|| Secret::new(""));
    let username = world.idp().login_name(name);
    if let Some(Ok(outcome)) = world.login.take() {
        world.previous_login = Some(outcome);
    }
    if world.rp.is_none() {
        let config = world.app().clone();
        match RelyingParty::discover(config).await {
            Ok(rp) => world.rp = Some(rp),
            Err(error) => {
                world.login = Some(Err(error));
                return Ok(());
            }
        }
    }
    let rp = world.rp.as_ref().expect("discovered above");
    let session = match world.idp().driver() {
        Driver::Form => rp.login(&username, &password).await,
        Driver::PasswordGrant => rp.login_with_password_grant(&username, &password).await,
        Driver::Browser => {
            let driver = LoginDriver::Browser(BrowserOptions::default());
            rp.login_with(&driver, &username, &password).await
        }
    };
    match session {
        Ok(session) => {
            let promised = check_promise(world, name, &session.outcome);
            world.login = Some(Ok(session.outcome.clone()));
            world.session = Some(session);
            promised
        }
        Err(error) => {
            world.login = Some(Err(error));
            Ok(())
        }
    }
}

/// A live tenant's `live.yaml` says which groups and role each test user has: a user who signs
/// in with less than that (a group dropped from the token, a mapping changed) fails the step
/// that signed them in, whatever the scenario checks next.
fn check_promise(world: &mut RunbookWorld, name: &str, outcome: &LoginOutcome) -> StepResult {
    let Some(promise) = world.idp().promise(name) else {
        return Ok(());
    };
    let missing: Vec<&String> = promise
        .groups
        .iter()
        .filter(|g| !outcome.groups.contains(g))
        .collect();
    ensure(missing.is_empty(), || {
        format!(
            "{}: {name} is in the groups {:?}, but the token's groups are {:?} (missing {missing:?})",
            promise.source, promise.groups, outcome.groups
        )
    })?;
    let Some(role) = &promise.role else {
        return Ok(());
    };
    let expected = world.app().roles.role(role).map_err(|e| {
        format!(
            "{}: {name}'s role \"{role}\" is not a role of the application: {e}",
            promise.source
        )
    })?;
    ensure(outcome.role == expected, || {
        format!(
            "{}: {name} signs in as {expected}, but the application mapped them to {}",
            promise.source, outcome.role
        )
    })
}

#[when(expr = "{word} signs in")]
async fn signs_in(world: &mut RunbookWorld, username: String) -> StepResult {
    sign_in(world, &username, None).await
}

#[when(expr = "{word} signs in with the password {string}")]
async fn signs_in_with(world: &mut RunbookWorld, username: String, password: String) -> StepResult {
    sign_in(world, &username, Some(Secret::new(password))).await
}

#[given(expr = "{word} has signed in")]
async fn has_signed_in(world: &mut RunbookWorld, username: String) -> StepResult {
    sign_in(world, &username, None).await?;
    match world.last_login() {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("{username} could not sign in: [{}] {e}", e.code())),
    }
}

#[then(expr = "the login succeeds with role {string}")]
fn succeeds_with_role(world: &mut RunbookWorld, role: String) -> StepResult {
    let expected = world.app().roles.role(&role).map_err(|e| e.to_string())?;
    match world.last_login() {
        Ok(outcome) => ensure(outcome.role == expected, || {
            format!("signed in with role {} instead of {expected}", outcome.role)
        }),
        Err(e) => Err(format!("the login was rejected: [{}] {e}", e.code())),
    }
}

#[then("the login succeeds")]
fn succeeds(world: &mut RunbookWorld) -> StepResult {
    match world.last_login() {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("the login was rejected: [{}] {e}", e.code())),
    }
}

#[then(expr = "the login is rejected with {string}")]
fn rejected_with(world: &mut RunbookWorld, code: String) -> StepResult {
    match world.last_login() {
        Ok(outcome) => Err(format!(
            "the login succeeded (role {}) but should fail with {code}",
            outcome.role
        )),
        Err(e) => ensure(e.code() == code, || {
            format!("rejected with [{}] {e}, not {code}", e.code())
        }),
    }
}

#[then(expr = "the rejection message mentions {string}")]
fn rejection_mentions(world: &mut RunbookWorld, text: String) -> StepResult {
    match world.last_login() {
        Ok(_) => Err("the login succeeded".into()),
        Err(e) => {
            let message = e.to_string();
            ensure(message.contains(&text), || {
                format!("the message `{message}` does not mention `{text}`")
            })
        }
    }
}

#[then(expr = "the groups include {string}")]
fn groups_include(world: &mut RunbookWorld, group: String) -> StepResult {
    let outcome = world
        .last_login()
        .as_ref()
        .map_err(|e| format!("rejected: [{}] {e}", e.code()))?;
    ensure(outcome.groups.contains(&group), || {
        format!("groups are {:?}", outcome.groups)
    })
}

#[then(expr = "the email is {string}")]
fn email_is(world: &mut RunbookWorld, email: String) -> StepResult {
    let outcome = world
        .last_login()
        .as_ref()
        .map_err(|e| format!("rejected: [{}] {e}", e.code()))?;
    ensure(outcome.email.as_deref() == Some(email.as_str()), || {
        format!("email is {:?}", outcome.email)
    })
}

#[then(expr = "the sub is the IdP's user id for {word}")]
fn sub_is_user_id(world: &mut RunbookWorld, username: String) -> StepResult {
    let expected = world.idp().user_id(&username).ok_or_else(|| {
        format!(
            "the {} backend does not know {username}'s id",
            world.idp().backend()
        )
    })?;
    let outcome = world
        .last_login()
        .as_ref()
        .map_err(|e| format!("rejected: [{}] {e}", e.code()))?;
    ensure(outcome.sub == expected, || {
        format!("sub is {} but {username}'s id is {expected}", outcome.sub)
    })
}

#[then("the ID token was signed with the rotated key")]
fn signed_with_rotated_key(world: &mut RunbookWorld) -> StepResult {
    let rotated = world
        .rotated_kid
        .clone()
        .ok_or("no key was rotated in this scenario")?;
    let session = world.session.as_ref().ok_or("nobody signed in")?;
    let header = jsonwebtoken::decode_header(session.id_token().expose())
        .map_err(|e| format!("the ID token's header is unreadable: {e}"))?;
    ensure(header.kid.as_deref() == Some(rotated.as_str()), || {
        format!(
            "the ID token's kid is {:?}, the rotated key is {rotated}",
            header.kid
        )
    })
}

#[then(expr = "the application fetched the IdP's JWKS {int} time(s)")]
fn jwks_fetches(world: &mut RunbookWorld, expected: usize) -> StepResult {
    let rp = world
        .rp
        .as_ref()
        .ok_or("the application never discovered the IdP")?;
    ensure(rp.jwks_fetches() == expected, || {
        format!(
            "the application fetched the JWKS {} times, expected {expected}",
            rp.jwks_fetches()
        )
    })
}
