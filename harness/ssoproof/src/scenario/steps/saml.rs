//! issue 15: runbooks/saml.md, executed: the application signs users in over SAML 2.0 as the
//! reference service provider (`ssoproof login --saml`), configured as the runbook says, against
//! the IdP's SAML client for it (the fixture realm's `https://sp.acme.test/saml`).

use cucumber::{given, then, when};
use ssoproof_idp::SamlFault;
use ssoproof_rp::saml::{MetadataSource, SamlLogin, ServiceProvider, SpConfig};
use ssoproof_rp::RpError;
use ssoproof_saml::NameIdFormat;

use super::{ensure, StepResult};
use crate::scenario::world::RunbookWorld;

/// The runbook's service provider: its entity ID (the IdP's SAML client ID) and ACS URL.
const ENTITY_ID: &str = "https://sp.acme.test/saml";
const ACS_URL: &str = "http://127.0.0.1/saml/acs";

/// The SP as the runbook configures it: the IdP's metadata URL, the entity ID and ACS URL of
/// its SAML client, the groups attribute `groups` and the OIDC application's role mappings.
fn sp(world: &mut RunbookWorld) -> &mut SpConfig {
    if world.saml_sp.is_none() {
        let metadata =
            MetadataSource::Url(format!("{}/protocol/saml/descriptor", world.idp().issuer()));
        let app = world.app().clone();
        let mut config = SpConfig::new(metadata, ENTITY_ID, ACS_URL);
        config.roles = app.roles;
        config.role_mappings = app.role_mappings;
        config.default_role = app.default_role;
        world.saml_sp = Some(config);
    }
    world.saml_sp.as_mut().expect("set above")
}

fn last(world: &RunbookWorld) -> Result<&SamlLogin, String> {
    match world
        .saml_login
        .as_ref()
        .expect("a previous step signs in over SAML")
    {
        Ok(login) => Ok(login),
        Err(e) => Err(format!("the SAML login was rejected: [{}] {e}", e.code())),
    }
}

fn inject(world: &RunbookWorld, fault: SamlFault) -> StepResult {
    world.idp().inject_saml(fault).map_err(|e| e.to_string())
}

#[given("the service provider is configured as in the SAML runbook")]
fn configured(world: &mut RunbookWorld) {
    sp(world);
}

#[given(expr = "the service provider's entity ID is {string}")]
fn sp_entity_id(world: &mut RunbookWorld, entity_id: String) {
    sp(world).entity_id = entity_id;
}

#[given(expr = "the service provider asks for a {word} NameID")]
fn asks_for_name_id(world: &mut RunbookWorld, format: String) -> StepResult {
    let format = NameIdFormat::ALL
        .into_iter()
        .find(|f| {
            f.uri()
                .to_ascii_lowercase()
                .ends_with(&format.to_ascii_lowercase())
        })
        .ok_or_else(|| format!("no NameID format `{format}`"))?;
    sp(world).name_id_format = Some(format);
    Ok(())
}

/// Its assertions are not valid yet when they arrive.
#[given("the IdP's clock runs ten minutes ahead of the service provider's")]
fn clock_ahead(world: &mut RunbookWorld) -> StepResult {
    inject(world, SamlFault::NotYetValid)
}

/// Its assertions have expired when they arrive.
#[given("the IdP's clock runs ten minutes behind the service provider's")]
fn clock_behind(world: &mut RunbookWorld) -> StepResult {
    inject(world, SamlFault::Expired)
}

#[given("the IdP signs with a new certificate the service provider's metadata does not have yet")]
fn rolled_certificate(world: &mut RunbookWorld) -> StepResult {
    inject(world, SamlFault::OtherKey)
}

#[given("the IdP addresses its assertions to another service provider's entity ID")]
fn other_audience(world: &mut RunbookWorld) -> StepResult {
    inject(world, SamlFault::WrongAudience)
}

#[given("the IdP sends SAML Responses unsigned")]
fn unsigned(world: &mut RunbookWorld) -> StepResult {
    inject(world, SamlFault::Unsigned)
}

#[given("the IdP signs SAML Responses with RSA-SHA1")]
fn sha1(world: &mut RunbookWorld) -> StepResult {
    inject(world, SamlFault::Sha1)
}

#[given("an attacker wraps the signed assertion with one of their own")]
fn wrapped(world: &mut RunbookWorld) -> StepResult {
    inject(world, SamlFault::XswEvilBefore)
}

#[when(expr = "{word} signs in over SAML")]
async fn signs_in(world: &mut RunbookWorld, username: String) {
    let password = world
        .idp()
        .password(&username)
        .unwrap_or_else(|| ssoproof_secret::Secret::new(""));
    let username = world.idp().login_name(&username);
    let config = sp(world).clone();
    let result: Result<SamlLogin, RpError> = async {
        ServiceProvider::new(config)
            .await?
            .login(&username, &password)
            .await
    }
    .await;
    world.saml_login = Some(result);
}

#[then(expr = "the SAML login succeeds with role {string}")]
fn succeeds_with_role(world: &mut RunbookWorld, role: String) -> StepResult {
    let login = last(world)?;
    ensure(login.role.name() == role, || {
        format!("signed in with role {} instead of {role}", login.role)
    })
}

#[then(expr = "the SAML login is rejected with {string}")]
fn rejected_with(world: &mut RunbookWorld, code: String) -> StepResult {
    match world
        .saml_login
        .as_ref()
        .expect("a previous step signs in over SAML")
    {
        Ok(login) => Err(format!(
            "the SAML login succeeded (role {}) but should fail with {code}",
            login.role
        )),
        Err(e) => ensure(e.code() == code, || {
            format!("rejected with [{}] {e}, not {code}", e.code())
        }),
    }
}

#[then(expr = "the SAML groups include {string}")]
fn groups_include(world: &mut RunbookWorld, group: String) -> StepResult {
    let login = last(world)?;
    ensure(login.groups.contains(&group), || {
        format!("groups are {:?}", login.groups)
    })
}

#[then(expr = "the NameID is {string} in the {word} format")]
fn name_id_is(world: &mut RunbookWorld, value: String, format: String) -> StepResult {
    let login = last(world)?;
    let found_format = login
        .name_id_format
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    ensure(
        login.name_id == value && found_format.ends_with(&format.to_ascii_lowercase()),
        || {
            format!(
                "the NameID is {:?} in the format {:?}",
                login.name_id, login.name_id_format
            )
        },
    )
}

#[then("the NameID is an opaque identifier, not the user's e-mail address")]
fn name_id_opaque(world: &mut RunbookWorld) -> StepResult {
    let login = last(world)?;
    ensure(
        !login.name_id.contains('@') && login.email.as_deref() != Some(login.name_id.as_str()),
        || {
            format!(
                "the NameID is {:?} ({:?})",
                login.name_id, login.name_id_format
            )
        },
    )
}
