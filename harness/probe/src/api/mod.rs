//! `probe api`: calls a resource server with each token of the [`cases`] catalogue and reports
//! whether it refused what it must refuse, accepted what it must accept, and whom it took the
//! caller for.
//!
//! Order: the valid token first (alone, so the API's JWKS cache is warm and the control is
//! read before anything else), then every other case concurrently (bounded), then the key
//! rotation last, so that every other token was minted and sent under the key it names.

pub mod cases;
pub mod craft;

use std::time::Duration;

use futures::stream::{self, StreamExt};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value};
use ssoproof_idp::{Emulator, Realm};
use ssoproof_secret::{redact_all, Secret};
use url::Url;

use self::cases::{Case, Forgery, Recipe, Refusal, Settings, ROTATION, VALID};
use self::craft::{AttackerKey, IssuerKey, KeyServer};
use crate::error::ProbeError;
use crate::idp::{shorten, Idp};
use crate::outcome::{CaseResult, Expect, Observed, ProbeKind, ProbeReport};
use crate::target::check_target;
use ssoproof_idp::{MintRequest, Minted};

/// How the API says whom it took the caller for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// It does not; identities are not checked.
    None,
    /// A response header, e.g. `X-Attach-User`.
    Header(HeaderName),
    /// A JSON pointer into the response body, e.g. `/sub`.
    Pointer(String),
}

/// The request the probe sends with each token.
#[derive(Debug, Clone)]
pub struct ApiTarget {
    pub url: Url,
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    pub identity: IdentitySource,
    /// Per request.
    pub timeout: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
}

impl ApiTarget {
    /// A `GET` of `url` with the defaults (5 s timeout, 8 at once), after the loopback rule.
    pub fn new(url: Url, allow_remote: bool) -> Result<ApiTarget, ProbeError> {
        check_target(&url, allow_remote)?;
        Ok(ApiTarget {
            url,
            method: Method::GET,
            headers: HeaderMap::new(),
            body: None,
            identity: IdentitySource::None,
            timeout: Duration::from_secs(5),
            concurrency: 8,
        })
    }

    /// The URL as reports show it: without credentials.
    fn shown(&self) -> String {
        let mut url = self.url.clone();
        let _ = url.set_password(None);
        let _ = url.set_username("");
        url.to_string()
    }
}

/// Parses a `--header 'Name: value'` argument.
pub fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), ProbeError> {
    let usage = |why: &str| ProbeError::Usage {
        message: format!("--header `{text}`: {why}; write it as 'Name: value'"),
    };
    let (name, value) = text.split_once(':').ok_or_else(|| usage("no `:`"))?;
    let name = HeaderName::try_from(name.trim()).map_err(|_| usage("not a header name"))?;
    if name == AUTHORIZATION {
        return Err(usage("the probe sets Authorization itself, once per case"));
    }
    let value = HeaderValue::try_from(value.trim()).map_err(|_| usage("not a header value"))?;
    Ok((name, value))
}

/// The most a `--body-file` may hold: a request body, not a data set.
const BODY_FILE_LIMIT: u64 = 16 * 1024 * 1024;

/// Reads a `--body-file` (a regular file, at most 16 MiB).
pub fn read_body(path: &std::path::Path) -> Result<Vec<u8>, ProbeError> {
    ssoproof_config::fs::read_limited(path, BODY_FILE_LIMIT).map_err(|e| ProbeError::BodyFile {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// A token ready to send, or why it could not be made.
struct Prepared {
    token: Result<Secret, String>,
    /// For cases the API must accept: the identities the API may report (`sub`, `email`,
    /// `preferred_username` of the token).
    identities: Vec<String>,
}

/// Runs the whole catalogue against `target`, with tokens from `idp`.
pub async fn run(
    idp: &Idp,
    target: &ApiTarget,
    settings: &Settings,
) -> Result<ProbeReport, ProbeError> {
    let mut catalogue = cases::select(settings).map_err(|message| ProbeError::Usage { message })?;
    let client = reqwest::Client::builder()
        .timeout(target.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ProbeError::Http {
            message: e.to_string(),
        })?;
    let (attacker, valid) = tokio::join!(AttackerKey::generate(), mint_valid(idp, &catalogue));
    let (attacker, valid) = (attacker?, valid?);
    let keys = KeyServer::start(&attacker).await?;
    let jwks = idp.jwks().await?;
    let kid = valid.header.get("kid").and_then(Value::as_str);
    let issuer_key = IssuerKey::from_jwks(&jwks, kid);
    // Key confusion in the forms the issuer's key type has (PKCS #1 is RSA's alone; an EdDSA
    // key has only its JWK), as the README says.
    if let Ok(key) = &issuer_key {
        catalogue.retain(|case| match case.recipe {
            Recipe::Forged(Forgery::KeyConfusion(form)) => key.supports(form),
            _ => true,
        });
    }
    let forge = Forge {
        valid: &valid,
        issuer_key: &issuer_key,
        attacker: &attacker,
        keys: &keys,
    };
    // The other issuer lives only for this run; its token is all it is needed for.
    let other = other_issuer_token(&valid, settings).await;

    let mut prepared = Vec::with_capacity(catalogue.len());
    for case in &catalogue {
        let ready = match &case.recipe {
            Recipe::Minted(_) if case.id == VALID => Prepared::minted(&valid),
            Recipe::Minted(mint) => match idp.mint(mint).await {
                Ok(minted) => Prepared::minted(&minted),
                Err(e) => Prepared::failed(format!("[{}] {e}", e.code())),
            },
            Recipe::Forged(forgery) => Prepared::forged(forge.token(&case.id, *forgery)),
            Recipe::OtherIssuer => match &other {
                Ok(token) => Prepared::forged(Ok(token.clone())),
                Err(e) => Prepared::failed(e.clone()),
            },
            Recipe::Rotation => continue,
        };
        prepared.push((case, ready));
    }

    let mut results = Vec::with_capacity(catalogue.len());
    let mut rest = prepared.into_iter();
    if let Some((case, ready)) = rest.next() {
        results.push(send_case(&client, target, case, ready, &keys).await);
    }
    let mut concurrent: Vec<(usize, CaseResult)> = stream::iter(rest.enumerate())
        .map(|(index, (case, ready))| {
            let (client, keys) = (&client, &keys);
            async move { (index, send_case(client, target, case, ready, keys).await) }
        })
        .buffer_unordered(target.concurrency.max(1))
        .collect()
        .await;
    concurrent.sort_by_key(|(index, _)| *index);
    results.extend(concurrent.into_iter().map(|(_, result)| result));
    if let Some(rotation) = catalogue.iter().find(|c| c.id == ROTATION) {
        let ready = match rotate_and_mint(idp, &catalogue).await {
            Ok(minted) => Prepared::minted(&minted),
            Err(e) => Prepared::failed(format!("[{}] {e}", e.code())),
        };
        results.push(send_case(&client, target, rotation, ready, &keys).await);
    }
    Ok(ProbeReport {
        probe: ProbeKind::Api,
        target: format!("{} {}", target.method, target.shown()),
        issuer: idp.issuer(),
        vendor: idp.vendor(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        cases: results,
    })
}

fn valid_mint(catalogue: &[Case]) -> Option<&MintRequest> {
    catalogue.iter().find_map(|c| match &c.recipe {
        Recipe::Minted(mint) if c.id == VALID => Some(mint),
        _ => None,
    })
}

async fn mint_valid(idp: &Idp, catalogue: &[Case]) -> Result<Minted, ProbeError> {
    let mint = valid_mint(catalogue).ok_or_else(|| ProbeError::Mint {
        message: "the catalogue has no valid token".into(),
    })?;
    idp.mint(mint).await
}

async fn rotate_and_mint(idp: &Idp, catalogue: &[Case]) -> Result<Minted, ProbeError> {
    idp.rotate_keys().await?;
    mint_valid(idp, catalogue).await
}

/// A second emulator (the built-in Keycloak realm, on a free port: another issuer with another
/// key) signs the valid token's claims under its own issuer.
async fn other_issuer_token(valid: &Minted, settings: &Settings) -> Result<Secret, String> {
    let other = Emulator::start(Realm::builtin_keycloak(), Default::default())
        .await
        .map_err(|e| format!("cannot start the second issuer: [{}] {e}", e.code()))?;
    let mut claims = valid.claims.clone();
    for generated in ["iss", "iat", "exp", "jti"] {
        claims.remove(generated);
    }
    let mut mint = MintRequest::access("alice");
    mint.claims = claims;
    mint.claims
        .insert("aud".into(), settings.audience.clone().into());
    Idp::from_emulator(other)
        .mint(&mint)
        .await
        .map(|m| Secret::new(m.token))
        .map_err(|e| format!("[{}] {e}", e.code()))
}

impl Prepared {
    fn minted(minted: &Minted) -> Prepared {
        let identities = ["sub", "email", "preferred_username"]
            .iter()
            .filter_map(|claim| minted.claims.get(*claim)?.as_str())
            .map(str::to_string)
            .collect();
        Prepared {
            token: Ok(Secret::new(minted.token.clone())),
            identities,
        }
    }

    fn forged(token: Result<Secret, String>) -> Prepared {
        Prepared {
            token,
            identities: Vec::new(),
        }
    }

    fn failed(message: String) -> Prepared {
        Prepared::forged(Err(message))
    }
}

/// What the forgeries are made from.
struct Forge<'a> {
    valid: &'a Minted,
    issuer_key: &'a Result<IssuerKey, String>,
    attacker: &'a AttackerKey,
    keys: &'a KeyServer,
}

impl Forge<'_> {
    fn token(&self, id: &str, forgery: Forgery) -> Result<Secret, String> {
        let claims = &self.valid.claims;
        let valid = &self.valid.header;
        // `kid: null` where the valid token had none is left out, not sent as null.
        let header = |entries: Value| -> Map<String, Value> {
            let mut header = Map::new();
            header.insert("typ".into(), "JWT".into());
            if let Value::Object(entries) = entries {
                header.extend(entries.into_iter().filter(|(_, v)| !v.is_null()));
            }
            header
        };
        let kid = valid.get("kid").cloned().unwrap_or(Value::Null);
        let attacker_header = |extra: Value| {
            let mut h = header(serde_json::json!({"alg": "RS256", "kid": craft::ATTACKER_KID}));
            if let Value::Object(extra) = extra {
                h.extend(extra);
            }
            h
        };
        let error = |e: ProbeError| e.to_string();
        let token = match forgery {
            Forgery::AlgNone(spelling) => {
                craft::with_signature(&header(serde_json::json!({"alg": spelling})), claims, &[])
            }
            Forgery::KeyConfusion(form) => {
                let key = self.issuer_key.as_ref().map_err(Clone::clone)?;
                let secret = key
                    .as_hmac_secret(form)
                    .ok_or("the issuer's key type has no such form")?;
                craft::hs256(
                    &header(serde_json::json!({"alg": "HS256", "kid": kid})),
                    claims,
                    secret,
                )
                .map_err(error)?
            }
            Forgery::StripSignature => craft::strip_signature(&self.valid.token)
                .ok_or("the minted token is not a compact JWS")?,
            Forgery::CorruptSignature => craft::corrupt_signature(&self.valid.token)
                .ok_or("the minted token is not a compact JWS")?,
            Forgery::EmbeddedJwk => self
                .attacker
                .sign(
                    &attacker_header(serde_json::json!({"jwk": self.attacker.jwk})),
                    claims,
                )
                .map_err(error)?,
            Forgery::Jku => self
                .attacker
                .sign(
                    &attacker_header(serde_json::json!({"jku": self.keys.jwks_url(id)})),
                    claims,
                )
                .map_err(error)?,
            Forgery::X5u => self
                .attacker
                .sign(
                    &attacker_header(serde_json::json!({"x5u": self.keys.cert_url(id)})),
                    claims,
                )
                .map_err(error)?,
            Forgery::KidPath => craft::hs256(
                &header(serde_json::json!({"alg": "HS256", "kid": "../../../../../../dev/null"})),
                claims,
                b"",
            )
            .map_err(error)?,
            Forgery::KidSql => craft::hs256(
                &header(serde_json::json!({"alg": "HS256", "kid": "' UNION SELECT 'key' -- "})),
                claims,
                b"key",
            )
            .map_err(error)?,
            Forgery::Es256Zero { der } => craft::with_signature(
                &header(serde_json::json!({"alg": "ES256", "kid": kid})),
                claims,
                &craft::es256_zero_signature(der),
            ),
        };
        Ok(Secret::new(token))
    }
}

/// The most of a response body the probe reads: enough for an identity or an error message.
const BODY_LIMIT: usize = 64 * 1024;

async fn send_case(
    client: &reqwest::Client,
    target: &ApiTarget,
    case: &Case,
    ready: Prepared,
    keys: &KeyServer,
) -> CaseResult {
    let result = |observed: Observed, token: Option<Secret>| CaseResult {
        id: case.id.clone(),
        title: case.title.clone(),
        expect: case.expect,
        observed,
        meaning: case.meaning.clone(),
        fix: case.fix.clone(),
        token,
    };
    let hop = format!("{} {}", target.method, target.shown());
    let token = match ready.token {
        Ok(token) => token,
        Err(message) => {
            return result(
                Observed::Error {
                    hop: "making the token".into(),
                    message,
                },
                None,
            )
        }
    };
    let mut request = client
        .request(target.method.clone(), target.url.clone())
        .headers(target.headers.clone())
        .bearer_auth(token.expose());
    if let Some(body) = &target.body {
        request = request.body(body.clone());
    }
    let observed = match request.send().await {
        Err(e) => Observed::Error {
            hop,
            message: describe_send_error(&e.without_url(), target.timeout),
        },
        Ok(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            // The status decides; a body cut short (servers close the connection after a
            // 431) only loses the detail.
            let body = read_limited(response).await.unwrap_or_default();
            let answer = Answer {
                status,
                headers: &headers,
                body: &body,
            };
            classify(case, target, &hop, &answer, &ready.identities, &token)
        }
    };
    let observed = note_key_fetches(case, observed, keys);
    let observed = redact(observed, &token);
    result(observed, Some(token))
}

/// At most [`BODY_LIMIT`] bytes of the body.
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = BODY_LIMIT - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == BODY_LIMIT {
            break;
        }
    }
    Ok(body)
}

fn describe_send_error(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {} s (--timeout)", timeout.as_secs_f32())
    } else if e.is_connect() {
        format!("cannot connect: {e}; is the API running at that address?")
    } else {
        // The connection dropped mid-request: servers do that to requests they cannot take.
        format!("the request failed: {e}")
    }
}

/// What the API answered.
struct Answer<'a> {
    status: StatusCode,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

fn classify(
    case: &Case,
    target: &ApiTarget,
    hop: &str,
    answer: &Answer<'_>,
    identities: &[String],
    token: &Secret,
) -> Observed {
    let Answer {
        status,
        headers,
        body,
    } = *answer;
    let code = Some(status.as_u16());
    // Redacted before it is shortened: a cut-off token would no longer be found.
    let text = redact_all(&String::from_utf8_lossy(body), &[token]);
    let said = || {
        let challenge = headers
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(|v| format!("WWW-Authenticate: {}; ", redact_all(v, &[token])))
            .unwrap_or_default();
        shorten(&format!("{challenge}{}", text.trim()), 160)
    };
    if status.is_success() {
        let identity = match &target.identity {
            IdentitySource::None => None,
            IdentitySource::Header(name) => headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            IdentitySource::Pointer(pointer) => serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|json| json.pointer(pointer).cloned())
                .map(|v| match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                }),
        };
        if case.expect == Expect::Accept && target.identity != IdentitySource::None {
            let wrong = match &identity {
                None => Some("reported no identity".to_string()),
                Some(id) if !identities.iter().any(|known| known == id) => Some(format!(
                    "reported the identity `{id}`, not the token's (sub, email or \
                     preferred_username: {})",
                    identities.join(", ")
                )),
                Some(_) => None,
            };
            if let Some(wrong) = wrong {
                return Observed::Error {
                    hop: format!("identity: {hop}"),
                    message: format!("answered {status} but {wrong}"),
                };
            }
        }
        return Observed::Accepted {
            status: code,
            identity,
            detail: shorten(text.trim(), 160),
        };
    }
    let refused = match case.refusal {
        Refusal::Unauthorized => matches!(status.as_u16(), 401 | 403),
        Refusal::Forbidden => status == StatusCode::FORBIDDEN,
        Refusal::ClientError => status.is_client_error(),
    };
    if refused {
        return Observed::Refused {
            status: code,
            detail: said(),
        };
    }
    let why = if case.refusal == Refusal::Forbidden && status == StatusCode::UNAUTHORIZED {
        "the token itself was refused (401), so the group rule was never reached; see the \
         `valid` case"
            .to_string()
    } else if status.is_server_error() && case.expect == Expect::Refuse {
        "a server error on a forged or invalid token: the validator likely failed instead of \
         refusing"
            .to_string()
    } else if status.is_redirection() {
        "a redirect, not a bearer API's refusal (401/403): is this a login page?".to_string()
    } else {
        "neither acceptance (2xx) nor refusal (401/403)".to_string()
    };
    Observed::Error {
        hop: hop.to_string(),
        message: format!("answered {status}: {why}; it said: {}", said()),
    }
}

/// For the key-URL cases: whether the API fetched the URL the token named (an SSRF whatever
/// the verdict).
fn note_key_fetches(case: &Case, observed: Observed, keys: &KeyServer) -> Observed {
    let Recipe::Forged(Forgery::Jku | Forgery::X5u) = case.recipe else {
        return observed;
    };
    let fetches = keys.fetches(&case.id);
    let note = if fetches == 0 {
        "it did not fetch the key URL the token named".to_string()
    } else {
        format!(
            "it fetched the key URL the token named ({fetches}x): the API requests URLs an \
             attacker chooses"
        )
    };
    match observed {
        Observed::Refused { status, detail } => Observed::Refused {
            status,
            detail: format!("{note}; {detail}"),
        },
        Observed::Accepted {
            status,
            identity,
            detail,
        } => Observed::Accepted {
            status,
            identity,
            detail: format!("{note}; {detail}"),
        },
        error => error,
    }
}

/// No token in anything the report prints, whatever the API echoed back (in an identity, or in
/// a transport error's words).
fn redact(observed: Observed, token: &Secret) -> Observed {
    let clean = |text: String| redact_all(&text, &[token]);
    match observed {
        Observed::Refused { status, detail } => Observed::Refused {
            status,
            detail: clean(detail),
        },
        Observed::Accepted {
            status,
            identity,
            detail,
        } => Observed::Accepted {
            status,
            identity: identity.map(clean),
            detail: clean(detail),
        },
        Observed::Error { hop, message } => Observed::Error {
            hop,
            message: clean(message),
        },
    }
}
