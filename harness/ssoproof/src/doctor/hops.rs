//! Running the hops. Three legs: the IdP (discovery and JWKS without a token, then sign-in and
//! the ID token's validation), AWS (STS, Bedrock) and Google (STS, Vertex). A leg stops at its
//! first failure; the hops after it, and the cloud legs when the IdP leg produced no ID token,
//! are reported as not run, saying why.

use serde_json::json;

use super::profile::{AwsProfile, GcpProfile, IdpProfile, Profile, SignIn};
use super::report::{Failure, Hop, HopReport, Outcome, Report};
use super::troubleshooting::{self, Row};
use ssoproof_cloud::aws::{AssumeRoleRequest, AwsCallError, AwsClient};
use ssoproof_cloud::gcp::{self, StsError, VertexError, VertexModel};
use ssoproof_rp::{FileTokenStore, RelyingParty, RpError, Session, TokenStore};
use ssoproof_secret::Secret;

/// Codes of a login that fail before the IdP's tokens arrive: the sign-in hop's. Every other
/// code of a login is about the tokens themselves: the validation hop's.
const SIGN_IN_CODES: [&str; 7] = [
    "login_failed",
    "idp_error",
    "state_mismatch",
    "iss_param_mismatch",
    "token_request_failed",
    "refresh_failed",
    "token_store_failed",
];

/// Who signed in, for the cloud legs.
struct Identity {
    id_token: Secret,
    email: Option<String>,
    sub: String,
}

/// Collects hop outcomes and turns refusals into [`Failure`]s with their runbook rows.
struct Hops<'a> {
    rows: &'a [Row],
    done: Vec<HopReport>,
}

impl Hops<'_> {
    fn push(&mut self, hop: Hop, outcome: Outcome) {
        self.done.push(HopReport {
            hop,
            name: hop.name(),
            outcome,
        });
    }

    fn ok(&mut self, hop: Hop, detail: String) {
        self.push(hop, Outcome::Ok { detail });
    }

    fn failed(&mut self, hop: Hop, code: &str, http_status: Option<u16>, message: String) {
        let troubleshooting = troubleshooting::matching(self.rows, code, &message)
            .into_iter()
            .cloned()
            .collect();
        self.push(
            hop,
            Outcome::Failed {
                failure: Failure {
                    code: code.to_string(),
                    http_status,
                    message,
                    troubleshooting,
                },
            },
        );
    }

    fn rp_failed(&mut self, hop: Hop, error: &RpError) {
        self.failed(hop, error.code(), None, error.to_string());
    }

    fn not_run(&mut self, hops: &[Hop], because: &str) {
        for &hop in hops {
            self.push(
                hop,
                Outcome::NotRun {
                    because: because.to_string(),
                },
            );
        }
    }
}

/// Runs every configured hop; `rows` are the profile's runbooks' troubleshooting rows.
pub async fn run(profile: &Profile, rows: &[Row]) -> Report {
    let mut hops = Hops {
        rows,
        done: Vec::new(),
    };
    let identity = idp_leg(&profile.idp, &mut hops).await;
    if let Some(aws) = &profile.aws {
        match &identity {
            Ok(identity) => aws_leg(aws, &profile.idp, identity, &mut hops).await,
            Err(because) => hops.not_run(&[Hop::AwsSts, Hop::Bedrock], because),
        }
    }
    if let Some(gcp) = &profile.gcp {
        match &identity {
            Ok(identity) => gcp_leg(gcp, identity, &mut hops).await,
            Err(because) => hops.not_run(&[Hop::GoogleSts, Hop::Vertex], because),
        }
    }
    Report::new(profile.path.clone(), profile.runbooks.clone(), hops.done)
}

/// The IdP leg; on failure, why the cloud legs cannot run.
async fn idp_leg(idp: &IdpProfile, hops: &mut Hops<'_>) -> Result<Identity, String> {
    let rp = match RelyingParty::discover(idp.client.clone()).await {
        Ok(rp) => {
            hops.ok(Hop::IdpDiscovery, format!("issuer {}", idp.client.issuer));
            rp
        }
        Err(e) => {
            hops.rp_failed(Hop::IdpDiscovery, &e);
            let because = "IdP discovery failed";
            hops.not_run(&[Hop::Jwks, Hop::SignIn, Hop::TokenValidation], because);
            return Err(because.into());
        }
    };
    match rp.fetch_keys().await {
        Ok(kids) => {
            let noun = if kids.len() == 1 { "key" } else { "keys" };
            hops.ok(
                Hop::Jwks,
                format!("{} {noun}: {}", kids.len(), kids.join(", ")),
            );
        }
        Err(e) => {
            hops.rp_failed(Hop::Jwks, &e);
            let because = "the JWKS fetch failed";
            hops.not_run(&[Hop::SignIn, Hop::TokenValidation], because);
            return Err(because.into());
        }
    }
    let (session, how) = match sign_in(&rp, idp).await {
        Ok(signed_in) => signed_in,
        Err(e) if SIGN_IN_CODES.contains(&e.code()) => {
            hops.rp_failed(Hop::SignIn, &e);
            hops.not_run(&[Hop::TokenValidation], "sign-in failed");
            return Err("sign-in failed".into());
        }
        Err(e) => {
            hops.ok(
                Hop::SignIn,
                format!("the IdP issued tokens for {}", idp.username),
            );
            hops.rp_failed(Hop::TokenValidation, &e);
            return Err("token validation failed".into());
        }
    };
    hops.ok(Hop::SignIn, how);
    let outcome = &session.outcome;
    let groups = if outcome.groups.is_empty() {
        "(none)".to_string()
    } else {
        outcome.groups.join(", ")
    };
    hops.ok(
        Hop::TokenValidation,
        format!(
            "sub {}, role {}, groups {groups}",
            outcome.sub, outcome.role
        ),
    );
    Ok(Identity {
        id_token: session.id_token().clone(),
        email: outcome.email.clone(),
        sub: outcome.sub.clone(),
    })
}

/// A silent refresh from the token store, or a password sign-in whose refresh token is then
/// stored for the next run. Returns how it went, for the report.
async fn sign_in(rp: &RelyingParty, idp: &IdpProfile) -> Result<(Session, String), RpError> {
    match &idp.sign_in {
        SignIn::Stored(file) => {
            let session = rp.resume(&FileTokenStore::new(file)).await?;
            let how = format!(
                "{}'s session refreshed silently from {}",
                idp.username,
                file.display()
            );
            Ok((session, how))
        }
        SignIn::Password { password, save_to } => {
            let session = rp.login(&idp.username, password).await?;
            let mut how = format!("{} signed in with the password", idp.username);
            if let (Some(file), Some(token)) = (save_to, session.refresh_token()) {
                FileTokenStore::new(file).save_refresh_token(token)?;
                how.push_str(&format!("; refresh token saved to {}", file.display()));
            }
            Ok((session, how))
        }
    }
}

fn aws_failure(hops: &mut Hops<'_>, hop: Hop, error: &AwsCallError) {
    let message = match error {
        AwsCallError::Service { message, .. } => message.clone(),
        other => other.to_string(),
    };
    hops.failed(hop, error.code(), error.status(), message);
}

async fn aws_leg(aws: &AwsProfile, idp: &IdpProfile, identity: &Identity, hops: &mut Hops<'_>) {
    let client = AwsClient::new();
    let request = AssumeRoleRequest {
        role_arn: aws.role_arn.clone(),
        session_name: aws.session_name_for(identity.email.as_deref(), &identity.sub, &idp.username),
        web_identity_token: identity.id_token.clone(),
        duration_seconds: aws.duration_seconds,
        policy: None,
    };
    let assumed = match client
        .assume_role_with_web_identity(&aws.sts_endpoint, &request)
        .await
    {
        Ok(assumed) => assumed,
        Err(e) => {
            aws_failure(hops, Hop::AwsSts, &e);
            hops.not_run(&[Hop::Bedrock], "AWS STS failed");
            return;
        }
    };
    let until = assumed
        .credentials
        .expiration
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    hops.ok(
        Hop::AwsSts,
        format!("{}, credentials until {until}", assumed.assumed_role_arn),
    );
    let body = json!({"messages": [{"role": "user", "content": [{"text": "Say hello"}]}]});
    match client
        .converse(
            &aws.bedrock_endpoint,
            &aws.region,
            &assumed.credentials,
            &aws.model,
            &body,
        )
        .await
    {
        Ok(_) => hops.ok(
            Hop::Bedrock,
            format!("Converse with {} answered", aws.model),
        ),
        Err(e) => aws_failure(hops, Hop::Bedrock, &e),
    }
}

async fn gcp_leg(gcp: &GcpProfile, identity: &Identity, hops: &mut Hops<'_>) {
    let http = ssoproof_cloud::fetch_client(&gcp.trusted_roots);
    let token = match gcp::exchange_token(
        &http,
        &gcp.sts_endpoint,
        &gcp.audience,
        &identity.id_token,
        &gcp.project,
    )
    .await
    {
        Ok(token) => token,
        Err(e) => {
            match &e {
                StsError::Refused {
                    status,
                    error,
                    description,
                } => hops.failed(Hop::GoogleSts, error, Some(*status), description.clone()),
                other => hops.failed(Hop::GoogleSts, other.code(), None, other.to_string()),
            }
            hops.not_run(&[Hop::Vertex], "Google STS failed");
            return;
        }
    };
    let lifetime = token
        .expires_in
        .map(|s| format!(", expires in {s} s"))
        .unwrap_or_default();
    hops.ok(
        Hop::GoogleSts,
        format!("federated access token for {}{lifetime}", gcp.audience),
    );
    let model = VertexModel::by_id(&gcp.project, &gcp.location, &gcp.model);
    match gcp::say_hello(
        &http,
        &gcp.vertex_endpoint,
        model,
        &token.token,
        Some(&gcp.quota_project),
    )
    .await
    {
        Ok(_) => hops.ok(
            Hop::Vertex,
            format!("{} in {} answered", gcp.model, gcp.project),
        ),
        Err(VertexError::Refused {
            code,
            status,
            reason,
            message,
        }) => hops.failed(
            Hop::Vertex,
            reason.as_deref().unwrap_or(&status),
            Some(code),
            message,
        ),
        Err(other) => hops.failed(Hop::Vertex, other.code(), None, other.to_string()),
    }
}
