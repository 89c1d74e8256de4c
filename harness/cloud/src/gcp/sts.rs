//! The emulated `sts.googleapis.com/v1/token`: the workforce identity federation token exchange.
//!
//! The request is form-encoded and unauthenticated (an `Authorization` header is ignored); the
//! subject token is an ID token (or JWT) from the pool provider's issuer. Checks and errors
//! follow what Google answers, including its wording; the emulator's own words are used only
//! where Google's are not known, and say so in the comments.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::Algorithm;
use serde_json::{json, Map, Value};

use super::attributes::{self, Rejection};
use super::config::{Provider, WorkforcePool};
use super::iam::Caller;
use super::tokens::Grant;
use super::GcpState;
use crate::web_identity::{self, KeyError};
use ssoproof_secret::Secret;

pub const GRANT_TYPE_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const TOKEN_TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const TOKEN_TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const AUDIENCE_PREFIX: &str = "//iam.googleapis.com/locations/global/workforcePools/";

/// Google tolerates about a minute of clock skew on `iat` and `exp`.
const LEEWAY_SECS: i64 = 60;
/// A subject token may not live longer than this (`exp` − `iat`).
const MAX_TOKEN_LIFETIME_SECS: i64 = 48 * 3600;
/// Federated tokens live at most an hour, and never beyond the subject token.
const MAX_ACCESS_TOKEN_SECS: i64 = 3600;

/// An STS refusal: HTTP status and Google's OAuth error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsFailure {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl StsFailure {
    fn new(error: &'static str, description: impl Into<String>) -> StsFailure {
        StsFailure {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
        }
    }

    fn invalid_value(field: &str) -> StsFailure {
        StsFailure::new("invalid_request", format!("Invalid value for \"{field}\"."))
    }

    fn invalid_grant(description: impl Into<String>) -> StsFailure {
        StsFailure::new("invalid_grant", description)
    }

    fn issuer_unreachable() -> StsFailure {
        StsFailure::invalid_grant("Error connecting to the given credential's issuer.")
    }
}

impl IntoResponse for StsFailure {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        (self.status, axum::Json(body)).into_response()
    }
}

/// A well-formed token exchange request.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRequest {
    pub pool: String,
    pub provider: String,
    pub scopes: Vec<String>,
    pub subject_token: Secret,
    pub user_project: Option<String>,
}

/// Parses the form body. Every malformed input is an `invalid_request`, never a panic.
pub fn parse_token_request(body: &[u8]) -> Result<TokenRequest, StsFailure> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| {
        StsFailure::new(
            "invalid_request",
            "The request body is not a valid application/x-www-form-urlencoded form.",
        )
    })?;
    let field = |name: &str| -> Result<Option<&str>, StsFailure> {
        let mut values = pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (Some(_), Some(_)) => Err(StsFailure::invalid_value(name)),
            (value, _) => Ok(value),
        }
    };
    let required = |name: &str| -> Result<&str, StsFailure> {
        field(name)?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| StsFailure::invalid_value(name))
    };
    if required("grant_type")? != GRANT_TYPE_TOKEN_EXCHANGE {
        return Err(StsFailure::new(
            "unsupported_grant_type",
            format!("Invalid value for \"grant_type\". Expected {GRANT_TYPE_TOKEN_EXCHANGE}."),
        ));
    }
    if required("requested_token_type")? != TOKEN_TYPE_ACCESS_TOKEN {
        return Err(StsFailure::invalid_value("requested_token_type"));
    }
    if ![TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_JWT].contains(&required("subject_token_type")?) {
        return Err(StsFailure::invalid_value("subject_token_type"));
    }
    let (pool, provider) = parse_audience(required("audience")?)?;
    let subject_token = Secret::new(required("subject_token")?);
    let scopes = field("scope")?
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let user_project = field("options")?.map(decode_options).transpose()?;
    Ok(TokenRequest {
        pool,
        provider,
        scopes,
        subject_token,
        user_project: user_project.flatten(),
    })
}

/// `//iam.googleapis.com/locations/global/workforcePools/POOL/providers/PROVIDER`.
pub fn parse_audience(audience: &str) -> Result<(String, String), StsFailure> {
    let invalid = || {
        StsFailure::new(
            "invalid_request",
            "Invalid value for \"audience\". This value should be the full resource name of the \
             Identity Provider. See https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token \
             for the list of possible formats.",
        )
    };
    let rest = audience.strip_prefix(AUDIENCE_PREFIX).ok_or_else(invalid)?;
    match rest.split('/').collect::<Vec<_>>()[..] {
        [pool, "providers", provider] if !pool.is_empty() && !provider.is_empty() => {
            Ok((pool.to_string(), provider.to_string()))
        }
        _ => Err(invalid()),
    }
}

/// The `options` parameter: JSON that google-auth URL-quotes before form-encoding it, so it is
/// percent-decoded once more here (harmless for a client that sent the JSON unquoted).
/// Returns the `userProject`, if given.
pub fn decode_options(options: &str) -> Result<Option<String>, StsFailure> {
    let json = percent_encoding::percent_decode_str(options)
        .decode_utf8()
        .map_err(|_| StsFailure::invalid_value("options"))?;
    let options: Map<String, Value> =
        serde_json::from_str(&json).map_err(|_| StsFailure::invalid_value("options"))?;
    match options.get("userProject") {
        None => Ok(None),
        Some(Value::String(project)) if !project.is_empty() => Ok(Some(project.clone())),
        Some(_) => Err(StsFailure::invalid_value("options")),
    }
}

/// `POST /v1/token`.
pub async fn token(
    State(state): State<std::sync::Arc<GcpState>>,
    body: axum::body::Bytes,
) -> Response {
    match exchange(&state, &body).await {
        Ok(success) => axum::Json(success).into_response(),
        Err(failure) => failure.into_response(),
    }
}

async fn exchange(state: &GcpState, body: &[u8]) -> Result<Value, StsFailure> {
    let request = parse_token_request(body)?;
    let (pool, provider) = find_provider(state, &request.pool, &request.provider)?;
    if request.user_project.is_none() {
        // Emulator wording: Google requires the user project for workforce pools exchanged
        // without client authentication, which is the only kind emulated here.
        return Err(StsFailure::new(
            "invalid_request",
            "Invalid value for \"options\". A workforce pool token exchange without client \
             authentication needs options={\"userProject\": \"<project>\"}.",
        ));
    }
    let claims = verify_subject_token(state, provider, request.subject_token.expose()).await?;
    let identity = attributes::apply(
        &provider.attribute_mapping,
        provider.attribute_condition.as_ref(),
        &claims,
    )
    .map_err(rejection)?;
    let now = unix_now();
    let exp = claims.get("exp").and_then(Value::as_f64).unwrap_or(0.0) as i64;
    let expires_in = exp.saturating_sub(now).clamp(1, MAX_ACCESS_TOKEN_SECS);
    let token = state.tokens.mint(Grant {
        caller: Caller::Federated {
            pool: pool.id.as_str().to_string(),
            identity,
        },
        issued_by: format!(
            "{AUDIENCE_PREFIX}{}/providers/{}",
            pool.id.as_str(),
            provider.id.as_str()
        ),
        scopes: request.scopes,
        user_project: request.user_project,
        expires_at: SystemTime::now() + Duration::from_secs(expires_in as u64),
    });
    Ok(json!({
        "access_token": token.expose(),
        "issued_token_type": TOKEN_TYPE_ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": expires_in,
    }))
}

fn find_provider<'a>(
    state: &'a GcpState,
    pool: &str,
    provider: &str,
) -> Result<(&'a WorkforcePool, &'a Provider), StsFailure> {
    let found = state
        .config
        .pool(pool)
        .filter(|p| !p.disabled)
        .and_then(|p| {
            p.providers
                .iter()
                .find(|v| v.id.as_str() == provider && !v.disabled)
                .map(|v| (p, v))
        });
    found.ok_or_else(|| {
        StsFailure::new(
            "invalid_target",
            "The target service indicated by the \"audience\" parameters is invalid. This might \
             either be because the pool or provider is disabled or deleted or because it doesn't \
             exist.",
        )
    })
}

/// Google's subject-token checks, in its order; returns the verified claims.
async fn verify_subject_token(
    state: &GcpState,
    provider: &Provider,
    token: &str,
) -> Result<Map<String, Value>, StsFailure> {
    let (header, claims) = web_identity::peek(token)
        .map_err(|_| StsFailure::invalid_grant("Unable to parse the ID Token."))?;
    // Without a `kid` Google cannot pick a key and says so as for an unknown one.
    if header.kid.is_none() || ![Algorithm::RS256, Algorithm::ES256].contains(&header.alg) {
        return Err(StsFailure::issuer_unreachable());
    }
    let issuer = provider.issuer_uri.as_str();
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(StsFailure::invalid_grant(format!(
            "The issuer in ID Token {} does not match the expected one in config: {issuer}.",
            display_claim(claims.get("iss"))
        )));
    }
    let verified = web_identity::verify(
        &state.http,
        token,
        &provider.key_source(),
        &[Algorithm::RS256, Algorithm::ES256],
    )
    .await
    .map_err(|e| match e {
        KeyError::Signature => {
            StsFailure::invalid_grant("Unable to verify the ID Token signature.")
        }
        KeyError::Malformed(_) => StsFailure::invalid_grant("Unable to parse the ID Token."),
        KeyError::Algorithm(_) | KeyError::Fetch { .. } | KeyError::UnknownKid { .. } => {
            StsFailure::issuer_unreachable()
        }
    })?;
    let claims = verified.claims;
    check_audience(&claims, &provider.client_id)?;
    check_times(&claims, unix_now())?;
    Ok(claims)
}

fn check_audience(claims: &Map<String, Value>, client_id: &str) -> Result<(), StsFailure> {
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if audiences.contains(&client_id) {
        return Ok(());
    }
    Err(StsFailure::invalid_grant(format!(
        "The audience in ID Token [{}] does not match the expected audience.",
        audiences.join(", ")
    )))
}

fn check_times(claims: &Map<String, Value>, now: i64) -> Result<(), StsFailure> {
    let number = |name: &str| claims.get(name).and_then(Value::as_f64).map(|v| v as i64);
    let stale = |iat: &str| {
        StsFailure::invalid_grant(format!("ID Token issued at {iat} is stale to sign-in."))
    };
    let Some(iat) = number("iat") else {
        return Err(stale("null"));
    };
    let Some(exp) = number("exp") else {
        return Err(stale(&iat.to_string()));
    };
    // Claims are attacker-chosen numbers: saturate rather than overflow.
    if exp.saturating_add(LEEWAY_SECS) <= now {
        return Err(stale(&iat.to_string()));
    }
    if iat > now + LEEWAY_SECS {
        // Emulator wording: Google refuses a token from the future with words not recorded.
        return Err(StsFailure::invalid_grant(format!(
            "ID Token issued at {iat} is in the future."
        )));
    }
    if exp.saturating_sub(iat) >= MAX_TOKEN_LIFETIME_SECS {
        // Emulator wording for the documented 48-hour rule.
        return Err(StsFailure::invalid_grant(format!(
            "ID Token issued at {iat} expires at {exp}: a subject token must expire less than 48 hours after it is issued."
        )));
    }
    Ok(())
}

fn rejection(rejection: Rejection) -> StsFailure {
    match rejection {
        Rejection::Condition => StsFailure::new(
            "unauthorized_client",
            "The given credential is rejected by the attribute condition.",
        ),
        Rejection::SubjectNotString => StsFailure::new(
            "unauthorized_client",
            "The mapped attribute 'google.subject' must be of type STRING.",
        ),
        Rejection::SubjectTooLong => StsFailure::new(
            "invalid_request",
            "The size of mapped attribute google.subject exceeds the 127 bytes limit. Either \
             modify your attribute mapping or the incoming assertion to produce a mapped \
             attribute that is less than 127 bytes.",
        ),
        // Emulator wording, patterned on the subject's.
        Rejection::GroupsNotList => StsFailure::new(
            "unauthorized_client",
            "The mapped attribute 'google.groups' must be of type LIST.",
        ),
    }
}

/// A claim as Google prints it in messages: the string itself, or `null`.
fn display_claim(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "null".into(),
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUDIENCE: &str =
        "//iam.googleapis.com/locations/global/workforcePools/acme-workforce/providers/acme-idp";

    fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
        serde_urlencoded::to_string(pairs).unwrap().into_bytes()
    }

    fn valid() -> Vec<(&'static str, &'static str)> {
        vec![
            ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
            ("audience", AUDIENCE),
            ("scope", CLOUD_PLATFORM_SCOPE),
            ("requested_token_type", TOKEN_TYPE_ACCESS_TOKEN),
            ("subject_token", "a.b.c"),
            ("subject_token_type", TOKEN_TYPE_ID_TOKEN),
            ("options", "%7B%22userProject%22%3A%20%22acme-ai%22%7D"),
        ]
    }

    fn without(name: &str) -> Vec<(&'static str, &'static str)> {
        valid().into_iter().filter(|(k, _)| *k != name).collect()
    }

    fn with(name: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
        let mut pairs = without(name);
        pairs.push((name, value));
        pairs
    }

    #[test]
    fn parses_what_google_auth_sends() {
        let request = parse_token_request(&form(&valid())).unwrap();
        assert_eq!(request.pool, "acme-workforce");
        assert_eq!(request.provider, "acme-idp");
        assert_eq!(request.scopes, [CLOUD_PLATFORM_SCOPE]);
        assert_eq!(request.user_project.as_deref(), Some("acme-ai"));
        assert_eq!(request.subject_token.expose(), "a.b.c");
        // Unquoted JSON options work as well.
        let request =
            parse_token_request(&form(&with("options", r#"{"userProject":"acme-ai"}"#))).unwrap();
        assert_eq!(request.user_project.as_deref(), Some("acme-ai"));
    }

    #[test]
    fn refuses_each_bad_field_with_googles_body() {
        let err = |pairs: Vec<(&str, &str)>| parse_token_request(&form(&pairs)).unwrap_err();
        assert_eq!(
            err(without("subject_token")),
            StsFailure::invalid_value("subject_token")
        );
        assert_eq!(
            err(with("requested_token_type", TOKEN_TYPE_ID_TOKEN)),
            StsFailure::invalid_value("requested_token_type")
        );
        assert_eq!(
            err(with(
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:saml2"
            )),
            StsFailure::invalid_value("subject_token_type")
        );
        assert_eq!(
            err(with("grant_type", "client_credentials")).error,
            "unsupported_grant_type"
        );
        assert_eq!(
            err(with("options", "%7Bnot json")),
            StsFailure::invalid_value("options")
        );
        assert_eq!(
            err(with("options", r#"{"userProject": 7}"#)),
            StsFailure::invalid_value("options")
        );
        let mut twice = valid();
        twice.push(("audience", AUDIENCE));
        assert_eq!(err(twice), StsFailure::invalid_value("audience"));
        for audience in [
            "https://iam.googleapis.com/locations/global/workforcePools/acme-workforce/providers/acme-idp",
            "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x",
            "//iam.googleapis.com/locations/global/workforcePools/acme-workforce",
            "//iam.googleapis.com/locations/global/workforcePools//providers/acme-idp",
            "//iam.googleapis.com/locations/global/workforcePools/a/providers/b/extra",
        ] {
            let failure = err(with("audience", audience));
            assert_eq!(failure.error, "invalid_request", "{audience}");
            assert!(failure.description.starts_with("Invalid value for \"audience\". This value should be the full resource name of the Identity Provider."), "{audience}");
        }
    }

    #[test]
    fn time_rules() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        let now = 1_800_000_000;
        assert!(check_times(&claims(json!({"iat": now - 10, "exp": now + 300})), now).is_ok());
        assert!(
            check_times(&claims(json!({"iat": now - 10, "exp": now - 30})), now).is_ok(),
            "within the leeway"
        );
        let stale =
            check_times(&claims(json!({"iat": now - 600, "exp": now - 300})), now).unwrap_err();
        assert_eq!(
            stale.description,
            format!("ID Token issued at {} is stale to sign-in.", now - 600)
        );
        let missing = check_times(&claims(json!({"exp": now + 300})), now).unwrap_err();
        assert_eq!(
            missing.description,
            "ID Token issued at null is stale to sign-in."
        );
        assert!(check_times(&claims(json!({"iat": now + 600, "exp": now + 900})), now).is_err());
        let long =
            check_times(&claims(json!({"iat": now, "exp": now + 48 * 3600})), now).unwrap_err();
        assert!(
            long.description.contains("less than 48 hours"),
            "{}",
            long.description
        );
        assert!(check_times(
            &claims(json!({"iat": now, "exp": now + 48 * 3600 - 1})),
            now
        )
        .is_ok());
    }

    #[test]
    fn audience_may_be_a_list() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        assert!(check_audience(&claims(json!({"aud": ["x", "acme-app"]})), "acme-app").is_ok());
        let err = check_audience(&claims(json!({"aud": ["x", "y"]})), "acme-app").unwrap_err();
        assert_eq!(
            err.description,
            "The audience in ID Token [x, y] does not match the expected audience."
        );
        let err = check_audience(&claims(json!({})), "acme-app").unwrap_err();
        assert_eq!(
            err.description,
            "The audience in ID Token [] does not match the expected audience."
        );
    }
}
