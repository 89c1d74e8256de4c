//! Given: the IdP and the application as the runbook configures them, and the deviations a
//! troubleshooting row describes.

use cucumber::{given, when};

use super::StepResult;
use crate::scenario::world::RunbookWorld;
use ssoproof_idp::Fault;
use ssoproof_probe::scim::dialect::deactivation;
use ssoproof_probe::scim::Dialect;
use ssoproof_rp::AuthMethod;
use ssoproof_secret::Secret;

#[given(expr = "the Keycloak realm {string} from the runbook")]
fn realm_from_runbook(world: &mut RunbookWorld, realm: String) -> StepResult {
    let issuer = world.idp().issuer();
    super::ensure(
        issuer.ends_with(&format!("/realms/{realm}")) || world.idp().backend() != "emulator",
        || format!("the emulator serves {issuer}, not the realm `{realm}`"),
    )
}

#[given("the application is configured as in the runbook")]
fn application_as_in_runbook(world: &mut RunbookWorld) {
    world.app();
}

#[given("the application's issuer has a trailing slash")]
fn issuer_trailing_slash(world: &mut RunbookWorld) {
    let app = world.app();
    app.issuer.push('/');
}

#[given(expr = "the application's issuer ends in {string}")]
fn issuer_suffix(world: &mut RunbookWorld, suffix: String) {
    world.app().issuer.push_str(&suffix);
}

#[given(expr = "the application's issuer names the realm {string}")]
fn issuer_names_realm(world: &mut RunbookWorld, realm: String) -> StepResult {
    let app = world.app();
    let (base, _) = app
        .issuer
        .rsplit_once("/realms/")
        .ok_or_else(|| format!("issuer {} has no /realms/ segment", app.issuer))?;
    app.issuer = format!("{base}/realms/{realm}");
    Ok(())
}

#[given(expr = "the application's client secret is {string}")]
fn client_secret(world: &mut RunbookWorld, secret: String) {
    world.app().client_secret = Some(Secret::new(secret));
}

#[given(expr = "the application authenticates to the token endpoint with {word}")]
fn auth_method(world: &mut RunbookWorld, method: String) -> StepResult {
    world.app().auth_method = match method.as_str() {
        "client_secret_basic" => AuthMethod::ClientSecretBasic,
        "client_secret_post" => AuthMethod::ClientSecretPost,
        other => return Err(format!("unknown token endpoint auth method {other}")),
    };
    Ok(())
}

#[given(expr = "the application's default role is {string}")]
fn default_role(world: &mut RunbookWorld, role: String) -> StepResult {
    let app = world.app();
    app.default_role = Some(app.roles.role(&role).map_err(|e| e.to_string())?);
    Ok(())
}

#[given(expr = "the application maps only {string} to {string}")]
fn only_mapping(world: &mut RunbookWorld, group: String, role: String) -> StepResult {
    let app = world.app();
    let role = app.roles.role(&role).map_err(|e| e.to_string())?;
    app.role_mappings = vec![(group, role)];
    Ok(())
}

#[given(expr = "the application reads groups from the claim {string}")]
fn groups_claim(world: &mut RunbookWorld, path: String) {
    world.app().groups_claim = path;
}

#[given("the client's group mapper has no \"full.path\" setting")]
async fn mapper_without_full_path(world: &mut RunbookWorld) -> StepResult {
    world
        .idp()
        .set_group_mapper_full_path(None)
        .await
        .map_err(|e| e.to_string())
}

#[given("the client has no group-membership mapper")]
async fn no_group_mapper(world: &mut RunbookWorld) -> StepResult {
    world
        .idp()
        .remove_group_mapper()
        .await
        .map_err(|e| e.to_string())
}

/// Also the offboarding step of the cloud runbooks, where it happens mid-scenario.
#[given(expr = "the user {string} is disabled in the IdP")]
#[when(expr = "{word} is disabled in the IdP")]
async fn user_disabled(world: &mut RunbookWorld, username: String) -> StepResult {
    world
        .idp()
        .set_user_enabled(&username, false)
        .await
        .map_err(|e| e.to_string())
}

/// The deprovisioning drill through SCIM: the user is looked up with `userName eq` and PATCHed
/// `active: false` in the request shape `dialect`'s provisioning client sends (`rfc`,
/// `entra-id`, `okta`; the shapes `probe scim` sends), at the IdP's SCIM endpoint.
#[when(expr = "{word} is deprovisioned over SCIM as {word} sends it")]
async fn deprovisioned_over_scim(
    world: &mut RunbookWorld,
    username: String,
    dialect: String,
) -> StepResult {
    let dialect: Dialect = dialect.parse()?;
    let base = world
        .idp()
        .scim_base_url()
        .ok_or("this IdP has no SCIM endpoint for the drill: tag the scenario @emulator")?;
    let name = world.idp().login_name(&username);
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let filter: String = url::form_urlencoded::byte_serialize(
        format!("userName eq {}", serde_json::Value::String(name.clone())).as_bytes(),
    )
    .collect();
    let lookup = format!("{base}/Users?filter={filter}");
    let found: serde_json::Value = client
        .get(&lookup)
        .send()
        .await
        .map_err(|e| format!("GET {lookup}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("GET {lookup}: not JSON: {e}"))?;
    let id = found["Resources"][0]["id"]
        .as_str()
        .ok_or_else(|| format!("GET {lookup}: no User named {name}: {found}"))?;
    let url = format!("{base}/Users/{id}");
    let answer = client
        .patch(&url)
        .json(&deactivation(dialect))
        .send()
        .await
        .map_err(|e| format!("PATCH {url}: {e}"))?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    super::ensure(status.is_success() && body["active"] == false, || {
        format!("PATCH {url} answered {status} {body}")
    })
}

/// Faults by their snake_case names, e.g. `wrong_issuer`, `alg_none`, `jwks_down`.
#[given(expr = "the IdP misbehaves: {word}")]
fn idp_misbehaves(world: &mut RunbookWorld, fault: String) -> StepResult {
    let fault: Fault = serde_json::from_value(serde_json::json!({ "fault": fault }))
        .map_err(|e| format!("no such fault `{fault}`: {e}"))?;
    world.idp().inject(fault).map_err(|e| e.to_string())
}

#[given(expr = "the IdP's clock runs {int} seconds ahead of the application's")]
fn clock_skew(world: &mut RunbookWorld, seconds: i64) -> StepResult {
    world
        .idp()
        .inject(Fault::ClockSkew { seconds })
        .map_err(|e| e.to_string())
}

#[given(expr = "the IdP's JWKS endpoint answers after {int} seconds")]
fn jwks_slow(world: &mut RunbookWorld, seconds: u64) -> StepResult {
    world
        .idp()
        .inject(Fault::JwksSlow {
            millis: seconds * 1000,
        })
        .map_err(|e| e.to_string())
}
