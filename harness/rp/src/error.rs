//! Why a login, a refresh or a configuration was refused. Every variant has a stable snake_case
//! code (the runbooks' troubleshooting tables and checklists name them); the message says what
//! was wrong and what to do, and never carries a secret or a token.

use ssoproof_secret::{redact_all, Secret};

/// Every code [`RpError::code`] can return, with a one-line meaning, in the order a login meets
/// them. The README table and the tests are generated from / checked against this list.
pub const ERROR_CODES: &[(&str, &str)] = &[
    ("config_invalid", "the relying-party configuration itself is unusable (not a URL, empty client id, no `openid` scope)"),
    ("discovery_failed", "the discovery document could not be fetched or is not a valid OpenID Provider configuration"),
    ("issuer_mismatch", "an issuer (discovery document, ID token or refreshed ID token) is not byte-equal to the configured issuer"),
    ("alg_unsupported", "the IdP advertises no ID-token signing algorithm from the allow-list (downgrade advertised)"),
    ("pkce_unsupported", "the IdP advertises PKCE methods without S256"),
    ("login_failed", "the sign-in pages did not lead back to the redirect URI (wrong password, no login form, consent loop, a page over 1 MiB); the browser driver adds a screenshot"),
    ("browser_unavailable", "the browser driver could not start headless Chromium (chromium or chromedriver missing, or failing to start)"),
    ("deadline_exceeded", "the whole sign-in (discovery, login pages, token exchange, keys, userinfo) did not finish within the overall time limit"),
    ("idp_error", "the IdP redirected back with an OAuth error (access_denied, invalid_request, invalid_scope, ...)"),
    ("state_mismatch", "the authorization response's `state` is missing or not the one sent"),
    ("iss_param_mismatch", "the authorization response's RFC 9207 `iss` parameter is missing (though advertised) or wrong"),
    ("token_request_failed", "the token endpoint refused the code exchange or answered something that is not a token response"),
    ("token_malformed", "a token or token response is structurally invalid (not a JWS, bad base64 or JSON, no `exp`)"),
    ("alg_rejected", "the ID token is unsigned (`none`), HMAC-signed (HS*) or uses an algorithm outside the allow-list"),
    ("jwks_unreachable", "the JWKS named by discovery's `jwks_uri` could not be fetched or parsed"),
    ("kid_unknown", "no key in the JWKS matches the ID token's `kid` (or key type), even after one refetch"),
    ("signature_invalid", "the ID token's signature does not verify with the IdP's key"),
    ("audience_mismatch", "the ID token's `aud` is missing or does not contain the client id"),
    ("azp_required", "the ID token has several audiences but no `azp`"),
    ("azp_mismatch", "the ID token's `azp` is not the client id"),
    ("sub_missing", "the ID token has no `sub`"),
    ("iat_missing", "the ID token has no `iat`"),
    ("iat_in_future", "the ID token's `iat` is in the future by more than the 60 s skew"),
    ("token_expired", "the ID token's `exp` has passed by more than the 60 s skew"),
    ("not_yet_valid", "the ID token's `nbf` is in the future by more than the 60 s skew"),
    ("nonce_mismatch", "the ID token's `nonce` is missing or not the one sent"),
    ("at_hash_mismatch", "the ID token's `at_hash` does not match the access token"),
    ("userinfo_failed", "the userinfo endpoint refused the access token or answered something that is not JSON claims"),
    ("userinfo_sub_mismatch", "the userinfo `sub` differs from the ID token's `sub`"),
    ("refresh_failed", "the token endpoint refused the refresh token or answered something that is not a token response"),
    ("token_store_failed", "the token store could not save or load the refresh token"),
    ("sub_mismatch", "the refreshed ID token's `sub` differs from the original"),
    ("groups_missing", "the groups claim is absent at the configured path"),
    ("groups_malformed", "the groups claim is neither a string nor an array of strings"),
    ("groups_overage", "the IdP left out the groups claim because the user has too many groups (Entra overage marker)"),
    ("groups_unmapped", "none of the user's groups maps to a role and no default role is configured"),
    ("metadata_failed", "`login --saml`: the IdP's SAML metadata could not be fetched or read, or offers no HTTP-Redirect SingleSignOnService or signing certificate"),
];

/// Why the relying party refused. See [`ERROR_CODES`] for the codes.
#[derive(Debug, thiserror::Error)]
pub enum RpError {
    #[error("the relying-party configuration is invalid: {problem}")]
    ConfigInvalid { problem: String },

    #[error("discovery failed: {request}: {problem}. Check the issuer (realm or tenant name, path prefix, scheme) by fetching that URL from this host, and that the IdP is up")]
    DiscoveryFailed { request: String, problem: String },

    #[error("{origin} names issuer `{found}`, but the configured issuer is `{expected}`; issuers must be byte-equal. {advice}")]
    IssuerMismatch {
        /// What carried the wrong issuer: "the discovery document at …", "the ID token", …
        origin: String,
        expected: String,
        found: String,
        advice: &'static str,
    },

    #[error("the IdP advertises ID-token signing algorithms {advertised:?}, none of which is allowed ({allowed}); set the client's ID-token signature algorithm to RS256 (or another allowed asymmetric algorithm)")]
    AlgUnsupported {
        advertised: Vec<String>,
        allowed: String,
    },

    #[error("the IdP advertises PKCE methods {advertised:?} without S256; this relying party only sends S256. Enable S256 on the IdP")]
    PkceUnsupported { advertised: Vec<String> },

    #[error("sign-in failed at {page}: {reason}{}", screenshot.as_ref().map(|p| format!(" (screenshot, password inputs cleared: {})", p.display())).unwrap_or_default())]
    LoginFailed {
        page: String,
        reason: String,
        /// The browser driver's screenshot of the page.
        screenshot: Option<std::path::PathBuf>,
    },

    #[error("the browser driver cannot run: {problem}")]
    BrowserUnavailable { problem: String },

    #[error("the sign-in did not finish within {seconds} s, the limit for all of it (discovery, the login pages and their parsing, the token exchange, the keys and userinfo); check that the IdP answers promptly and serves small login pages, or allow more time")]
    DeadlineExceeded { seconds: f64 },

    #[error("the IdP redirected back with error `{error}`{}; fix what the IdP reports (client settings, user assignment, requested scopes)", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    IdpError {
        error: String,
        description: Option<String>,
    },

    #[error("the authorization response's state {problem}; the response does not belong to this login (replayed, forged or from another browser session). Start a new login")]
    StateMismatch { problem: String },

    #[error("the authorization response's `iss` parameter {}, but the IdP advertises `authorization_response_iss_parameter_supported` and the issuer is `{expected}` (RFC 9207 mix-up defence); check that the authorization endpoint belongs to this issuer", match found { Some(f) => format!("is `{f}`"), None => "is missing".to_string() })]
    IssParamMismatch {
        expected: String,
        found: Option<String>,
    },

    #[error("token request failed: {request}: {problem}{}", token_advice(problem))]
    TokenRequestFailed { request: String, problem: String },

    #[error("{what} is malformed: {problem}")]
    TokenMalformed { what: String, problem: String },

    #[error("the ID token is signed with `{alg}`, which is refused ({reason}); set the client's ID-token signature algorithm to RS256 or another allowed asymmetric algorithm")]
    AlgRejected { alg: String, reason: &'static str },

    #[error("the IdP's JWKS is unreachable: {request}: {problem}. Existing sessions stay valid; retry later, and check the `jwks_uri` from discovery from this host")]
    JwksUnreachable { request: String, problem: String },

    #[error("{problem}; if the IdP rotated its keys, check that nothing (proxy, CDN) serves a stale JWKS")]
    KidUnknown {
        kid: Option<String>,
        problem: String,
    },

    #[error("the ID token's signature is invalid: {problem}; the token was altered or not signed by this IdP")]
    SignatureInvalid { problem: String },

    #[error("the ID token's audience {found} does not contain the client id `{client_id}`; check that the token was issued for this client")]
    AudienceMismatch { client_id: String, found: String },

    #[error("the ID token has several audiences {audiences:?} but no `azp`; a multi-audience token must name the client it was issued to")]
    AzpRequired { audiences: Vec<String> },

    #[error("the ID token's `azp` is `{found}`, not the client id `{client_id}`; the token was issued to another client")]
    AzpMismatch { client_id: String, found: String },

    #[error("the ID token has no `sub` (subject) claim; the IdP must identify the user")]
    SubMissing,

    #[error("the ID token has no `iat` (issued-at) claim")]
    IatMissing,

    #[error("the ID token's `iat` is {seconds} s in the future (more than the 60 s allowed skew); synchronise the clocks of the IdP and this host (NTP)")]
    IatInFuture { seconds: i64 },

    #[error("the ID token expired {seconds} s ago (beyond the 60 s allowed skew); synchronise clocks (NTP) or sign in again")]
    TokenExpired { seconds: i64 },

    #[error("the ID token is not valid for another {seconds} s (`nbf`, beyond the 60 s allowed skew); synchronise the clocks of the IdP and this host (NTP)")]
    NotYetValid { seconds: i64 },

    #[error("the ID token's nonce {problem}; the token does not belong to this login (replayed or injected). Start a new login")]
    NonceMismatch { problem: String },

    #[error("the ID token's `at_hash` does not match the access token returned with it; the access token was substituted")]
    AtHashMismatch,

    #[error("userinfo request failed: {request}: {problem}")]
    UserinfoFailed { request: String, problem: String },

    #[error("userinfo answered for `sub` `{userinfo_sub}`, but the ID token's `sub` is `{id_token_sub}`; the userinfo response belongs to another user and is refused")]
    UserinfoSubMismatch {
        id_token_sub: String,
        userinfo_sub: String,
    },

    #[error("refresh failed: {request}: {problem}{}", refresh_advice(problem))]
    RefreshFailed { request: String, problem: String },

    #[error("token store failed: {problem}; the refresh was aborted and the new refresh token was not used")]
    TokenStoreFailed { problem: String },

    #[error("the refreshed ID token's `sub` is `{refreshed}`, but the session's is `{original}`; a refresh must not switch users")]
    SubMismatch { original: String, refreshed: String },

    #[error("the ID token has no groups claim at `{path}`; add the groups mapper / claim to the ID token and check that its name equals the configured groups claim")]
    GroupsMissing { path: String },

    #[error("the groups claim at `{path}` is {found}, not a string or an array of strings; point the groups claim at a list of group names")]
    GroupsMalformed { path: String, found: String },

    #[error("the ID token carries no groups but the overage marker {marker}: the user has too many groups for a token; use group filtering or app roles on the IdP so that only the groups the application needs are emitted")]
    GroupsOverage { marker: String },

    #[error("the assertion has no attribute `{attribute}` (it has {}); add a group-membership mapper to the SAML client that emits it, or pass the attribute's name with --groups-attribute", if present.is_empty() { "none".to_string() } else { present.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ") })]
    GroupsAttributeMissing {
        attribute: String,
        present: Vec<String>,
    },

    #[error("the IdP's SAML metadata ({origin}) is unusable: {problem}. Check the metadata URL (Keycloak: <base>/realms/<realm>/protocol/saml/descriptor) by fetching it from this host")]
    MetadataFailed { origin: String, problem: String },

    /// The SAML Response was refused by the validator; its code is the `saml/…` one.
    #[error("the SAML Response is refused: {0}")]
    Saml(#[from] ssoproof_saml::SamlError),

    #[error("none of the user's groups {} maps to a role and no default role is configured; map one of them, or configure a default role deliberately", list_groups(groups))]
    GroupsUnmapped { groups: Vec<String> },
}

/// What to do about a failed code exchange, from the OAuth error or status in `problem`.
fn token_advice(problem: &str) -> &'static str {
    // Keycloak answers a wrong secret with 401 `unauthorized_client`, not `invalid_client`.
    let bad_credentials = problem.contains("invalid_client")
        || (problem.contains("unauthorized_client") && problem.contains("answered 401"));
    if bad_credentials {
        ". The client secret or authentication method is wrong: copy the current secret from the IdP and check client_secret_basic / client_secret_post"
    } else if problem.contains("invalid_grant") {
        ". The code was refused: check that the redirect URI is exactly the registered one and that the client requires PKCE S256"
    } else if problem.contains("unauthorized_client") {
        ". The client may not use the authorization-code flow: enable the standard flow for it"
    } else if problem.contains("answered 5") {
        ". The IdP failed: check its logs"
    } else {
        ""
    }
}

/// What to do about a failed refresh.
fn refresh_advice(problem: &str) -> &'static str {
    if problem.contains("invalid_grant") {
        ". The refresh token expired, was revoked or was already used (rotation with replay detection); sign in again"
    } else if problem.contains("invalid_client") {
        ". The client secret or authentication method is wrong"
    } else if problem.contains("answered 5") {
        ". The IdP failed: check its logs"
    } else {
        ""
    }
}

fn list_groups(groups: &[String]) -> String {
    const SHOWN: usize = 10;
    if groups.is_empty() {
        return "(the list is empty)".to_string();
    }
    let mut text = groups
        .iter()
        .take(SHOWN)
        .map(|g| format!("`{g}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if groups.len() > SHOWN {
        text.push_str(&format!(" and {} more", groups.len() - SHOWN));
    }
    format!("({text})")
}

impl RpError {
    /// This error with the values the IdP supplied (issuers, audiences, subjects, groups, key
    /// ids…) redacted of `secrets`; ssoproof's own words are left alone (see
    /// [`redact_all`](ssoproof_secret::redact_all) for why).
    pub(crate) fn redact_server_values(mut self, secrets: &[&Secret]) -> RpError {
        let redact = |value: &mut String| *value = redact_all(value, secrets);
        match &mut self {
            RpError::IssuerMismatch { found, .. }
            | RpError::AudienceMismatch { found, .. }
            | RpError::AzpMismatch { found, .. }
            | RpError::GroupsMalformed { found, .. } => redact(found),
            RpError::IssParamMismatch { found, .. } => found.iter_mut().for_each(redact),
            RpError::KidUnknown { kid, .. } => kid.iter_mut().for_each(redact),
            RpError::AlgRejected { alg, .. } => redact(alg),
            RpError::AlgUnsupported { advertised, .. }
            | RpError::PkceUnsupported { advertised } => advertised.iter_mut().for_each(redact),
            RpError::AzpRequired { audiences } => audiences.iter_mut().for_each(redact),
            RpError::UserinfoSubMismatch {
                id_token_sub,
                userinfo_sub,
            } => {
                redact(id_token_sub);
                redact(userinfo_sub);
            }
            RpError::SubMismatch {
                original,
                refreshed,
            } => {
                redact(original);
                redact(refreshed);
            }
            RpError::GroupsOverage { marker } => redact(marker),
            RpError::GroupsUnmapped { groups } => groups.iter_mut().for_each(redact),
            _ => {}
        }
        self
    }

    /// The stable snake_case code of this error; see [`ERROR_CODES`].
    pub fn code(&self) -> &'static str {
        match self {
            RpError::ConfigInvalid { .. } => "config_invalid",
            RpError::DiscoveryFailed { .. } => "discovery_failed",
            RpError::IssuerMismatch { .. } => "issuer_mismatch",
            RpError::AlgUnsupported { .. } => "alg_unsupported",
            RpError::PkceUnsupported { .. } => "pkce_unsupported",
            RpError::LoginFailed { .. } => "login_failed",
            RpError::BrowserUnavailable { .. } => "browser_unavailable",
            RpError::DeadlineExceeded { .. } => "deadline_exceeded",
            RpError::IdpError { .. } => "idp_error",
            RpError::StateMismatch { .. } => "state_mismatch",
            RpError::IssParamMismatch { .. } => "iss_param_mismatch",
            RpError::TokenRequestFailed { .. } => "token_request_failed",
            RpError::TokenMalformed { .. } => "token_malformed",
            RpError::AlgRejected { .. } => "alg_rejected",
            RpError::JwksUnreachable { .. } => "jwks_unreachable",
            RpError::KidUnknown { .. } => "kid_unknown",
            RpError::SignatureInvalid { .. } => "signature_invalid",
            RpError::AudienceMismatch { .. } => "audience_mismatch",
            RpError::AzpRequired { .. } => "azp_required",
            RpError::AzpMismatch { .. } => "azp_mismatch",
            RpError::SubMissing => "sub_missing",
            RpError::IatMissing => "iat_missing",
            RpError::IatInFuture { .. } => "iat_in_future",
            RpError::TokenExpired { .. } => "token_expired",
            RpError::NotYetValid { .. } => "not_yet_valid",
            RpError::NonceMismatch { .. } => "nonce_mismatch",
            RpError::AtHashMismatch => "at_hash_mismatch",
            RpError::UserinfoFailed { .. } => "userinfo_failed",
            RpError::UserinfoSubMismatch { .. } => "userinfo_sub_mismatch",
            RpError::RefreshFailed { .. } => "refresh_failed",
            RpError::TokenStoreFailed { .. } => "token_store_failed",
            RpError::SubMismatch { .. } => "sub_mismatch",
            RpError::GroupsMissing { .. } => "groups_missing",
            RpError::GroupsMalformed { .. } => "groups_malformed",
            RpError::GroupsOverage { .. } => "groups_overage",
            RpError::GroupsUnmapped { .. } => "groups_unmapped",
            RpError::GroupsAttributeMissing { .. } => "groups_missing",
            RpError::MetadataFailed { .. } => "metadata_failed",
            RpError::Saml(error) => error.code(),
        }
    }

    /// The one-line meaning of this error's code, from [`ERROR_CODES`].
    pub fn meaning(&self) -> &'static str {
        meaning_of(self.code()).unwrap_or("")
    }
}

/// The one-line meaning of `code`, if it is one of [`ERROR_CODES`].
pub fn meaning_of(code: &str) -> Option<&'static str> {
    ERROR_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, meaning)| *meaning)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// One value of every variant; the match in `code` keeps this list honest.
    pub(crate) fn one_of_each() -> Vec<RpError> {
        let s = |t: &str| t.to_string();
        vec![
            RpError::ConfigInvalid { problem: s("x") },
            RpError::DiscoveryFailed {
                request: s("GET u"),
                problem: s("x"),
            },
            RpError::IssuerMismatch {
                origin: s("o"),
                expected: s("a"),
                found: s("b"),
                advice: "",
            },
            RpError::AlgUnsupported {
                advertised: vec![s("HS256")],
                allowed: s("RS256"),
            },
            RpError::PkceUnsupported {
                advertised: vec![s("plain")],
            },
            RpError::LoginFailed {
                page: s("p"),
                reason: s("r"),
                screenshot: None,
            },
            RpError::BrowserUnavailable { problem: s("x") },
            RpError::DeadlineExceeded { seconds: 1.0 },
            RpError::IdpError {
                error: s("access_denied"),
                description: None,
            },
            RpError::StateMismatch { problem: s("x") },
            RpError::IssParamMismatch {
                expected: s("a"),
                found: None,
            },
            RpError::TokenRequestFailed {
                request: s("POST u"),
                problem: s("x"),
            },
            RpError::TokenMalformed {
                what: s("t"),
                problem: s("x"),
            },
            RpError::AlgRejected {
                alg: s("none"),
                reason: "x",
            },
            RpError::JwksUnreachable {
                request: s("GET u"),
                problem: s("x"),
            },
            RpError::KidUnknown {
                kid: None,
                problem: s("x"),
            },
            RpError::SignatureInvalid { problem: s("x") },
            RpError::AudienceMismatch {
                client_id: s("c"),
                found: s("x"),
            },
            RpError::AzpRequired { audiences: vec![] },
            RpError::AzpMismatch {
                client_id: s("c"),
                found: s("x"),
            },
            RpError::SubMissing,
            RpError::IatMissing,
            RpError::IatInFuture { seconds: 1 },
            RpError::TokenExpired { seconds: 1 },
            RpError::NotYetValid { seconds: 1 },
            RpError::NonceMismatch { problem: s("x") },
            RpError::AtHashMismatch,
            RpError::UserinfoFailed {
                request: s("GET u"),
                problem: s("x"),
            },
            RpError::UserinfoSubMismatch {
                id_token_sub: s("a"),
                userinfo_sub: s("b"),
            },
            RpError::RefreshFailed {
                request: s("POST u"),
                problem: s("x"),
            },
            RpError::TokenStoreFailed { problem: s("x") },
            RpError::SubMismatch {
                original: s("a"),
                refreshed: s("b"),
            },
            RpError::GroupsMissing { path: s("groups") },
            RpError::GroupsMalformed {
                path: s("groups"),
                found: s("a number"),
            },
            RpError::GroupsOverage { marker: s("m") },
            RpError::GroupsUnmapped { groups: vec![] },
            RpError::GroupsAttributeMissing {
                attribute: s("groups"),
                present: vec![s("email")],
            },
            RpError::MetadataFailed {
                origin: s("GET u"),
                problem: s("x"),
            },
            RpError::Saml(ssoproof_saml::SamlError::Unsigned),
        ]
    }

    #[test]
    fn every_variant_has_a_listed_unique_snake_case_code() {
        let listed: BTreeSet<&str> = ERROR_CODES.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            listed.len(),
            ERROR_CODES.len(),
            "duplicate code in ERROR_CODES"
        );
        // The SAML validator's `saml/…` codes have their own table, beside ssoproof-saml.
        let (saml, used): (BTreeSet<&str>, BTreeSet<&str>) = one_of_each()
            .iter()
            .map(RpError::code)
            .partition(|c| c.starts_with("saml/"));
        assert_eq!(used, listed);
        assert!(saml
            .iter()
            .all(|c| ssoproof_saml::SamlError::CODES.contains(c)));
        for (code, meaning) in ERROR_CODES {
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
            assert!(!meaning.is_empty() && !meaning.contains('\n'), "{code}");
        }
    }

    #[test]
    fn the_codes_the_brief_and_runbooks_promise_exist() {
        for code in [
            "discovery_failed",
            "issuer_mismatch",
            "jwks_unreachable",
            "login_failed",
            "state_mismatch",
            "iss_param_mismatch",
            "token_request_failed",
            "alg_rejected",
            "signature_invalid",
            "kid_unknown",
            "audience_mismatch",
            "azp_required",
            "azp_mismatch",
            "sub_missing",
            "iat_missing",
            "iat_in_future",
            "token_expired",
            "not_yet_valid",
            "nonce_mismatch",
            "at_hash_mismatch",
            "userinfo_sub_mismatch",
            "groups_missing",
            "groups_overage",
            "groups_unmapped",
        ] {
            assert!(meaning_of(code).is_some(), "{code}");
        }
    }

    #[test]
    fn unmapped_lists_at_most_ten_groups() {
        let groups: Vec<String> = (0..25).map(|i| format!("g{i}")).collect();
        let text = RpError::GroupsUnmapped { groups }.to_string();
        assert!(text.contains("`g9`") && !text.contains("`g10`"), "{text}");
        assert!(text.contains("and 15 more"), "{text}");
    }
}
