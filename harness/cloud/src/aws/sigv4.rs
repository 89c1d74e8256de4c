//! Verifying AWS Signature Version 4 on incoming requests, independently of the client's
//! signer: the canonical request is rebuilt here from the request as received, and only the
//! key derivation and the final HMAC come from `aws-sigv4`.
//!
//! The traps this reproduces: non-S3 services sign the path double-encoded (a model id
//! `…v1:0` travels as `%3A`, so the canonical URI holds `%253A` — use the raw path, never the
//! decoded one); Bedrock Runtime signs as service `bedrock`, not `bedrock-runtime`; temporary
//! credentials need their `X-Amz-Security-Token`; signatures are only fresh for 5 minutes.

use std::time::SystemTime;

use axum::http::{HeaderMap, Method, Uri};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use super::sessions::{Session, Sessions};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const MAX_SKEW: Duration = Duration::minutes(5);
const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// SigV4's URI encoding: everything but unreserved characters (`A-Z a-z 0-9 - _ . ~`).
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why a request is not authenticated, as AWS JSON-protocol services report it (all HTTP 403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthError {
    Missing,
    Incomplete(String),
    UnknownKey,
    Expired,
    Signature(String),
}

impl AuthError {
    pub fn error_type(&self) -> &'static str {
        match self {
            AuthError::Missing => "MissingAuthenticationTokenException",
            AuthError::Incomplete(_) => "IncompleteSignatureException",
            AuthError::UnknownKey => "UnrecognizedClientException",
            AuthError::Expired => "ExpiredTokenException",
            AuthError::Signature(_) => "InvalidSignatureException",
        }
    }

    pub fn message(&self) -> String {
        match self {
            AuthError::Missing => "Missing Authentication Token".into(),
            AuthError::UnknownKey => {
                "The security token included in the request is invalid.".into()
            }
            AuthError::Expired => "The security token included in the request is expired".into(),
            AuthError::Incomplete(m) | AuthError::Signature(m) => m.clone(),
        }
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorization {
    pub access_key_id: String,
    /// `YYYYMMDD` from the credential scope.
    pub date: String,
    pub region: String,
    pub service: String,
    pub terminator: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub(crate) fn parse_authorization(value: &str) -> Result<Authorization, AuthError> {
    let incomplete = |m: &str| AuthError::Incomplete(m.to_string());
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| incomplete("Authorization header requires the AWS4-HMAC-SHA256 algorithm (the emulator does not accept SigV4a or bearer tokens)."))?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=').unwrap_or((part.trim(), ""));
        match key {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    for (name, present) in [
        ("Credential", &credential),
        ("Signature", &signature),
        ("SignedHeaders", &signed_headers),
    ] {
        if present.is_none_or(|v| v.is_empty()) {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    if !missing.is_empty() {
        return Err(AuthError::Incomplete(missing.join(" ")));
    }
    let (credential, signed_headers, signature) = (
        credential.unwrap_or_default(),
        signed_headers.unwrap_or_default(),
        signature.unwrap_or_default(),
    );
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term,"));
    };
    if access_key_id.is_empty() || date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete(
            "Credential must name an access key id and a YYYYMMDD date.",
        ));
    }
    let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_string).collect();
    if signed_headers.iter().any(|h| {
        h.is_empty()
            || h.bytes()
                .any(|b| b.is_ascii_uppercase() || b.is_ascii_whitespace())
    }) {
        return Err(incomplete(
            "SignedHeaders must be lower-case header names separated by ';'.",
        ));
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AuthError::Signature(SIGNATURE_MISMATCH.into()));
    }
    Ok(Authorization {
        access_key_id: access_key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        terminator: terminator.to_string(),
        signed_headers,
        signature: signature.to_ascii_lowercase(),
    })
}

/// A request as received, for verification.
pub(crate) struct Received<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// The scope signatures must name.
pub(crate) struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
}

/// Authenticates `request` against the minted sessions. `now` is the emulator's clock, for
/// credential expiry; signature freshness is checked against the real clock.
pub(crate) fn verify(
    request: &Received,
    scope: &Scope,
    sessions: &Sessions,
    now: OffsetDateTime,
) -> Result<Arc<Session>, AuthError> {
    let Some(header) = request.headers.get("authorization") else {
        let presigned = request
            .uri
            .query()
            .is_some_and(|q| q.contains("X-Amz-Signature="));
        return Err(if presigned {
            AuthError::Incomplete(
                "Presigned (query-string) requests are not supported by the emulator.".into(),
            )
        } else {
            AuthError::Missing
        });
    };
    let auth = parse_authorization(&String::from_utf8_lossy(header.as_bytes()))?;
    if auth.terminator != "aws4_request" {
        return Err(AuthError::Signature(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
            auth.terminator
        )));
    }
    if auth.service != scope.service {
        return Err(AuthError::Signature(format!(
            "Credential should be scoped to correct service: '{}'. ",
            scope.service
        )));
    }
    if auth.region != scope.region {
        return Err(AuthError::Signature(
            "Credential should be scoped to a valid region. ".into(),
        ));
    }
    let amz_date = header_text(request.headers, "x-amz-date").ok_or_else(|| {
        AuthError::Incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .into(),
        )
    })?;
    let signed_at = PrimitiveDateTime::parse(
        &amz_date,
        format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .map_err(|_| {
        AuthError::Incomplete(format!(
            "X-Amz-Date '{amz_date}' is not in the YYYYMMDD'T'HHMMSS'Z' format."
        ))
    })?
    .assume_utc();
    if !amz_date.starts_with(&auth.date) {
        return Err(AuthError::Signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..8]
        )));
    }
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(AuthError::Incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }

    let session = sessions
        .get(&auth.access_key_id)
        .ok_or(AuthError::UnknownKey)?;
    let token = request
        .headers
        .get("x-amz-security-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !constant_time_eq(token, session.session_token.expose().as_bytes()) {
        return Err(AuthError::UnknownKey);
    }
    if now >= session.expires_at {
        return Err(AuthError::Expired);
    }
    check_freshness(signed_at, OffsetDateTime::now_utc())?;

    let body_hash = hex(&Sha256::digest(request.body));
    if let Some(declared) = header_text(request.headers, "x-amz-content-sha256") {
        // A declared hash that is not the body's would let a signed header vouch for a
        // different body; non-S3 services have no unsigned-payload mode either.
        if declared != body_hash {
            return Err(AuthError::Signature(SIGNATURE_MISMATCH.into()));
        }
    }
    let canonical = canonical_request(request, &auth.signed_headers, &body_hash);
    let scope_text = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope_text}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let key = aws_sigv4::sign::v4::generate_signing_key(
        session.secret_access_key.expose(),
        SystemTime::from(signed_at),
        &auth.region,
        &auth.service,
    );
    let expected = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(AuthError::Signature(SIGNATURE_MISMATCH.into()));
    }
    Ok(session)
}

fn check_freshness(signed_at: OffsetDateTime, now: OffsetDateTime) -> Result<(), AuthError> {
    let stamp = |t: OffsetDateTime| {
        t.format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default()
    };
    if signed_at < now - MAX_SKEW {
        return Err(AuthError::Signature(format!(
            "Signature expired: {} is now earlier than {} ({} - 5 min.)",
            stamp(signed_at),
            stamp(now - MAX_SKEW),
            stamp(now)
        )));
    }
    if signed_at > now + MAX_SKEW {
        return Err(AuthError::Signature(format!(
            "Signature not yet current: {} is still later than {} ({} + 5 min.)",
            stamp(signed_at),
            stamp(now + MAX_SKEW),
            stamp(now)
        )));
    }
    Ok(())
}

/// The canonical request: method, canonical URI from the raw path, sorted canonical query,
/// the signed headers (trimmed, inner whitespace collapsed, repeated headers joined by `,`),
/// the signed-header list and the payload hash.
fn canonical_request(request: &Received, signed_headers: &[String], payload_hash: &str) -> String {
    let mut query: Vec<(String, String)> =
        url::form_urlencoded::parse(request.uri.query().unwrap_or_default().as_bytes())
            .map(|(k, v)| {
                (
                    utf8_percent_encode(&k, URI_ENCODE).to_string(),
                    utf8_percent_encode(&v, URI_ENCODE).to_string(),
                )
            })
            .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers = String::new();
    for name in signed_headers {
        let values: Vec<String> = request
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    format!(
        "{}\n{}\n{query}\n{headers}\n{}\n{payload_hash}",
        request.method.as_str(),
        canonical_uri(request.uri.path()),
        signed_headers.join(";")
    )
}

/// The raw path with dot segments and empty segments removed, then URI-encoded once more:
/// the double encoding every service but S3 uses.
fn canonical_uri(raw_path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in raw_path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let trailing = raw_path.len() > 1
        && (raw_path.ends_with('/') || raw_path.ends_with("/.") || raw_path.ends_with("/.."));
    let mut out = String::from("/");
    out.push_str(
        &segments
            .iter()
            .map(|s| utf8_percent_encode(s, URI_ENCODE).to_string())
            .collect::<Vec<_>>()
            .join("/"),
    );
    if trailing && out.len() > 1 {
        out.push('/');
    }
    out
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without an early exit, so timing does not reveal how much of a secret matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    const GOOD: &str = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_a_good_header() {
        let auth = parse_authorization(GOOD).unwrap();
        assert_eq!(auth.access_key_id, "ASIAEXAMPLE");
        assert_eq!(
            (
                auth.date.as_str(),
                auth.region.as_str(),
                auth.service.as_str()
            ),
            ("20240101", "us-east-1", "bedrock")
        );
        assert_eq!(
            auth.signed_headers,
            ["content-type", "host", "x-amz-date", "x-amz-security-token"]
        );
    }

    #[test]
    fn refuses_incomplete_headers_with_the_real_wording() {
        let err = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/bedrock/aws4_request",
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."
        );
        assert_eq!(err.error_type(), "IncompleteSignatureException");
        assert!(matches!(
            parse_authorization("Bearer abc"),
            Err(AuthError::Incomplete(_))
        ));
        assert!(matches!(
            parse_authorization(&GOOD.replace("/aws4_request", "")),
            Err(AuthError::Incomplete(_))
        ));
        assert!(matches!(
            parse_authorization(&GOOD.replace("content-type", "Content-Type")),
            Err(AuthError::Incomplete(_))
        ));
        assert!(matches!(
            parse_authorization(&GOOD.replace("0123456789abcdef0123", "xyz")),
            Err(AuthError::Signature(_))
        ));
    }

    #[test]
    fn canonical_uri_double_encodes_the_raw_path() {
        assert_eq!(
            canonical_uri("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke"),
            "/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/invoke"
        );
        assert_eq!(canonical_uri("/model/a:b/invoke"), "/model/a%3Ab/invoke");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/a/./b/../c//d/"), "/a/c/d/");
    }

    #[test]
    fn freshness_window_is_five_minutes() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert!(check_freshness(now - Duration::minutes(4), now).is_ok());
        let err = check_freshness(now - Duration::minutes(6), now).unwrap_err();
        assert_eq!(err.message(), "Signature expired: 20231114T220720Z is now earlier than 20231114T220820Z (20231114T221320Z - 5 min.)");
        assert!(err.message().starts_with("Signature expired"));
        assert!(check_freshness(now + Duration::minutes(6), now)
            .unwrap_err()
            .message()
            .starts_with("Signature not yet current"));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    /// Random and mangled Authorization headers: parsing never panics and refusals are typed.
    #[test]
    fn fuzz_authorization_parsing() {
        let alphabet: Vec<char> = "=,/; ABCabc019-_éAWS4HMACSHA256CredentialSignedHeadersSignature"
            .chars()
            .collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for _ in 0..5000 {
            let mut text: Vec<char> = GOOD.chars().collect();
            for _ in 0..rng.gen_range(1..8) {
                let at = rng.gen_range(0..=text.len());
                match rng.gen_range(0..3) {
                    0 if at < text.len() => {
                        text.remove(at);
                    }
                    1 => text.insert(at, alphabet[rng.gen_range(0..alphabet.len())]),
                    _ => text.truncate(at),
                }
            }
            let text: String = text.into_iter().collect();
            match parse_authorization(&text) {
                Ok(auth) => assert!(!auth.access_key_id.is_empty() && auth.signature.len() == 64),
                Err(err) => assert!(!err.message().is_empty() && !err.error_type().is_empty()),
            }
        }
    }
}
