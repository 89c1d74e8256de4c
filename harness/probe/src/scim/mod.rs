//! `probe scim`: drives a team's SCIM 2.0 server (RFC 7643/7644) the way an IdP's provisioning
//! client does: discovery, Users and Groups created, read, replaced and patched, filters and
//! paging, uniqueness conflicts and deprovisioning, and with `--dialect` the request shapes of
//! Entra ID's or Okta's client ([`dialect`]). Each case reports the request that failed and
//! what was expected against what came back ([`cases`] has the catalogue).
//!
//! Cases run one after another, because later ones use the Users and Group earlier ones
//! created; a case whose prerequisite failed is an `ERROR` naming it. Every resource the run
//! creates carries the run id in its name (`ssoproof-<run>-…`), and the last case deletes them.

pub mod cases;
mod client;
pub mod dialect;

use std::time::Duration;

use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};
use ssoproof_secret::Secret;
use url::Url;

use self::cases::{Case, CLEANUP, DIALECT_CASES, RFC_CASES};
use self::client::{Answer, Client, Fault};
pub use self::dialect::Dialect;
use self::dialect::{patch, ProfileUpdate, Shapes};
use crate::error::ProbeError;
use crate::outcome::{CaseResult, Observed, ProbeKind, ProbeReport};
use crate::target::check_target;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// The SCIM server under test.
#[derive(Debug, Clone)]
pub struct ScimTarget {
    /// The SCIM base URL, e.g. `http://127.0.0.1:8080/scim/v2`.
    pub base: Url,
    /// The provisioning bearer token; never shown.
    pub token: Secret,
    pub dialect: Dialect,
    /// Per request.
    pub timeout: Duration,
    /// The most bytes of one answer the probe reads.
    pub max_body: usize,
}

impl ScimTarget {
    /// A target with the defaults (10 s per request, answers up to 4 MiB), after the loopback
    /// rule.
    pub fn new(base: Url, token: Secret, allow_remote: bool) -> Result<ScimTarget, ProbeError> {
        check_target(&base, allow_remote)?;
        Ok(ScimTarget {
            base,
            token,
            dialect: Dialect::Rfc,
            timeout: Duration::from_secs(10),
            max_body: 4 * 1024 * 1024,
        })
    }
}

/// Runs the catalogue (and the dialect's cases) against `target`.
pub async fn run(target: &ScimTarget) -> Result<ProbeReport, ProbeError> {
    let client = Client::new(
        &target.base,
        target.token.clone(),
        target.timeout,
        target.max_body,
    )?;
    let run_id: String = {
        let mut rng = rand::thread_rng();
        (0..8)
            .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.gen_range(0..36)]))
            .collect()
    };
    let mut state = Run {
        client: &client,
        run: run_id,
        user_a: None,
        user_b: None,
        group: None,
        vendor_group: None,
        config: None,
        created_users: Vec::new(),
        created_groups: Vec::new(),
    };
    let mut results = Vec::new();
    for case in RFC_CASES {
        let observed = state.step(case.id).await;
        results.push(result(case, case.id.to_string(), observed, &client));
    }
    if let Some(shapes) = target.dialect.shapes() {
        for case in DIALECT_CASES {
            let observed = state.dialect_step(shapes, case.id).await;
            let id = format!("{}-{}", shapes.dialect.name(), case.id);
            results.push(result(case, id, observed, &client));
        }
    }
    let observed = state.cleanup().await;
    results.push(result(&CLEANUP, CLEANUP.id.to_string(), observed, &client));
    let mut shown = target.base.clone();
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    Ok(ProbeReport {
        probe: ProbeKind::Scim,
        target: shown.to_string(),
        issuer: String::new(),
        vendor: target.dialect.name().to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        cases: results,
    })
}

fn result(
    case: &Case,
    id: String,
    observed: Result<Observed, Stop>,
    client: &Client,
) -> CaseResult {
    let observed = match observed {
        Ok(observed) | Err(Stop::Failed(observed)) => observed,
        Err(Stop::Fault(fault)) => Observed::Error {
            hop: fault.request,
            message: fault.message,
        },
    };
    // Server words are redacted of the token wherever they went.
    let observed = match observed {
        Observed::Refused { status, detail } => Observed::Refused {
            status,
            detail: client.redact(&detail),
        },
        Observed::Accepted {
            status,
            identity,
            detail,
        } => Observed::Accepted {
            status,
            identity,
            detail: client.redact(&detail),
        },
        Observed::Error { hop, message } => Observed::Error {
            hop,
            message: client.redact(&message),
        },
    };
    CaseResult {
        id,
        title: format!("{} ({})", case.title, case.rfc),
        expect: case.expect,
        observed,
        meaning: case.meaning.to_string(),
        fix: case.fix.to_string(),
        token: None,
    }
}

/// Why a case ended before it passed.
enum Stop {
    /// No usable answer (or a prerequisite missing): the case is an `ERROR`.
    Fault(Fault),
    /// An answer that decides the case against the server.
    Failed(Observed),
}

impl From<Fault> for Stop {
    fn from(fault: Fault) -> Stop {
        Stop::Fault(fault)
    }
}

type Step = Result<Observed, Stop>;

/// The server did what the case asks (of an `Accept` case).
fn passed(answer: &Answer, detail: impl Into<String>) -> Step {
    Ok(Observed::Accepted {
        status: Some(answer.status),
        identity: None,
        detail: detail.into(),
    })
}

/// Unless `holds`, the server did not do what the `Accept` case asks: `BROKEN`, naming the
/// request and what was expected against what came back.
fn ensure(holds: bool, answer: &Answer, expected: &str) -> Result<(), Stop> {
    if holds {
        return Ok(());
    }
    Err(Stop::Failed(Observed::Refused {
        status: Some(answer.status),
        detail: format!(
            "{}: expected {expected}; got {}",
            answer.request,
            answer.shown()
        ),
    }))
}

/// A `Refuse` case: the refusal RFC 7644 names (`statuses`, and `scim_type` when given, in the
/// SCIM error body) passes; a 2xx is an acceptance (`VULNERABLE`); any other answer is an
/// `ERROR` saying which refusal was expected.
fn refusal(
    answer: &Answer,
    statuses: &[u16],
    expected_body: Option<ErrorBody>,
    what: &str,
) -> Step {
    let expected = format!(
        "{}{}",
        statuses
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or "),
        match expected_body {
            None => String::new(),
            Some(ErrorBody::Plain) => " with the SCIM error body".to_string(),
            Some(ErrorBody::Typed(t)) => format!(" with scimType \"{t}\" in the SCIM error body"),
        }
    );
    if answer.ok() {
        return Err(Stop::Failed(Observed::Accepted {
            status: Some(answer.status),
            identity: None,
            detail: format!(
                "{}: {what}; expected {expected}; got {}",
                answer.request,
                answer.shown()
            ),
        }));
    }
    let body = answer.json();
    let body_ok = match expected_body {
        None => true,
        Some(ErrorBody::Plain) => has_schema(body, ERROR_SCHEMA),
        Some(ErrorBody::Typed(t)) => has_schema(body, ERROR_SCHEMA) && body["scimType"] == t,
    };
    if statuses.contains(&answer.status) && body_ok {
        return Ok(Observed::Refused {
            status: Some(answer.status),
            detail: body["detail"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_default(),
        });
    }
    Err(Stop::Fault(Fault {
        request: answer.request.clone(),
        message: format!(
            "refused, but not as RFC 7644 §3.12 says: expected {expected}; got {}",
            answer.shown()
        ),
    }))
}

/// What a refusal's body must be.
#[derive(Debug, Clone, Copy)]
enum ErrorBody {
    /// The SCIM error body (`schemas: [urn:ietf:params:scim:api:messages:2.0:Error]`).
    Plain,
    /// The SCIM error body with this `scimType`.
    Typed(&'static str),
}

fn has_schema(body: &Value, schema: &str) -> bool {
    body["schemas"]
        .as_array()
        .is_some_and(|s| s.iter().any(|v| v == schema))
}

/// The `Resources` of a ListResponse, or a failure saying the answer is not one.
fn resources(answer: &Answer) -> Result<&Vec<Value>, Stop> {
    let body = answer.json();
    ensure(
        answer.status == 200 && has_schema(body, LIST_SCHEMA),
        answer,
        "200 with a ListResponse",
    )?;
    // RFC 7644 §3.4.2: `Resources` may be left out when there are no results.
    static EMPTY: Vec<Value> = Vec::new();
    Ok(body["Resources"].as_array().unwrap_or(&EMPTY))
}

fn ids_of(resources: &[Value]) -> Vec<&str> {
    resources.iter().filter_map(|r| r["id"].as_str()).collect()
}

/// A User the run created: its id and userName.
#[derive(Debug, Clone)]
struct User {
    id: String,
    name: String,
}

/// The state a run carries from case to case.
struct Run<'a> {
    client: &'a Client,
    /// In every name the run creates.
    run: String,
    user_a: Option<User>,
    user_b: Option<User>,
    group: Option<String>,
    vendor_group: Option<String>,
    /// The ServiceProviderConfig as the server announced it.
    config: Option<Value>,
    created_users: Vec<String>,
    created_groups: Vec<String>,
}

/// A prerequisite an earlier case did not produce.
fn missing(what: &str, case: &str) -> Stop {
    Stop::Fault(Fault {
        request: format!("(needs {case})"),
        message: format!("not run: {what}, see case {case}"),
    })
}

fn filter(expression: &str) -> String {
    url::form_urlencoded::byte_serialize(expression.as_bytes()).collect()
}

impl Run<'_> {
    fn a(&self) -> Result<User, Stop> {
        self.user_a
            .clone()
            .ok_or_else(|| missing("the first User was not created", "user-create"))
    }

    fn b(&self) -> Result<User, Stop> {
        self.user_b
            .clone()
            .ok_or_else(|| missing("the second User was not created", "user-create"))
    }

    fn group(&self) -> Result<String, Stop> {
        self.group
            .clone()
            .ok_or_else(|| missing("the Group was not created", "group-create"))
    }

    async fn get(&self, path: &str) -> Result<Answer, Fault> {
        self.client.send(Method::GET, path, None).await
    }

    async fn send(&self, method: Method, path: &str, body: &Value) -> Result<Answer, Fault> {
        self.client.send(method, path, Some(body)).await
    }

    /// A PATCH that must succeed (200 with the resource, or 204), then the resource as a GET
    /// reads it afterwards.
    async fn patch_then_get(&self, path: &str, body: &Value) -> Result<Answer, Stop> {
        let answer = self.send(Method::PATCH, path, body).await?;
        ensure(
            answer.status == 200 || answer.status == 204,
            &answer,
            "200 with the resource or 204",
        )?;
        let read = self.get(path).await?;
        ensure(read.status == 200, &read, "200 with the resource")?;
        Ok(read)
    }

    async fn list(&self, path: &str) -> Result<(Answer, Vec<Value>), Stop> {
        let answer = self.get(path).await?;
        let found = resources(&answer)?.clone();
        Ok((answer, found))
    }

    fn user_body(&self, name: &str, display: &str) -> Value {
        json!({
            "schemas": [USER_SCHEMA],
            "userName": name,
            "displayName": display,
            "name": { "givenName": "Probe", "familyName": display },
            "emails": [{ "value": name, "type": "work", "primary": true }],
            "active": true,
        })
    }

    async fn create_user(&mut self, suffix: &str) -> Result<(Answer, User), Stop> {
        let name = format!("ssoproof-{}-{suffix}@example.test", self.run);
        let answer = self
            .send(Method::POST, "Users", &self.user_body(&name, suffix))
            .await?;
        let body = answer.json();
        ensure(
            answer.status == 201 && body["id"].is_string(),
            &answer,
            "201 with the User and its id",
        )?;
        let id = body["id"].as_str().unwrap_or_default().to_string();
        self.created_users.push(id.clone());
        ensure(
            body["userName"] == name.as_str(),
            &answer,
            &format!("userName {name:?} as sent"),
        )?;
        Ok((answer, User { id, name }))
    }

    async fn step(&mut self, id: &str) -> Step {
        let run = self.run.clone();
        match id {
            "service-provider-config" => {
                let answer = self.get("ServiceProviderConfig").await?;
                let body = answer.json();
                if answer.status == 200 && body.is_object() {
                    self.config = Some(body.clone());
                }
                ensure(
                    answer.status == 200
                        && has_schema(body, SPC_SCHEMA)
                        && body["patch"]["supported"].is_boolean()
                        && body["filter"]["supported"].is_boolean()
                        && body["authenticationSchemes"].is_array(),
                    &answer,
                    "200 with the ServiceProviderConfig schema, patch, filter and authenticationSchemes",
                )?;
                passed(
                    &answer,
                    format!(
                        "patch {}, filter {}",
                        body["patch"]["supported"], body["filter"]["supported"]
                    ),
                )
            }
            "schemas" => {
                let (answer, found) = self.list("Schemas").await?;
                let ids = ids_of(&found);
                ensure(
                    ids.contains(&USER_SCHEMA) && ids.contains(&GROUP_SCHEMA),
                    &answer,
                    "the User and Group schemas",
                )?;
                let one = self.get(&format!("Schemas/{USER_SCHEMA}")).await?;
                ensure(
                    one.status == 200 && one.json()["id"] == USER_SCHEMA,
                    &one,
                    "200 with the User schema",
                )?;
                passed(&answer, format!("{} schemas", ids.len()))
            }
            "resource-types" => {
                let (answer, found) = self.list("ResourceTypes").await?;
                let endpoints: Vec<&str> = found
                    .iter()
                    .filter_map(|r| r["endpoint"].as_str())
                    .collect();
                ensure(
                    endpoints.contains(&"/Users") && endpoints.contains(&"/Groups"),
                    &answer,
                    "User and Group with endpoints /Users and /Groups",
                )?;
                let one = self.get("ResourceTypes/User").await?;
                ensure(
                    one.status == 200 && one.json()["endpoint"] == "/Users",
                    &one,
                    "200 with the User resource type",
                )?;
                passed(&answer, endpoints.join(", "))
            }
            "discovery-unknown-id" => {
                let answer = self.get(&format!("ResourceTypes/ssoproof-{run}")).await?;
                refusal(
                    &answer,
                    &[404],
                    None,
                    "served a resource type that does not exist",
                )?;
                let answer = self
                    .get(&format!("Schemas/urn:ssoproof:{run}:missing"))
                    .await?;
                refusal(&answer, &[404], None, "served a schema that does not exist")
            }
            "discovery-read-only" => {
                // What the server announced, unchanged: a server that wrongly accepts the write
                // is left as it was.
                let body = self.config.clone().ok_or_else(|| {
                    missing(
                        "the ServiceProviderConfig was not read",
                        "service-provider-config",
                    )
                })?;
                let answer = self
                    .send(Method::PUT, "ServiceProviderConfig", &body)
                    .await?;
                let refusals: Vec<u16> = (400..500).chain([501]).collect();
                refusal(
                    &answer,
                    &refusals,
                    None,
                    "accepted a write to its configuration",
                )
            }
            "unknown-endpoint" => {
                let answer = self.get(&format!("ssoproof-{run}")).await?;
                refusal(
                    &answer,
                    &[404],
                    None,
                    "answered a path that is no SCIM endpoint",
                )
            }
            "no-token" => {
                let answer = self.client.send_anonymous(Method::GET, "Users").await?;
                refusal(&answer, &[401], None, "answered without the bearer token")
            }
            "user-create" => {
                let (answer, a) = self.create_user("a").await?;
                self.user_a = Some(a);
                let (_, b) = self.create_user("b").await?;
                self.user_b = Some(b);
                passed(&answer, "two Users created")
            }
            "user-read" => {
                let a = self.a()?;
                let answer = self.get(&format!("Users/{}", a.id)).await?;
                let body = answer.json();
                ensure(
                    answer.status == 200
                        && body["id"] == a.id.as_str()
                        && body["userName"] == a.name.as_str(),
                    &answer,
                    "200 with the User as created",
                )?;
                passed(&answer, "")
            }
            "user-unknown-id" => {
                let answer = self.get(&format!("Users/ssoproof-{run}-missing")).await?;
                refusal(
                    &answer,
                    &[404],
                    Some(ErrorBody::Plain),
                    "served a User that does not exist",
                )
            }
            "user-conflict" => {
                let a = self.a()?;
                let answer = self
                    .send(Method::POST, "Users", &self.user_body(&a.name, "duplicate"))
                    .await?;
                if answer.ok() {
                    if let Some(id) = answer.json()["id"].as_str() {
                        self.created_users.push(id.to_string());
                    }
                }
                refusal(
                    &answer,
                    &[409],
                    Some(ErrorBody::Typed("uniqueness")),
                    "created a second User with the same userName",
                )
            }
            "user-replace" => {
                let a = self.a()?;
                let mut body = self.user_body(&a.name, "a-replaced");
                body["id"] = json!(a.id);
                let answer = self
                    .send(Method::PUT, &format!("Users/{}", a.id), &body)
                    .await?;
                ensure(answer.status == 200, &answer, "200 with the replaced User")?;
                let read = self.get(&format!("Users/{}", a.id)).await?;
                ensure(
                    read.json()["displayName"] == "a-replaced"
                        && read.json()["id"] == a.id.as_str(),
                    &read,
                    "displayName \"a-replaced\", the same id",
                )?;
                passed(&answer, "")
            }
            "patch-add" => {
                let a = self.a()?;
                let home = format!("ssoproof-{run}-a-home@example.test");
                let body = patch(vec![json!({
                    "op": "add", "path": "emails",
                    "value": [{ "value": home, "type": "home" }]
                })]);
                let read = self
                    .patch_then_get(&format!("Users/{}", a.id), &body)
                    .await?;
                let emails = email_values(read.json());
                ensure(
                    emails.contains(&home) && emails.contains(&a.name),
                    &read,
                    "both the work and the added home email",
                )?;
                passed(&read, "")
            }
            "patch-replace-path" => {
                let a = self.a()?;
                let body = patch(vec![
                    json!({ "op": "replace", "path": "displayName", "value": "a-patched" }),
                ]);
                let read = self
                    .patch_then_get(&format!("Users/{}", a.id), &body)
                    .await?;
                ensure(
                    read.json()["displayName"] == "a-patched",
                    &read,
                    "displayName \"a-patched\"",
                )?;
                passed(&read, "")
            }
            "patch-replace-no-path" => {
                let a = self.a()?;
                let body = patch(vec![json!({
                    "op": "replace", "value": { "displayName": "a-nopath", "nickName": "ann" }
                })]);
                let read = self
                    .patch_then_get(&format!("Users/{}", a.id), &body)
                    .await?;
                ensure(
                    read.json()["displayName"] == "a-nopath" && read.json()["nickName"] == "ann",
                    &read,
                    "displayName \"a-nopath\" and nickName \"ann\"",
                )?;
                passed(&read, "")
            }
            "patch-replace-filter" => {
                let a = self.a()?;
                let work = format!("ssoproof-{run}-a-work@example.test");
                let body = patch(vec![json!({
                    "op": "replace", "path": "emails[type eq \"work\"].value", "value": work
                })]);
                let read = self
                    .patch_then_get(&format!("Users/{}", a.id), &body)
                    .await?;
                let emails = email_values(read.json());
                ensure(
                    emails.contains(&work) && !emails.contains(&a.name),
                    &read,
                    &format!("the work email replaced by {work:?}"),
                )?;
                passed(&read, "")
            }
            "patch-remove-filter" => {
                let a = self.a()?;
                let body = patch(vec![
                    json!({ "op": "remove", "path": "emails[type eq \"home\"]" }),
                ]);
                let read = self
                    .patch_then_get(&format!("Users/{}", a.id), &body)
                    .await?;
                let types: Vec<&str> = read.json()["emails"]
                    .as_array()
                    .map(|e| e.iter().filter_map(|v| v["type"].as_str()).collect())
                    .unwrap_or_default();
                ensure(types == ["work"], &read, "only the work email left")?;
                passed(&read, "")
            }
            "patch-remove-attribute" => {
                let a = self.a()?;
                let body = patch(vec![json!({ "op": "remove", "path": "nickName" })]);
                let read = self
                    .patch_then_get(&format!("Users/{}", a.id), &body)
                    .await?;
                ensure(read.json()["nickName"].is_null(), &read, "no nickName")?;
                passed(&read, "")
            }
            "patch-invalid-op" => {
                let a = self.a()?;
                let body = patch(vec![
                    json!({ "op": "ssoproof-unknown", "path": "displayName", "value": "x" }),
                ]);
                let answer = self
                    .send(Method::PATCH, &format!("Users/{}", a.id), &body)
                    .await?;
                refusal(
                    &answer,
                    &[400],
                    None,
                    "accepted a PATCH op that does not exist",
                )
            }
            "filter-eq" => {
                let a = self.a()?;
                let (answer, found) = self
                    .list(&format!(
                        "Users?filter={}",
                        filter(&format!("userName eq {}", json!(a.name)))
                    ))
                    .await?;
                ensure(
                    ids_of(&found) == [a.id.as_str()],
                    &answer,
                    "exactly the first User",
                )?;
                passed(&answer, "1 found")
            }
            "filter-co" | "filter-sw" => {
                let (a, b) = (self.a()?, self.b()?);
                let expression = if id == "filter-co" {
                    format!("userName co {}", json!(format!("-{run}-")))
                } else {
                    format!("userName sw {}", json!(format!("ssoproof-{run}-")))
                };
                let (answer, found) = self
                    .list(&format!("Users?filter={}", filter(&expression)))
                    .await?;
                let mut ids = ids_of(&found);
                ids.sort_unstable();
                let mut want = vec![a.id.as_str(), b.id.as_str()];
                want.sort_unstable();
                ensure(ids == want, &answer, "exactly the run's two Users")?;
                passed(&answer, "2 found")
            }
            "filter-and" => {
                let b = self.b()?;
                let expression = format!(
                    "userName sw {} and userName co {}",
                    json!(format!("ssoproof-{run}-")),
                    json!("-b@")
                );
                let (answer, found) = self
                    .list(&format!("Users?filter={}", filter(&expression)))
                    .await?;
                ensure(
                    ids_of(&found) == [b.id.as_str()],
                    &answer,
                    "exactly the second User",
                )?;
                passed(&answer, "1 found")
            }
            "filter-or" => {
                let (a, b) = (self.a()?, self.b()?);
                let expression = format!(
                    "userName eq {} or userName eq {}",
                    json!(a.name),
                    json!(b.name)
                );
                let (answer, found) = self
                    .list(&format!("Users?filter={}", filter(&expression)))
                    .await?;
                ensure(found.len() == 2, &answer, "both Users")?;
                passed(&answer, "2 found")
            }
            "filter-invalid" => {
                let answer = self
                    .get(&format!("Users?filter={}", filter("userName zz \"x\"")))
                    .await?;
                refusal(
                    &answer,
                    &[400],
                    Some(ErrorBody::Typed("invalidFilter")),
                    "answered a filter it cannot parse",
                )
            }
            "pagination" => {
                let (a, b) = (self.a()?, self.b()?);
                let base = format!(
                    "Users?filter={}&count=1",
                    filter(&format!(
                        "userName sw {}",
                        json!(format!("ssoproof-{run}-"))
                    ))
                );
                let first = self.get(&format!("{base}&startIndex=1")).await?;
                let one = resources(&first)?.clone();
                let body = first.json();
                ensure(
                    body["totalResults"] == 2
                        && one.len() == 1
                        && body["startIndex"] == 1
                        && body["itemsPerPage"] == 1,
                    &first,
                    "totalResults 2, startIndex 1, itemsPerPage 1 and one resource",
                )?;
                let second = self.get(&format!("{base}&startIndex=2")).await?;
                let two = resources(&second)?.clone();
                let mut seen = [ids_of(&one), ids_of(&two)].concat();
                seen.sort_unstable();
                let mut want = vec![a.id.as_str(), b.id.as_str()];
                want.sort_unstable();
                ensure(
                    seen == want && second.json()["startIndex"] == 2,
                    &second,
                    "startIndex 2 and the other User of the two",
                )?;
                passed(&second, "2 pages of 1")
            }
            "attributes" => {
                let a = self.a()?;
                let answer = self
                    .get(&format!("Users/{}?attributes=userName", a.id))
                    .await?;
                let body = answer.json();
                ensure(
                    answer.status == 200
                        && body["userName"] == a.name.as_str()
                        && body["id"] == a.id.as_str()
                        && body["emails"].is_null()
                        && body["displayName"].is_null(),
                    &answer,
                    "id and userName only (no emails, no displayName)",
                )?;
                passed(&answer, "")
            }
            "search-post" => {
                let a = self.a()?;
                let body = json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": format!("userName eq {}", json!(a.name)),
                });
                let answer = self.send(Method::POST, "Users/.search", &body).await?;
                let found = resources(&answer)?;
                ensure(
                    ids_of(found) == [a.id.as_str()],
                    &answer,
                    "exactly the first User",
                )?;
                passed(&answer, "1 found")
            }
            "group-create" => {
                let a = self.a()?;
                let name = format!("ssoproof-{run}-group");
                let body = json!({
                    "schemas": [GROUP_SCHEMA], "displayName": name,
                    "members": [{ "value": a.id }],
                });
                let answer = self.send(Method::POST, "Groups", &body).await?;
                let created = answer.json();
                ensure(
                    answer.status == 201 && created["id"].is_string(),
                    &answer,
                    "201 with the Group and its id",
                )?;
                let id = created["id"].as_str().unwrap_or_default().to_string();
                self.created_groups.push(id.clone());
                self.group = Some(id);
                passed(&answer, "")
            }
            "group-read" => {
                let (group, a) = (self.group()?, self.a()?);
                let answer = self.get(&format!("Groups/{group}")).await?;
                ensure(
                    answer.status == 200 && member_ids(answer.json()) == [a.id.clone()],
                    &answer,
                    "200 with the first User as the only member",
                )?;
                passed(&answer, "")
            }
            "group-filter" => {
                let group = self.group()?;
                let expression =
                    format!("displayName eq {}", json!(format!("ssoproof-{run}-group")));
                let (answer, found) = self
                    .list(&format!("Groups?filter={}", filter(&expression)))
                    .await?;
                ensure(
                    ids_of(&found) == [group.as_str()],
                    &answer,
                    "exactly the Group",
                )?;
                passed(&answer, "1 found")
            }
            "group-add-member" => {
                let (group, a, b) = (self.group()?, self.a()?, self.b()?);
                let body = patch(vec![
                    json!({ "op": "add", "path": "members", "value": [{ "value": b.id }] }),
                ]);
                let read = self
                    .patch_then_get(&format!("Groups/{group}"), &body)
                    .await?;
                let mut members = member_ids(read.json());
                members.sort_unstable();
                let mut want = vec![a.id, b.id];
                want.sort_unstable();
                ensure(members == want, &read, "both Users as members")?;
                passed(&read, "")
            }
            "group-remove-member" => {
                let (group, a, b) = (self.group()?, self.a()?, self.b()?);
                let body = patch(vec![
                    json!({ "op": "remove", "path": format!("members[value eq \"{}\"]", a.id) }),
                ]);
                let read = self
                    .patch_then_get(&format!("Groups/{group}"), &body)
                    .await?;
                ensure(
                    member_ids(read.json()) == [b.id],
                    &read,
                    "the second User as the only member",
                )?;
                passed(&read, "")
            }
            "group-replace" => {
                let (group, a) = (self.group()?, self.a()?);
                let name = format!("ssoproof-{run}-group-replaced");
                let body = json!({
                    "schemas": [GROUP_SCHEMA], "id": group, "displayName": name,
                    "members": [{ "value": a.id }],
                });
                let answer = self
                    .send(Method::PUT, &format!("Groups/{group}"), &body)
                    .await?;
                ensure(answer.status == 200, &answer, "200 with the replaced Group")?;
                let read = self.get(&format!("Groups/{group}")).await?;
                ensure(
                    read.json()["displayName"] == name.as_str()
                        && member_ids(read.json()) == [a.id],
                    &read,
                    "the new displayName and the first User as the only member",
                )?;
                passed(&answer, "")
            }
            "deprovision-deactivate" => {
                let a = self.a()?;
                let body = dialect::deactivation(Dialect::Rfc);
                let read = self
                    .patch_then_get(&format!("Users/{}", a.id), &body)
                    .await?;
                ensure(read.json()["active"] == false, &read, "active false")?;
                passed(&read, "")
            }
            "deprovision-delete" => {
                let a = self.a()?;
                let path = format!("Users/{}", a.id);
                let answer = self.client.send(Method::DELETE, &path, None).await?;
                ensure(answer.status == 204, &answer, "204 No Content")?;
                self.created_users.retain(|id| *id != a.id);
                let read = self.get(&path).await?;
                ensure(read.status == 404, &read, "404 for the deleted User")?;
                let (listed, found) = self
                    .list(&format!(
                        "Users?filter={}",
                        filter(&format!("userName eq {}", json!(a.name)))
                    ))
                    .await?;
                ensure(
                    found.is_empty(),
                    &listed,
                    "no User found by the deleted userName",
                )?;
                passed(&answer, "deleted, 404, not found by filter")
            }
            other => unreachable!("case {other} has no step"),
        }
    }

    /// A case of the vendor dialect, on the second User and a Group of its own.
    async fn dialect_step(&mut self, shapes: &Shapes, id: &str) -> Step {
        let run = self.run.clone();
        match id {
            "update-profile" => {
                let b = self.b()?;
                let path = format!("Users/{}", b.id);
                let answer = match shapes.profile_update {
                    ProfileUpdate::PatchPath => {
                        let body = patch(vec![
                            json!({ "op": shapes.replace(), "path": "displayName", "value": "b-vendor" }),
                        ]);
                        self.send(Method::PATCH, &path, &body).await?
                    }
                    ProfileUpdate::Put => {
                        // The client sends the whole user as it last read it, changed.
                        let read = self.get(&path).await?;
                        ensure(read.status == 200, &read, "200 with the User")?;
                        let mut body = read.json().clone();
                        body["displayName"] = json!("b-vendor");
                        if let Some(object) = body.as_object_mut() {
                            object.remove("meta");
                        }
                        self.send(Method::PUT, &path, &body).await?
                    }
                };
                ensure(matches!(answer.status, 200 | 204), &answer, "200 or 204")?;
                let read = self.get(&path).await?;
                ensure(
                    read.json()["displayName"] == "b-vendor",
                    &read,
                    "displayName \"b-vendor\"",
                )?;
                passed(&answer, "")
            }
            "deactivate" | "reactivate" => {
                let b = self.b()?;
                let active = id == "reactivate";
                let read = self
                    .patch_then_get(&format!("Users/{}", b.id), &shapes.set_active(active))
                    .await?;
                ensure(
                    read.json()["active"] == active,
                    &read,
                    &format!("active {active} (a JSON boolean)"),
                )?;
                passed(&read, "")
            }
            "group-push" => {
                let body = json!({
                    "schemas": [GROUP_SCHEMA],
                    "displayName": format!("ssoproof-{run}-{}", shapes.dialect.name()),
                    "members": [],
                });
                let answer = self.send(Method::POST, "Groups", &body).await?;
                ensure(
                    answer.status == 201 && answer.json()["id"].is_string(),
                    &answer,
                    "201 with the Group and its id",
                )?;
                let id = answer.json()["id"].as_str().unwrap_or_default().to_string();
                self.created_groups.push(id.clone());
                self.vendor_group = Some(id);
                passed(&answer, "")
            }
            "group-rename" | "add-member" | "remove-member" => {
                let group = self.vendor_group.clone().ok_or_else(|| {
                    missing(
                        "the vendor's Group was not created",
                        &format!("{}-group-push", shapes.dialect.name()),
                    )
                })?;
                let b = self.b()?;
                let path = format!("Groups/{group}");
                let (body, want_members, what) = match id {
                    "group-rename" => {
                        let name = format!("ssoproof-{run}-{}-renamed", shapes.dialect.name());
                        let read = self
                            .patch_then_get(&path, &shapes.rename(&group, &name))
                            .await?;
                        ensure(
                            read.json()["displayName"] == name.as_str(),
                            &read,
                            &format!("displayName {name:?}"),
                        )?;
                        return passed(&read, "");
                    }
                    "add-member" => (
                        shapes.add_member(&b.id, &b.name),
                        vec![b.id.clone()],
                        "the second User as the only member",
                    ),
                    _ => (shapes.remove_member(&b.id), Vec::new(), "no members"),
                };
                let read = self.patch_then_get(&path, &body).await?;
                ensure(member_ids(read.json()) == want_members, &read, what)?;
                passed(&read, "")
            }
            other => unreachable!("dialect case {other} has no step"),
        }
    }

    /// Deletes every Group, then every User, the run created.
    async fn cleanup(&mut self) -> Step {
        let mut left = Vec::new();
        let mut last = None;
        let groups = std::mem::take(&mut self.created_groups);
        let users = std::mem::take(&mut self.created_users);
        let paths = groups
            .iter()
            .map(|id| format!("Groups/{id}"))
            .chain(users.iter().map(|id| format!("Users/{id}")));
        for path in paths {
            match self.client.send(Method::DELETE, &path, None).await {
                Ok(answer) if matches!(answer.status, 204 | 200 | 404) => last = Some(answer),
                Ok(answer) => left.push(format!("{}: {}", answer.request, answer.shown())),
                Err(fault) => left.push(format!("{}: {}", fault.request, fault.message)),
            }
        }
        if !left.is_empty() {
            return Err(Stop::Fault(Fault {
                request: "DELETE".into(),
                message: format!("left behind: {}", left.join("; ")),
            }));
        }
        Ok(Observed::Accepted {
            status: last.map(|a| a.status),
            identity: None,
            detail: format!("{} Groups, {} Users deleted", groups.len(), users.len()),
        })
    }
}

fn email_values(user: &Value) -> Vec<String> {
    user["emails"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|v| v["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn member_ids(group: &Value) -> Vec<String> {
    group["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|v| v["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
