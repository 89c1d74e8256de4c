//! Steps for the vendor runbooks: which persona the feature runs against, how the application
//! is configured for it, what the vendor's admin changes, and what the tokens then say.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use serde_json::{Map, Value};

use super::{ensure, StepResult};
use crate::scenario::world::RunbookWorld;
use ssoproof_idp::{FilterType, GroupFilter, PersonaEdit};

fn persona_is(world: &RunbookWorld, wanted: &str, what: &str) -> StepResult {
    ensure(world.persona.as_deref() == Some(wanted), || {
        format!("{what} is the persona `{wanted}`: tag the feature `@persona:{wanted}`")
    })
}

#[given(expr = "the Okta org {string} from the runbook")]
fn okta_org(world: &mut RunbookWorld, _org: String) -> StepResult {
    persona_is(world, "okta", "an Okta org")
}

#[given(expr = "the Auth0 tenant {string} from the runbook")]
fn auth0_tenant(world: &mut RunbookWorld, _tenant: String) -> StepResult {
    persona_is(world, "auth0", "an Auth0 tenant")
}

#[given(expr = "the Entra ID tenant {string} from the runbook")]
fn entra_tenant(world: &mut RunbookWorld, _tenant: String) -> StepResult {
    persona_is(world, "entra-id", "an Entra ID tenant")
}

#[given(expr = "the Cognito user pool {string} from the runbook")]
fn cognito_pool(world: &mut RunbookWorld, _pool: String) -> StepResult {
    persona_is(world, "cognito", "a Cognito user pool")
}

#[given(expr = "the authentik application {string} from the runbook")]
fn authentik_application(world: &mut RunbookWorld, slug: String) -> StepResult {
    persona_is(world, "authentik", "an authentik application")?;
    let issuer = world.idp().issuer();
    ensure(issuer.ends_with(&format!("/application/o/{slug}/")), || {
        format!("the provider's issuer is {issuer}, not the application `{slug}`'s")
    })
}

#[given(expr = "the Keycloak realm {string} brokering Google Workspace from the runbook")]
fn google_broker(world: &mut RunbookWorld, realm: String) -> StepResult {
    persona_is(
        world,
        "google-workspace",
        "Google Workspace brokered by Keycloak",
    )?;
    let issuer = world.idp().issuer();
    ensure(issuer.ends_with(&format!("/realms/{realm}")), || {
        format!("the broker serves {issuer}, not the realm `{realm}`")
    })
}

/// The application's configuration changed: a new relying party is discovered at next use.
fn reconfigured(world: &mut RunbookWorld) {
    world.rp = None;
}

#[given(expr = "the application requests the scopes {string}")]
fn requested_scopes(world: &mut RunbookWorld, scopes: String) {
    world.app().scopes = scopes.split_whitespace().map(str::to_string).collect();
    reconfigured(world);
}

#[given("the application maps groups to roles:")]
fn mappings(world: &mut RunbookWorld, step: &Step) -> StepResult {
    let table = step.table.as_ref().ok_or("the step needs a table")?;
    let app = world.app();
    let mut mappings = Vec::new();
    for row in &table.rows {
        let [group, role] = row.as_slice() else {
            return Err(format!("each row is | group | role |, not {row:?}"));
        };
        mappings.push((
            group.clone(),
            app.roles.role(role).map_err(|e| e.to_string())?,
        ));
    }
    app.role_mappings = mappings;
    Ok(())
}

#[given(expr = "the application's issuer is the IdP's {string} issuer")]
fn issuer_named(world: &mut RunbookWorld, key: String) -> StepResult {
    let issuer = world
        .idp()
        .issuer_named(&key)
        .ok_or_else(|| format!("the IdP serves no issuer named `{key}`"))?;
    world.app().issuer = issuer;
    reconfigured(world);
    Ok(())
}

#[given("the application's issuer lacks the trailing slash")]
fn issuer_without_slash(world: &mut RunbookWorld) -> StepResult {
    let app = world.app();
    ensure(app.issuer.ends_with('/'), || {
        format!("the issuer {} has no trailing slash to drop", app.issuer)
    })?;
    app.issuer.pop();
    Ok(())
}

#[given(expr = "the application's issuer drops the suffix {string}")]
fn issuer_drops(world: &mut RunbookWorld, suffix: String) -> StepResult {
    let app = world.app();
    app.issuer = app
        .issuer
        .strip_suffix(&suffix)
        .ok_or_else(|| format!("the issuer {} does not end in {suffix}", app.issuer))?
        .to_string();
    Ok(())
}

#[given(expr = "the application's client is {string}")]
fn client(world: &mut RunbookWorld, client_id: String) -> StepResult {
    let client = world
        .idp()
        .client_named(&client_id)
        .ok_or_else(|| format!("the IdP has no client `{client_id}`"))?;
    let app = world.app();
    app.client_id = client.client_id;
    app.client_secret = client.secret;
    reconfigured(world);
    Ok(())
}

#[given(expr = "the application sends the authorization parameter {string}")]
fn authorization_param(world: &mut RunbookWorld, pair: String) -> StepResult {
    let (key, value) = pair
        .split_once('=')
        .ok_or_else(|| format!("`{pair}` is not KEY=VALUE"))?;
    world
        .app()
        .authorization_params
        .push((key.to_string(), value.to_string()));
    Ok(())
}

#[given("the application sends no extra authorization parameters")]
fn no_authorization_params(world: &mut RunbookWorld) {
    world.app().authorization_params.clear();
}

async fn edit(world: &mut RunbookWorld, edit: PersonaEdit) -> StepResult {
    world
        .idp()
        .edit_persona(edit)
        .await
        .map_err(|e| e.to_string())
}

fn filter(kind: &str, value: String) -> Result<GroupFilter, String> {
    let kind = match kind {
        "STARTS_WITH" => FilterType::StartsWith,
        "EQUALS" => FilterType::Equals,
        "CONTAINS" => FilterType::Contains,
        "REGEX" => FilterType::Regex,
        other => return Err(format!("unknown filter type {other}")),
    };
    Ok(GroupFilter { kind, value })
}

#[given(expr = "the {string} authorization server's groups claim filters with {word} {string}")]
async fn okta_server_filter(
    world: &mut RunbookWorld,
    server: String,
    kind: String,
    value: String,
) -> StepResult {
    let filter = filter(&kind, value)?;
    edit(
        world,
        PersonaEdit::OktaGroupsClaim {
            server: Some(server),
            filter: Some(filter),
        },
    )
    .await
}

#[given(expr = "the {string} authorization server has no groups claim")]
async fn okta_server_no_claim(world: &mut RunbookWorld, server: String) -> StepResult {
    edit(
        world,
        PersonaEdit::OktaGroupsClaim {
            server: Some(server),
            filter: None,
        },
    )
    .await
}

#[given("the app has no groups claim on the org authorization server")]
async fn okta_org_no_claim(world: &mut RunbookWorld) -> StepResult {
    edit(
        world,
        PersonaEdit::OktaGroupsClaim {
            server: None,
            filter: None,
        },
    )
    .await
}

#[given(expr = "the post-login Action sets the roles as the claim {string}")]
async fn auth0_claim(world: &mut RunbookWorld, claim: String) -> StepResult {
    edit(world, PersonaEdit::Auth0GroupsClaim { claim: Some(claim) }).await
}

#[given("no Action is in the post-login trigger")]
async fn auth0_no_action(world: &mut RunbookWorld) -> StepResult {
    edit(world, PersonaEdit::Auth0GroupsClaim { claim: None }).await
}

#[given(expr = "the application's JWT signature algorithm is {word} in Auth0")]
async fn auth0_alg(world: &mut RunbookWorld, algorithm: String) -> StepResult {
    edit(world, PersonaEdit::Auth0SigningAlgorithm { algorithm }).await
}

#[given(expr = "the app registration emits {word} groups claims")]
async fn entra_groups(world: &mut RunbookWorld, value: String) -> StepResult {
    edit(world, PersonaEdit::EntraGroupMembershipClaims { value }).await
}

#[given("the app registration has no email optional claim")]
async fn entra_no_email(world: &mut RunbookWorld) -> StepResult {
    edit(
        world,
        PersonaEdit::EntraEmailOptionalClaim { enabled: false },
    )
    .await
}

#[given(expr = "the app registration's requestedAccessTokenVersion is {int}")]
async fn entra_version(world: &mut RunbookWorld, version: u8) -> StepResult {
    edit(world, PersonaEdit::EntraAccessTokenVersion { version }).await
}

#[given("a claims-mapping policy is assigned to the app registration")]
async fn entra_policy(world: &mut RunbookWorld) -> StepResult {
    edit(
        world,
        PersonaEdit::EntraClaimsMappingPolicy { assigned: true },
    )
    .await
}

#[given(expr = "the Google OAuth consent screen's user type is {word}")]
async fn google_consent(world: &mut RunbookWorld, user_type: String) -> StepResult {
    edit(world, PersonaEdit::GoogleConsentScreen { user_type }).await
}

#[given(expr = "the Google OAuth client {string} has a new secret")]
async fn google_new_secret(world: &mut RunbookWorld, client_id: String) -> StepResult {
    let secret = format!("GOCSPX-{}", uuid::Uuid::new_v4().simple());
    edit(world, PersonaEdit::GoogleClientSecret { client_id, secret }).await
}

#[given(expr = "the app client allows the scopes {string}")]
async fn cognito_scopes(world: &mut RunbookWorld, allowed: String) -> StepResult {
    let scopes = allowed.split_whitespace().map(str::to_string).collect();
    edit(world, PersonaEdit::CognitoAllowedScopes { scopes }).await
}

#[given(expr = "the provider's scope mappings provide only {string}")]
async fn authentik_scopes(world: &mut RunbookWorld, scopes: String) -> StepResult {
    let scopes = scopes.split_whitespace().map(str::to_string).collect();
    edit(world, PersonaEdit::AuthentikScopes { scopes }).await
}

#[given(expr = "the provider's subject mode is {word}")]
async fn authentik_sub_mode(world: &mut RunbookWorld, mode: String) -> StepResult {
    edit(world, PersonaEdit::AuthentikSubMode { mode }).await
}

#[given("the provider has no signing key")]
async fn authentik_no_signing_key(world: &mut RunbookWorld) -> StepResult {
    edit(
        world,
        PersonaEdit::AuthentikSigningKey { certificate: None },
    )
    .await
}

#[when(expr = "the provider's signing key becomes {string}")]
async fn authentik_signing_key(world: &mut RunbookWorld, certificate: String) -> StepResult {
    edit(
        world,
        PersonaEdit::AuthentikSigningKey {
            certificate: Some(certificate),
        },
    )
    .await
}

#[given("the provider does not include claims in the ID token")]
async fn authentik_no_claims_in_id_token(world: &mut RunbookWorld) -> StepResult {
    edit(
        world,
        PersonaEdit::AuthentikIncludeClaimsInIdToken { enabled: false },
    )
    .await
}

#[given(expr = "the identity provider {string} has no mapper {string}")]
async fn idp_mapper_removed(world: &mut RunbookWorld, alias: String, mapper: String) -> StepResult {
    world
        .idp()
        .set_identity_provider_mapper(&alias, &mapper, None)
        .await
        .map_err(|e| e.to_string())
}

#[when(
    expr = "the mapper {string} of the identity provider {string} is added with sync mode {word}"
)]
async fn idp_mapper_mode(
    world: &mut RunbookWorld,
    mapper: String,
    alias: String,
    mode: String,
) -> StepResult {
    world
        .idp()
        .set_identity_provider_mapper(&alias, &mapper, Some(&mode))
        .await
        .map_err(|e| e.to_string())
}

#[when(expr = "the administrator adds {word} to the group {string}")]
async fn add_to_group(world: &mut RunbookWorld, username: String, group: String) -> StepResult {
    world
        .idp()
        .add_user_to_group(&username, &group)
        .await
        .map_err(|e| e.to_string())
}

#[when(expr = "the administrator deletes the user {word}")]
async fn delete_user(world: &mut RunbookWorld, username: String) -> StepResult {
    world
        .idp()
        .delete_user(&username)
        .await
        .map_err(|e| e.to_string())
}

#[when(expr = "{int} seconds pass")]
async fn seconds_pass(world: &mut RunbookWorld, seconds: i64) -> StepResult {
    world
        .idp()
        .advance_clock(seconds)
        .await
        .map_err(|e| e.to_string())
}

fn outcome_claims(world: &RunbookWorld) -> Result<&Map<String, Value>, String> {
    world
        .last_login()
        .as_ref()
        .map(|o| &o.claims)
        .map_err(|e| format!("the login was rejected: [{}] {e}", e.code()))
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[then(expr = "the claim {string} is {string}")]
fn claim_is(world: &mut RunbookWorld, name: String, expected: String) -> StepResult {
    let claims = outcome_claims(world)?;
    let found = claims.get(&name).map(shown);
    ensure(found.as_deref() == Some(expected.as_str()), || {
        format!("the claim `{name}` is {found:?}, expected {expected}")
    })
}

#[then(expr = "the claim {string} is the application's issuer")]
fn claim_is_issuer(world: &mut RunbookWorld, name: String) -> StepResult {
    let issuer = world.app().issuer.clone();
    claim_is(world, name, issuer)
}

fn id_token_claims(world: &RunbookWorld) -> Result<Map<String, Value>, String> {
    let session = world.session.as_ref().ok_or("nobody signed in")?;
    let payload = session
        .id_token()
        .expose()
        .split('.')
        .nth(1)
        .ok_or("the ID token is not a JWS")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| format!("the ID token's payload is not base64url: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("the ID token's payload is not JSON: {e}"))
}

#[then(expr = "the ID token has the claim {string}")]
fn id_token_has(world: &mut RunbookWorld, name: String) -> StepResult {
    let claims = id_token_claims(world)?;
    ensure(claims.contains_key(&name), || {
        format!(
            "the ID token has no `{name}`; it has {:?}",
            claims.keys().collect::<Vec<_>>()
        )
    })
}

#[then(expr = "the ID token lacks the claim {string}")]
fn id_token_lacks(world: &mut RunbookWorld, name: String) -> StepResult {
    let claims = id_token_claims(world)?;
    ensure(!claims.contains_key(&name), || {
        format!("the ID token has `{name}`: {}", claims[&name])
    })
}

#[then(expr = "the sub matches {string}")]
fn sub_matches(world: &mut RunbookWorld, pattern: String) -> StepResult {
    let regex = regex::Regex::new(&pattern).map_err(|e| e.to_string())?;
    let outcome = world
        .last_login()
        .as_ref()
        .map_err(|e| format!("rejected: [{}] {e}", e.code()))?;
    ensure(regex.is_match(&outcome.sub), || {
        format!("the sub `{}` does not match {pattern}", outcome.sub)
    })
}

#[then(expr = "the sub is not the upstream IdP's id for {word}")]
fn sub_not_upstream(world: &mut RunbookWorld, username: String) -> StepResult {
    let upstream = world
        .idp()
        .upstream_user_id(&username)
        .ok_or_else(|| format!("the upstream IdP does not know {username}"))?;
    let outcome = world
        .last_login()
        .as_ref()
        .map_err(|e| format!("rejected: [{}] {e}", e.code()))?;
    ensure(outcome.sub != upstream, || {
        format!("the application received the upstream's sub {upstream}")
    })
}

#[then(expr = "the groups are {string}")]
fn groups_are(world: &mut RunbookWorld, expected: String) -> StepResult {
    let expected: Vec<&str> = expected
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .collect();
    let outcome = world
        .last_login()
        .as_ref()
        .map_err(|e| format!("rejected: [{}] {e}", e.code()))?;
    ensure(outcome.groups == expected, || {
        format!("the groups are {:?}, expected {expected:?}", outcome.groups)
    })
}

#[then("the email is absent")]
fn email_absent(world: &mut RunbookWorld) -> StepResult {
    let outcome = world
        .last_login()
        .as_ref()
        .map_err(|e| format!("rejected: [{}] {e}", e.code()))?;
    ensure(outcome.email.is_none(), || {
        format!("the email is {:?}", outcome.email)
    })
}

fn previous(world: &RunbookWorld) -> Result<&ssoproof_rp::LoginOutcome, String> {
    world
        .previous_login
        .as_ref()
        .ok_or_else(|| "there was no earlier sign-in in this scenario".to_string())
}

#[then(expr = "the sub and the claim {string} are those of the previous sign-in")]
fn same_as_previous(world: &mut RunbookWorld, claim: String) -> StepResult {
    let before = previous(world)?.clone();
    let now = world
        .last_login()
        .as_ref()
        .map_err(|e| format!("rejected: [{}] {e}", e.code()))?;
    ensure(now.sub == before.sub, || {
        format!("the sub changed from {} to {}", before.sub, now.sub)
    })?;
    ensure(now.claims.get(&claim) == before.claims.get(&claim), || {
        format!(
            "`{claim}` changed from {:?} to {:?}",
            before.claims.get(&claim),
            now.claims.get(&claim)
        )
    })
}

#[then(expr = "the sub differs from the previous sign-in's but the claim {string} does not")]
fn pairwise(world: &mut RunbookWorld, claim: String) -> StepResult {
    let before = previous(world)?.clone();
    let now = world
        .last_login()
        .as_ref()
        .map_err(|e| format!("rejected: [{}] {e}", e.code()))?;
    ensure(now.sub != before.sub, || {
        format!("the sub is the same, {}", now.sub)
    })?;
    ensure(now.claims.get(&claim) == before.claims.get(&claim), || {
        format!(
            "`{claim}` changed from {:?} to {:?}",
            before.claims.get(&claim),
            now.claims.get(&claim)
        )
    })
}

#[then("the sub differs from the previous sign-in's")]
fn sub_changed(world: &mut RunbookWorld) -> StepResult {
    let before = previous(world)?.sub.clone();
    let now = world
        .last_login()
        .as_ref()
        .map_err(|e| format!("rejected: [{}] {e}", e.code()))?;
    ensure(now.sub != before, || format!("the sub is still {before}"))
}

#[then(expr = "the issuer is not the IdP's {string} issuer")]
fn issuer_is_not(world: &mut RunbookWorld, key: String) -> StepResult {
    let other = world
        .idp()
        .issuer_named(&key)
        .ok_or_else(|| format!("the IdP serves no issuer named `{key}`"))?;
    let configured = world.app().issuer.clone();
    ensure(configured != other, || {
        format!("the application is configured with {other}")
    })
}

#[then("it does not end in a slash")]
fn observed_issuer_no_slash(world: &mut RunbookWorld) -> StepResult {
    let issuer = discovered_issuer(world)?;
    ensure(!issuer.ends_with('/'), || format!("the issuer is {issuer}"))
}

#[then("it ends in a slash")]
fn observed_issuer_slash(world: &mut RunbookWorld) -> StepResult {
    let issuer = discovered_issuer(world)?;
    ensure(issuer.ends_with('/'), || format!("the issuer is {issuer}"))
}

fn discovered_issuer(world: &RunbookWorld) -> Result<String, String> {
    let observed = world
        .observed
        .as_ref()
        .ok_or("no discovery document was fetched")?;
    let doc: Value = serde_json::from_str(&observed.body).map_err(|e| e.to_string())?;
    doc["issuer"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "the document has no issuer".to_string())
}
