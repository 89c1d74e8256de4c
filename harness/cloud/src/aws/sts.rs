//! STS `AssumeRoleWithWebIdentity` over the Query API (`POST /` form-encoded, or `GET /?…`).
//!
//! The call is unsigned (the service model says `noAuth`), so any `Authorization` header is
//! ignored: the trust policy is the only gate. Checks run in this order, each failing with the
//! code, status and wording of real STS:
//! 1. parameters (`ValidationError`, all violations in one message like the real service);
//! 2. the token is a JWT (`InvalidIdentityToken`);
//! 3. its `iss` names a registered provider (`InvalidIdentityToken` "No OpenIDConnect provider
//!    found in your account for …"; an issuer ending in `#` never matches);
//! 4. the keys can be fetched from the issuer's discovery `jwks_uri` (`InvalidIdentityToken`
//!    "Couldn't retrieve verification key…"; in realistic mode always for http, loopback and
//!    private issuers) and the signature verifies;
//! 5. `aud` (for accounts.google.com: `azp` when present) is one of the provider's client ids
//!    (`InvalidIdentityToken` "Incorrect token audience");
//! 6. `exp` is in the future (`ExpiredTokenException`);
//! 7. the role exists in this account and its trust policy allows the request (`AccessDenied`;
//!    a missing role is indistinguishable from a refusing trust policy, as in real STS);
//! 8. `DurationSeconds` is within the role's MaxSessionDuration (`ValidationError`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::Algorithm;
use quick_xml::escape::partial_escape;
use quick_xml::events::BytesText;
use quick_xml::Writer;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::emulator::{Mode, Shared};
use super::policy::{Context, Decision, Policy, PolicyKind, Request};
use super::sessions::{self, Session};
use crate::web_identity::{self, KeyError, KeySource};
use ssoproof_secret::Secret;

const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The algorithms STS accepts for web-identity tokens (ES512 too, which `jsonwebtoken` lacks).
const ALGORITHMS: [Algorithm; 5] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

const KEY_RETRIEVAL_FAILED: &str = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";
const NOT_A_JWT: &str = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)";

/// An STS error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Fault {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Fault {
        Fault {
            status,
            code,
            message: message.into(),
        }
    }

    fn invalid_token(message: impl Into<String>) -> Fault {
        Fault::new(StatusCode::BAD_REQUEST, "InvalidIdentityToken", message)
    }

    fn validation(message: impl Into<String>) -> Fault {
        Fault::new(StatusCode::BAD_REQUEST, "ValidationError", message)
    }

    fn access_denied() -> Fault {
        Fault::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        )
    }
}

/// The parameters of a well-formed AssumeRoleWithWebIdentity request.
#[derive(Debug)]
pub(crate) struct Params {
    pub role_arn: String,
    pub session_name: String,
    pub token: Secret,
    pub duration_seconds: u32,
    pub policy: Option<String>,
}

/// What a successful call returns.
struct Assumed {
    subject: String,
    audience: String,
    provider: String,
    assumed_role_arn: String,
    assumed_role_id: String,
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Secret,
    expiration: OffsetDateTime,
}

pub(crate) async fn handle(State(shared): State<Arc<Shared>>, uri: Uri, body: Bytes) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let result = match parse_params(uri.query(), &body) {
        Ok(params) => assume(&shared, params).await,
        Err(fault) => Err(fault),
    };
    let (status, xml) = match result {
        Ok(assumed) => (StatusCode::OK, success_xml(&assumed, &request_id)),
        Err(fault) => (fault.status, error_xml(&fault, &request_id)),
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/xml"),
            (
                header::HeaderName::from_static("x-amzn-requestid"),
                request_id.as_str(),
            ),
        ],
        xml,
    )
        .into_response()
}

/// Reads and validates the Query API parameters from the query string and the form body.
pub(crate) fn parse_params(query: Option<&str>, body: &[u8]) -> Result<Params, Fault> {
    let malformed = || {
        Fault::new(
            StatusCode::BAD_REQUEST,
            "MalformedQueryString",
            "The request's parameters are not valid form encoding.",
        )
    };
    let mut pairs: Vec<(String, String)> = match query {
        Some(q) => serde_urlencoded::from_str(q).map_err(|_| malformed())?,
        None => Vec::new(),
    };
    pairs.extend(
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).map_err(|_| malformed())?,
    );
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };

    match get("Action") {
        None => return Err(Fault::new(StatusCode::BAD_REQUEST, "MissingAction", "Missing Action")),
        Some("AssumeRoleWithWebIdentity") => {}
        Some(other) => {
            return Err(Fault::new(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                format!("Could not find operation {other} for version 2011-06-15 (the emulator serves AssumeRoleWithWebIdentity only)"),
            ))
        }
    }
    if let Some(version) = get("Version").filter(|v| *v != "2011-06-15") {
        return Err(Fault::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("Could not find operation AssumeRoleWithWebIdentity for version {version}"),
        ));
    }
    if pairs.iter().any(|(k, _)| k.starts_with("PolicyArns.")) {
        return Err(Fault::validation("PolicyArns (managed session policies) are not supported by the ssoproof emulator; pass an inline Policy"));
    }

    let mut violations = Violations::default();
    let role_arn = violations.length("roleArn", get("RoleArn"), 20, 2048, true);
    let session_name = violations.length("roleSessionName", get("RoleSessionName"), 2, 64, true);
    if let Some(name) = session_name {
        if !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
        {
            violations.push(format!(
                "Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
            ));
        }
    }
    let token = violations.sensitive_length("webIdentityToken", get("WebIdentityToken"), 4, 20000);
    violations.length("providerId", get("ProviderId"), 4, 2048, false);
    let policy = violations.length("policy", get("Policy"), 1, 2048, false);
    let duration_seconds = match get("DurationSeconds") {
        None => 3600,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if n < 900 => {
                violations.push(format!("Value '{n}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"));
                0
            }
            Ok(n) if n > 43200 => {
                violations.push(format!("Value '{n}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"));
                0
            }
            Ok(n) => n as u32,
            Err(_) => {
                violations.push(format!("Value '{text}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer"));
                0
            }
        },
    };
    violations.into_result()?;
    Ok(Params {
        role_arn: role_arn.unwrap_or_default().to_string(),
        session_name: session_name.unwrap_or_default().to_string(),
        token: Secret::new(token.unwrap_or_default()),
        duration_seconds,
        policy: policy.map(str::to_string),
    })
}

/// Constraint violations, reported together as the real service does.
#[derive(Default)]
struct Violations(Vec<String>);

impl Violations {
    fn push(&mut self, message: String) {
        self.0.push(message);
    }

    /// Checks a string member's presence and length; returns it when present.
    fn length<'a>(
        &mut self,
        field: &str,
        value: Option<&'a str>,
        min: usize,
        max: usize,
        required: bool,
    ) -> Option<&'a str> {
        self.check_length(field, value, min, max, required, |v| {
            format!("Value '{v}' at '{field}'")
        })
    }

    /// Like [`Violations::length`] for a sensitive member: its value is never quoted.
    fn sensitive_length<'a>(
        &mut self,
        field: &str,
        value: Option<&'a str>,
        min: usize,
        max: usize,
    ) -> Option<&'a str> {
        self.check_length(field, value, min, max, true, |_| {
            format!("Value at '{field}'")
        })
    }

    fn check_length<'a>(
        &mut self,
        field: &str,
        value: Option<&'a str>,
        min: usize,
        max: usize,
        required: bool,
        subject: impl Fn(&str) -> String,
    ) -> Option<&'a str> {
        match value {
            None if required => {
                self.push(format!(
                    "Value null at '{field}' failed to satisfy constraint: Member must not be null"
                ));
                None
            }
            None => None,
            Some(v) => {
                let len = v.chars().count();
                if len < min {
                    self.push(format!("{} failed to satisfy constraint: Member must have length greater than or equal to {min}", subject(v)));
                } else if len > max {
                    self.push(format!("{} failed to satisfy constraint: Member must have length less than or equal to {max}", subject(v)));
                }
                Some(v)
            }
        }
    }

    fn into_result(self) -> Result<(), Fault> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(Fault::validation(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(Fault::validation(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

async fn assume(shared: &Shared, params: Params) -> Result<Assumed, Fault> {
    let config = &shared.config;
    let token = params.token.expose();
    let (_, unverified) = web_identity::peek(token).map_err(|_| Fault::invalid_token(NOT_A_JWT))?;
    let iss = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| Fault::invalid_token(NOT_A_JWT))?;
    let provider = config.provider_for_issuer(iss).ok_or_else(|| {
        Fault::invalid_token(format!(
            "No OpenIDConnect provider found in your account for {iss}"
        ))
    })?;
    if shared.mode == Mode::Realistic && provider.is_lab_only() {
        return Err(Fault::invalid_token(KEY_RETRIEVAL_FAILED));
    }
    // Keys come from the issuer the token names, which the provider lookup just vouched for.
    let issuer_url = if iss.contains("://") {
        iss.to_string()
    } else {
        format!("https://{iss}")
    };
    let verified = web_identity::verify(&shared.http, token, &KeySource::Discovery { issuer: issuer_url }, &ALGORITHMS)
        .await
        .map_err(|e| match e {
            KeyError::Fetch { .. } | KeyError::UnknownKid { .. } => Fault::invalid_token(KEY_RETRIEVAL_FAILED),
            KeyError::Malformed(_) => Fault::invalid_token(NOT_A_JWT),
            KeyError::Algorithm(alg) => Fault::invalid_token(format!("The token's signing algorithm {alg} is not supported (use RS256, RS384, RS512, ES256 or ES384)")),
            KeyError::Signature => Fault::invalid_token("The token's signature does not verify with the identity provider's keys"),
        })?;
    let claims = &verified.claims;

    let is_google = provider.host_path() == "accounts.google.com";
    let audiences = audiences(claims, is_google);
    let audience = audiences
        .iter()
        .find(|a| provider.client_ids.contains(a))
        .cloned()
        .ok_or_else(|| Fault::invalid_token("Incorrect token audience"))?;

    let now = shared.clock.now();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| Fault::invalid_token(NOT_A_JWT))?;
    if now.unix_timestamp() >= exp {
        return Err(Fault::new(
            StatusCode::BAD_REQUEST,
            "ExpiredTokenException",
            format!(
                "Token expired: current date/time {} must be before the expiration date/time {exp}",
                now.unix_timestamp()
            ),
        ));
    }

    let role = role_in_account(&params.role_arn, &config.account_id)?
        .and_then(|name| config.role(name))
        .ok_or_else(Fault::access_denied)?;
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let provider_arn = provider.arn(&config.account_id);
    let mut context = Context::new();
    let prefix = provider.host_path();
    context.set(&format!("{prefix}:aud"), vec![audience.clone()]);
    context.set(
        &format!("{prefix}:sub"),
        claims.get("sub").map(strings).unwrap_or_default(),
    );
    context.set(
        &format!("{prefix}:amr"),
        claims.get("amr").map(strings).unwrap_or_default(),
    );
    if is_google {
        context.set(
            &format!("{prefix}:oaud"),
            claims.get("aud").map(strings).unwrap_or_default(),
        );
    }
    context.set("sts:RoleSessionName", vec![params.session_name.clone()]);
    let request = Request {
        principal: Some(("Federated", &provider_arn)),
        action: "sts:AssumeRoleWithWebIdentity",
        resource: None,
        context: &context,
    };
    if role.trust_policy.evaluate(&request) != Decision::Allow {
        return Err(Fault::access_denied());
    }
    if params.duration_seconds > role.max_session_duration {
        return Err(Fault::validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let session_policy = params
        .policy
        .as_deref()
        .map(|text| Policy::parse(text, PolicyKind::Identity))
        .transpose()
        .map_err(|e| {
            Fault::new(
                StatusCode::BAD_REQUEST,
                "MalformedPolicyDocument",
                format!("Syntax errors in policy: {e}"),
            )
        })?;

    let expiration = (now + time::Duration::seconds(i64::from(params.duration_seconds)))
        .replace_nanosecond(0)
        .unwrap_or(now);
    let assumed_role_arn = format!(
        "arn:aws:sts::{}:assumed-role/{}/{}",
        config.account_id, role.name, params.session_name
    );
    let secret_access_key = sessions::new_secret_access_key();
    let session_token = sessions::new_session_token();
    let access_key_id = shared.sessions.insert(
        Session {
            role_name: role.name.clone(),
            assumed_role_arn: assumed_role_arn.clone(),
            secret_access_key: secret_access_key.clone(),
            session_token: session_token.clone(),
            session_policy,
            expires_at: expiration,
        },
        now,
    );
    Ok(Assumed {
        subject,
        audience,
        // For OIDC tokens STS reports the token's issuer as the provider.
        provider: iss.to_string(),
        assumed_role_arn,
        assumed_role_id: format!(
            "{}:{}",
            role.role_id(&config.account_id),
            params.session_name
        ),
        access_key_id,
        secret_access_key,
        session_token,
        expiration,
    })
}

/// The audiences STS checks against the client ids. For accounts.google.com, `azp` (the
/// authorized party) when present, else `aud`.
fn audiences(claims: &Map<String, Value>, is_google: bool) -> Vec<String> {
    if is_google {
        if let Some(azp) = claims.get("azp").and_then(Value::as_str) {
            return vec![azp.to_string()];
        }
    }
    claims.get("aud").map(strings).unwrap_or_default()
}

/// A claim as a list of strings: a string is one value, an array its string members.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The role name from `arn:aws:iam::<account>:role/[path/]<name>`; `None` for another
/// account. An ARN that is not a role ARN at all is a `ValidationError`.
fn role_in_account<'a>(arn: &'a str, account_id: &str) -> Result<Option<&'a str>, Fault> {
    let invalid = || Fault::validation("Request ARN is invalid");
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6
        || parts[0] != "arn"
        || !parts[1].starts_with("aws")
        || parts[2] != "iam"
        || !parts[3].is_empty()
    {
        return Err(invalid());
    }
    let name = parts[5]
        .strip_prefix("role/")
        .and_then(|p| p.rsplit('/').next())
        .filter(|n| !n.is_empty());
    let Some(name) = name else {
        return Err(invalid());
    };
    Ok((parts[4] == account_id).then_some(name))
}

fn success_xml(a: &Assumed, request_id: &str) -> String {
    let expiration = a.expiration.format(&Rfc3339).unwrap_or_default();
    write_xml(|w| {
        w.create_element("AssumeRoleWithWebIdentityResponse")
            .with_attribute(("xmlns", XMLNS))
            .write_inner_content(|w| {
                w.create_element("AssumeRoleWithWebIdentityResult")
                    .write_inner_content(|w| {
                        leaf(w, "SubjectFromWebIdentityToken", &a.subject)?;
                        leaf(w, "Audience", &a.audience)?;
                        w.create_element("AssumedRoleUser")
                            .write_inner_content(|w| {
                                leaf(w, "Arn", &a.assumed_role_arn)?;
                                leaf(w, "AssumedRoleId", &a.assumed_role_id)
                            })?;
                        w.create_element("Credentials").write_inner_content(|w| {
                            leaf(w, "AccessKeyId", &a.access_key_id)?;
                            leaf(w, "SecretAccessKey", a.secret_access_key.expose())?;
                            leaf(w, "SessionToken", a.session_token.expose())?;
                            leaf(w, "Expiration", &expiration)
                        })?;
                        leaf(w, "Provider", &a.provider)
                    })?;
                w.create_element("ResponseMetadata")
                    .write_inner_content(|w| leaf(w, "RequestId", request_id))?;
                Ok(())
            })?;
        Ok(())
    })
}

fn error_xml(fault: &Fault, request_id: &str) -> String {
    write_xml(|w| {
        w.create_element("ErrorResponse")
            .with_attribute(("xmlns", XMLNS))
            .write_inner_content(|w| {
                w.create_element("Error").write_inner_content(|w| {
                    leaf(w, "Type", "Sender")?;
                    leaf(w, "Code", fault.code)?;
                    leaf(w, "Message", &fault.message)
                })?;
                leaf(w, "RequestId", request_id)
            })?;
        Ok(())
    })
}

fn write_xml(body: impl FnOnce(&mut Writer<Vec<u8>>) -> std::io::Result<()>) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = body(&mut writer);
    String::from_utf8(writer.into_inner()).unwrap_or_default()
}

/// A text element. Only `<`, `>` and `&` are escaped, as AWS does: quotes stay literal.
fn leaf(w: &mut Writer<Vec<u8>>, name: &str, text: &str) -> std::io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::from_escaped(partial_escape(text)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
        serde_urlencoded::to_string(pairs).unwrap().into_bytes()
    }

    const ARN: &str = "arn:aws:iam::123456789012:role/BedrockUser";

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", ARN),
            ("RoleSessionName", "alice@example.com"),
            ("WebIdentityToken", "e30.e30.sig"),
        ]
    }

    #[test]
    fn parses_form_and_query_alike() {
        let params = parse_params(None, &form(&base())).unwrap();
        assert_eq!(params.role_arn, ARN);
        assert_eq!(params.session_name, "alice@example.com");
        assert_eq!(params.duration_seconds, 3600);
        let query = String::from_utf8(form(&base())).unwrap();
        let params = parse_params(Some(&query), b"").unwrap();
        assert_eq!(params.token.expose(), "e30.e30.sig");
    }

    #[test]
    fn constraint_violations_use_the_real_wording_and_never_quote_the_token() {
        let mut pairs = base();
        pairs.retain(|(k, _)| *k != "RoleArn");
        pairs.push(("DurationSeconds", "100"));
        let fault = parse_params(None, &form(&pairs)).unwrap_err();
        assert_eq!(fault.code, "ValidationError");
        assert_eq!(
            fault.message,
            "2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; \
             Value '100' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        );
        let mut pairs = base();
        pairs[3] = ("RoleSessionName", "alice smith");
        pairs[4] = ("WebIdentityToken", "abc");
        let fault = parse_params(None, &form(&pairs)).unwrap_err();
        assert!(fault.message.starts_with("2 validation errors detected: Value 'alice smith' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"), "{}", fault.message);
        assert!(fault.message.contains("Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4"), "{}", fault.message);
        assert!(!fault.message.contains("'abc'"));
        let mut pairs = base();
        pairs.push(("DurationSeconds", "43201"));
        let fault = parse_params(None, &form(&pairs)).unwrap_err();
        assert!(
            fault
                .message
                .ends_with("Member must have value less than or equal to 43200"),
            "{}",
            fault.message
        );
    }

    #[test]
    fn wrong_actions_and_versions() {
        let fault = parse_params(None, b"Version=2011-06-15").unwrap_err();
        assert_eq!(
            (fault.code, fault.status),
            ("MissingAction", StatusCode::BAD_REQUEST)
        );
        let fault = parse_params(None, b"Action=GetCallerIdentity&Version=2011-06-15").unwrap_err();
        assert_eq!(fault.code, "InvalidAction");
        let mut pairs = base();
        pairs[1] = ("Version", "2010-01-01");
        assert_eq!(
            parse_params(None, &form(&pairs)).unwrap_err().code,
            "InvalidAction"
        );
        let mut pairs = base();
        pairs.push((
            "PolicyArns.member.1.arn",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        ));
        assert_eq!(
            parse_params(None, &form(&pairs)).unwrap_err().code,
            "ValidationError"
        );
        // Invalid UTF-8 decodes lossily, like the real service: no Action here.
        assert_eq!(
            parse_params(None, b"\xff\xfe=\xff").unwrap_err().code,
            "MissingAction"
        );
    }

    #[test]
    fn role_arns() {
        assert_eq!(
            role_in_account(ARN, "123456789012"),
            Ok(Some("BedrockUser"))
        );
        assert_eq!(
            role_in_account("arn:aws:iam::123456789012:role/team/x/Dev", "123456789012"),
            Ok(Some("Dev"))
        );
        assert_eq!(
            role_in_account("arn:aws:iam::999999999999:role/BedrockUser", "123456789012"),
            Ok(None)
        );
        for bad in [
            "arn:aws:iam::123456789012:user/Bob",
            "arn:aws:s3:::bucket/x/y/zz",
            "not an arn at all, long enough",
            "arn:aws:iam::1:role/",
        ] {
            assert_eq!(
                role_in_account(bad, "123456789012").unwrap_err().code,
                "ValidationError",
                "{bad}"
            );
        }
    }

    #[test]
    fn xml_answers_escape_and_carry_the_request_id() {
        let xml = error_xml(&Fault::invalid_token("a < b & \"c\""), "req-1");
        assert!(
            xml.starts_with(&format!("<ErrorResponse xmlns=\"{XMLNS}\">")),
            "{xml}"
        );
        assert!(
            xml.contains("<Type>Sender</Type>")
                && xml.contains("<Code>InvalidIdentityToken</Code>"),
            "{xml}"
        );
        assert!(xml.contains("a &lt; b &amp; \"c\""), "{xml}");
        assert!(xml.contains("<RequestId>req-1</RequestId>"), "{xml}");
    }

    /// Random and mangled form bodies: parsing never panics and every refusal is a proper fault.
    #[test]
    fn fuzz_parameter_parsing() {
        let seed = String::from_utf8(form(&base())).unwrap();
        let alphabet: Vec<u8> = b"=&%+ ;:/\x00\xff\xc3aA0_-.@RoleArnDuration".to_vec();
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for _ in 0..5000 {
            let mut bytes = seed.clone().into_bytes();
            for _ in 0..rng.gen_range(1..8) {
                let at = rng.gen_range(0..=bytes.len());
                match rng.gen_range(0..4) {
                    0 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    1 => bytes.insert(at, alphabet[rng.gen_range(0..alphabet.len())]),
                    2 => bytes.truncate(at),
                    _ => bytes.extend(
                        b"&DurationSeconds="
                            .iter()
                            .chain(rng.gen_range(-99999i64..99999).to_string().as_bytes()),
                    ),
                }
            }
            if let Err(fault) = parse_params(None, &bytes) {
                assert!(
                    fault.status.is_client_error() && !fault.message.is_empty(),
                    "{fault:?}"
                );
            }
        }
    }
}
