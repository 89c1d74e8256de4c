//! The requests the fidelity suite sends, the same to every IdP, and what it keeps of each
//! answer: one JSON value per probe id, normalised so that two faithful servers give equal
//! values (see [`super::normalize`]).
//!
//! Everything goes over raw HTTP with a cookie-keeping client that follows no redirect by
//! itself, so nothing of ours (the reference relying party, its browser) stands between the
//! server and the observation.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use scraper::{Html, Selector};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;

use super::normalize::Normalizer;
use crate::backend::{ClientRegistration, Idp, RealmFixture};
use ssoproof_secret::Secret;

/// What one IdP answered to every probe.
pub type Observations = BTreeMap<String, Value>;

const TIMEOUT: Duration = Duration::from_secs(60);
const MAX_HOPS: usize = 10;
/// Users whose tokens are compared: one per kind of group membership in the fixture.
const USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];
const SCOPE: &str = "openid profile email";

pub(super) struct Prober<'a> {
    idp: &'a dyn Idp,
    fixture: &'a RealmFixture,
    norm: Normalizer,
    discovery: Value,
    out: Observations,
}

/// Where a login flow ended.
enum End {
    /// Redirected to the redirect URI: its query parameters.
    Callback(BTreeMap<String, String>),
    /// A page that is neither a login form nor a consent form.
    Page {
        status: u16,
        message: Option<String>,
    },
}

/// One browser: its cookies are its session at the IdP.
struct Browser {
    http: reqwest::Client,
}

/// A login form as a driver sees it.
struct Form {
    method: String,
    action: Url,
    /// `name` → value of every input, in document order.
    fields: Vec<(String, String, String)>,
}

impl<'a> Prober<'a> {
    pub(super) async fn new(
        idp: &'a dyn Idp,
        fixture: &'a RealmFixture,
    ) -> Result<Prober<'a>, String> {
        let issuer = idp.issuer();
        let browser = Browser::new()?;
        let url = format!("{issuer}/.well-known/openid-configuration");
        let (status, body) = browser.get(&url).await?;
        if status != 200 {
            return Err(format!("GET {url}: {status}"));
        }
        let discovery: Value =
            serde_json::from_str(&body).map_err(|e| format!("GET {url}: not JSON: {e}"))?;
        Ok(Prober {
            idp,
            fixture,
            norm: Normalizer::new(&issuer),
            discovery,
            out: Observations::new(),
        })
    }

    fn endpoint(&self, name: &str) -> Result<String, String> {
        self.discovery[name]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("discovery has no {name}"))
    }

    fn record(&mut self, probe: impl Into<String>, value: Value) {
        self.out.insert(probe.into(), value);
    }

    pub(super) async fn run(mut self) -> Result<Observations, String> {
        self.discovery_and_keys().await?;
        let app = self.idp.client();
        for user in USERS {
            self.tokens_of(&app, user).await?;
        }
        self.login_page(&app).await?;
        self.authorization_refusals(&app).await?;
        self.token_refusals(&app).await?;
        self.consent().await?;
        self.logout(&app).await?;
        Ok(self.out)
    }

    async fn discovery_and_keys(&mut self) -> Result<(), String> {
        let discovery = self.discovery.clone();
        let keys: Vec<&String> = discovery
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        self.record("discovery.keys", json!(keys));
        for (key, value) in discovery.as_object().into_iter().flatten() {
            let value = self.norm.value(value);
            self.record(format!("discovery.{key}"), value);
        }
        let jwks_uri = self.endpoint("jwks_uri")?;
        let (_, body) = Browser::new()?.get(&jwks_uri).await?;
        let jwks: Value = serde_json::from_str(&body).map_err(|e| format!("JWKS: {e}"))?;
        let mut shapes: Vec<Value> = jwks["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| {
                let mut fields: Vec<&String> = k
                    .as_object()
                    .map(|o| o.keys().collect())
                    .unwrap_or_default();
                fields.sort();
                json!({"kty": k["kty"], "alg": k["alg"], "use": k["use"], "fields": fields})
            })
            .collect();
        shapes.sort_by_key(|v| v.to_string());
        shapes.dedup();
        self.record("jwks.key-shapes", json!(shapes));
        Ok(())
    }

    /// A full code flow for `user`: the callback's parameters, the token response, each
    /// token's header and claims, and userinfo.
    async fn tokens_of(&mut self, app: &ClientRegistration, user: &str) -> Result<(), String> {
        let browser = Browser::new()?;
        let flow = Flow::new(app);
        let end = self.sign_in(&browser, &flow, user, &[]).await?;
        let End::Callback(params) = end else {
            return Err(format!("{user} could not sign in: {}", describe(&end)));
        };
        self.record(
            format!("login.{user}.callback-parameters"),
            self.norm.callback(&params, &flow.state),
        );
        let code = params.get("code").cloned().unwrap_or_default();
        let (status, body) = self
            .exchange(app, &code, &flow.verifier, &app.redirect_uri)
            .await?;
        let tokens: Value =
            serde_json::from_str(&body).map_err(|e| format!("token response for {user}: {e}"))?;
        if status != 200 {
            return Err(format!("token request for {user}: {status} {body}"));
        }
        self.record(
            format!("token.{user}.response"),
            self.norm.token_response(&tokens),
        );
        for kind in ["id_token", "access_token", "refresh_token"] {
            if let Some(jwt) = tokens[kind].as_str() {
                let (header, claims) = self.norm.jwt(jwt);
                self.record(format!("token.{user}.{kind}.header"), header);
                self.record(format!("token.{user}.{kind}.claims"), claims);
            }
        }
        let access = tokens["access_token"].as_str().unwrap_or_default();
        let userinfo = self.endpoint("userinfo_endpoint")?;
        let response = browser
            .http
            .get(&userinfo)
            .bearer_auth(access)
            .send()
            .await
            .map_err(|e| format!("GET {userinfo}: {e}"))?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        let claims: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
        self.record(
            format!("userinfo.{user}"),
            json!({"status": status, "claims": self.norm.claims(&claims)}),
        );
        Ok(())
    }

    async fn login_page(&mut self, app: &ClientRegistration) -> Result<(), String> {
        let browser = Browser::new()?;
        let flow = Flow::new(app);
        let (status, body, _) = browser
            .fetch(Method::GET, &self.authorize_url(&flow, &[])?, None)
            .await?;
        let form = login_form(
            &body,
            &Url::parse(&self.endpoint("authorization_endpoint")?).map_err(|e| e.to_string())?,
        );
        let shape = form.as_ref().map(|f| {
            json!({
                "method": f.method,
                "action-path": self.norm.text(f.action.path()),
                "fields": f.fields.iter().map(|(n, t, _)| format!("{n}:{t}")).collect::<Vec<_>>(),
            })
        });
        self.record(
            "login-page.form",
            json!({"status": status.as_u16(), "form": shape}),
        );

        // A wrong password: the page the user sees next.
        let end = self
            .sign_in_with(
                &browser,
                &flow,
                "alice",
                &Secret::from("not-alice-password"),
                &[],
            )
            .await?;
        self.record("login-page.wrong-password", self.end_value(&end));
        // A disabled user (erin, `enabled: false` in the fixture) with her right password.
        let browser = Browser::new()?;
        let end = self.sign_in(&browser, &Flow::new(app), "erin", &[]).await?;
        self.record("login-page.disabled-user", self.end_value(&end));
        Ok(())
    }

    async fn authorization_refusals(&mut self, app: &ClientRegistration) -> Result<(), String> {
        let cases: [(&str, Vec<(&str, String)>); 4] = [
            (
                "unregistered-redirect-uri",
                vec![("redirect_uri", "http://127.0.0.1/not-registered".into())],
            ),
            (
                "invalid-scope",
                vec![("scope", "openid no-such-scope".into())],
            ),
            (
                "prompt-none-without-session",
                vec![("prompt", "none".into())],
            ),
            (
                "pkce-plain",
                vec![("code_challenge_method", "plain".into())],
            ),
        ];
        for (name, extra) in cases {
            let browser = Browser::new()?;
            let flow = Flow::new(app);
            let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let url = self.authorize_url(&flow, &extra)?;
            let (status, body, location) = browser.fetch(Method::GET, &url, None).await?;
            let value = match location {
                Some(location) => {
                    let params = query_of(&location);
                    json!({"status": status.as_u16(), "redirect": self.norm.callback(&params, &flow.state)})
                }
                None => json!({"status": status.as_u16(), "message": rp_message(&body)}),
            };
            self.record(format!("authorize.{name}"), value);
        }
        Ok(())
    }

    async fn token_refusals(&mut self, app: &ClientRegistration) -> Result<(), String> {
        // One code, spent on the refusals that do not consume it first, then reused.
        let (code, flow) = self.code_for(app, "alice").await?;
        let wrong_secret = ClientRegistration {
            secret: Some(Secret::from("not-the-secret")),
            ..app.clone()
        };
        let unknown = ClientRegistration {
            client_id: "no-such-client".into(),
            ..app.clone()
        };
        let cases = [
            (
                "wrong-client-secret",
                &wrong_secret,
                flow.verifier.as_str(),
                app.redirect_uri.as_str(),
            ),
            (
                "unknown-client",
                &unknown,
                flow.verifier.as_str(),
                app.redirect_uri.as_str(),
            ),
        ];
        for (name, client, verifier, redirect) in cases {
            let answer = self.exchange(client, &code, verifier, redirect).await?;
            self.record(
                format!("token.refusal.{name}"),
                self.norm.error_answer(answer),
            );
        }
        // Each of these consumes the code in Keycloak, so each gets a fresh one.
        for name in [
            "wrong-redirect-uri",
            "missing-code-verifier",
            "wrong-code-verifier",
        ] {
            let (code, flow) = self.code_for(app, "alice").await?;
            let answer = match name {
                "wrong-redirect-uri" => {
                    self.exchange(app, &code, &flow.verifier, "http://127.0.0.1/elsewhere")
                        .await?
                }
                "missing-code-verifier" => self.exchange(app, &code, "", &app.redirect_uri).await?,
                _ => {
                    self.exchange(app, &code, &"x".repeat(64), &app.redirect_uri)
                        .await?
                }
            };
            self.record(
                format!("token.refusal.{name}"),
                self.norm.error_answer(answer),
            );
        }
        let (code, flow) = self.code_for(app, "alice").await?;
        let first = self
            .exchange(app, &code, &flow.verifier, &app.redirect_uri)
            .await?;
        let again = self
            .exchange(app, &code, &flow.verifier, &app.redirect_uri)
            .await?;
        self.record("token.refusal.reused-code", self.norm.error_answer(again));

        // Refresh-token replay with "Revoke Refresh Token" on (the fixture's realm setting).
        let tokens: Value = serde_json::from_str(&first.1).unwrap_or_default();
        let refresh = tokens["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let used = self.refresh(app, &refresh).await?;
        self.record("token.refresh.first-use", self.norm.status_and_keys(&used));
        let replay = self.refresh(app, &refresh).await?;
        self.record(
            "token.refusal.refresh-replay",
            self.norm.error_answer(replay),
        );

        // The password grant, which the fixture's clients do not allow.
        let password = self
            .fixture
            .password("alice")
            .unwrap_or_else(|| Secret::from(""));
        let form = [
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", password.expose()),
            ("scope", "openid"),
        ];
        let answer = self.token_post(app, &form).await?;
        self.record(
            "token.refusal.password-grant",
            self.norm.error_answer(answer),
        );
        Ok(())
    }

    /// The consent client: the consent page's form, and the callback after accepting.
    async fn consent(&mut self) -> Result<(), String> {
        let Some(client) = self.fixture_client("acme-consent") else {
            return Ok(());
        };
        let browser = Browser::new()?;
        let flow = Flow::new(&client);
        let password = self
            .fixture
            .password("alice")
            .unwrap_or_else(|| Secret::from(""));
        let mut url = self.authorize_url(&flow, &[])?;
        let mut consent_seen = Value::Null;
        let mut method = Method::GET;
        let mut form_body: Option<Vec<(String, String)>> = None;
        for _ in 0..MAX_HOPS {
            let (status, body, location) = browser
                .fetch(method.clone(), &url, form_body.take())
                .await?;
            if let Some(location) = location {
                if location.starts_with(&client.redirect_uri) {
                    let params = query_of(&location);
                    self.record(
                        "consent.callback-parameters",
                        self.norm.callback(&params, &flow.state),
                    );
                    break;
                }
                url = location;
                method = Method::GET;
                continue;
            }
            let page_url = Url::parse(&url).map_err(|e| e.to_string())?;
            let Some(form) = login_form(&body, &page_url) else {
                self.record(
                    "consent.callback-parameters",
                    json!({"stopped-at": status.as_u16(), "message": rp_message(&body)}),
                );
                break;
            };
            if form.fields.iter().any(|(_, t, _)| t == "password") {
                form_body = Some(fill(&form, "alice", &password));
            } else {
                consent_seen = json!(form
                    .fields
                    .iter()
                    .map(|(n, t, _)| format!("{n}:{t}"))
                    .collect::<Vec<_>>());
                let mut fields: Vec<(String, String)> = form
                    .fields
                    .iter()
                    .filter(|(_, t, _)| t == "hidden")
                    .map(|(n, _, v)| (n.clone(), v.clone()))
                    .collect();
                fields.push(("accept".into(), "Yes".into()));
                form_body = Some(fields);
            }
            method = Method::POST;
            url = form.action.to_string();
        }
        self.record("consent.form-fields", consent_seen);
        Ok(())
    }

    /// RP-initiated logout with `id_token_hint` and `post_logout_redirect_uri`, then a refresh
    /// with the session's refresh token.
    async fn logout(&mut self, app: &ClientRegistration) -> Result<(), String> {
        let browser = Browser::new()?;
        let flow = Flow::new(app);
        let End::Callback(params) = self.sign_in(&browser, &flow, "bob", &[]).await? else {
            return Err("bob could not sign in for the logout probe".into());
        };
        let code = params.get("code").cloned().unwrap_or_default();
        let (_, body) = self
            .exchange(app, &code, &flow.verifier, &app.redirect_uri)
            .await?;
        let tokens: Value = serde_json::from_str(&body).unwrap_or_default();
        let id_token = tokens["id_token"].as_str().unwrap_or_default();
        let refresh = tokens["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut url =
            Url::parse(&self.endpoint("end_session_endpoint")?).map_err(|e| e.to_string())?;
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token)
            .append_pair("post_logout_redirect_uri", &app.redirect_uri)
            .append_pair("state", "logout-state");
        let (status, body, location) = browser.fetch(Method::GET, url.as_str(), None).await?;
        let value = match location {
            Some(location) => {
                json!({"status": status.as_u16(), "location": self.norm.text(&location)})
            }
            None => json!({"status": status.as_u16(), "message": rp_message(&body)}),
        };
        self.record("logout.end-session", value);
        let after = self.refresh(app, &refresh).await?;
        self.record("logout.refresh-after", self.norm.error_answer(after));
        Ok(())
    }

    // --- helpers ------------------------------------------------------------------------------

    fn end_value(&self, end: &End) -> Value {
        match end {
            End::Callback(params) => json!({"redirect": self.norm.callback(params, "")}),
            End::Page { status, message } => json!({"status": status, "message": message}),
        }
    }

    fn fixture_client(&self, client_id: &str) -> Option<ClientRegistration> {
        let client = self.fixture.json["clients"]
            .as_array()?
            .iter()
            .find(|c| c["clientId"] == client_id)?;
        Some(ClientRegistration {
            client_id: client_id.to_string(),
            secret: client["secret"].as_str().map(Secret::from),
            redirect_uri: self.idp.client().redirect_uri,
        })
    }

    fn authorize_url(&self, flow: &Flow, extra: &[(&str, &str)]) -> Result<String, String> {
        let mut url =
            Url::parse(&self.endpoint("authorization_endpoint")?).map_err(|e| e.to_string())?;
        let mut params: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", &flow.client_id),
            ("redirect_uri", &flow.redirect_uri),
            ("scope", SCOPE),
            ("state", &flow.state),
            ("nonce", &flow.nonce),
            ("code_challenge", &flow.challenge),
            ("code_challenge_method", "S256"),
        ];
        for (key, value) in extra {
            params.retain(|(k, _)| k != key);
            params.push((key, value));
        }
        url.query_pairs_mut().extend_pairs(params);
        Ok(url.to_string())
    }

    async fn sign_in(
        &self,
        browser: &Browser,
        flow: &Flow,
        user: &str,
        extra: &[(&str, &str)],
    ) -> Result<End, String> {
        let password = self
            .fixture
            .password(user)
            .ok_or_else(|| format!("the fixture has no password for {user}"))?;
        self.sign_in_with(browser, flow, user, &password, extra)
            .await
    }

    /// Follows the flow: redirects, the login form (filled), until the redirect URI or a page
    /// that is neither.
    async fn sign_in_with(
        &self,
        browser: &Browser,
        flow: &Flow,
        user: &str,
        password: &Secret,
        extra: &[(&str, &str)],
    ) -> Result<End, String> {
        let mut url = self.authorize_url(flow, extra)?;
        let mut method = Method::GET;
        let mut body: Option<Vec<(String, String)>> = None;
        let mut submitted = false;
        for _ in 0..MAX_HOPS {
            let (status, page, location) = browser.fetch(method.clone(), &url, body.take()).await?;
            if let Some(location) = location {
                if location.starts_with(&flow.redirect_uri) {
                    return Ok(End::Callback(query_of(&location)));
                }
                url = location;
                method = Method::GET;
                continue;
            }
            let page_url = Url::parse(&url).map_err(|e| e.to_string())?;
            match login_form(&page, &page_url) {
                Some(form) if !submitted && form.fields.iter().any(|(_, t, _)| t == "password") => {
                    body = Some(fill(&form, user, password));
                    method = Method::POST;
                    url = form.action.to_string();
                    submitted = true;
                }
                _ => {
                    return Ok(End::Page {
                        status: status.as_u16(),
                        message: rp_message(&page),
                    })
                }
            }
        }
        Err(format!("more than {MAX_HOPS} hops signing {user} in"))
    }

    async fn code_for(
        &self,
        app: &ClientRegistration,
        user: &str,
    ) -> Result<(String, Flow), String> {
        let browser = Browser::new()?;
        let flow = Flow::new(app);
        match self.sign_in(&browser, &flow, user, &[]).await? {
            End::Callback(params) => Ok((params.get("code").cloned().unwrap_or_default(), flow)),
            end => Err(format!("{user} could not sign in: {}", describe(&end))),
        }
    }

    async fn exchange(
        &self,
        client: &ClientRegistration,
        code: &str,
        verifier: &str,
        redirect: &str,
    ) -> Result<(u16, String), String> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
        ];
        if !verifier.is_empty() {
            form.push(("code_verifier", verifier));
        }
        self.token_post(client, &form).await
    }

    async fn refresh(
        &self,
        client: &ClientRegistration,
        refresh: &str,
    ) -> Result<(u16, String), String> {
        self.token_post(
            client,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await
    }

    /// A token request with `client_secret_basic`, the runbooks' method.
    async fn token_post(
        &self,
        client: &ClientRegistration,
        form: &[(&str, &str)],
    ) -> Result<(u16, String), String> {
        let url = self.endpoint("token_endpoint")?;
        let mut request = Browser::new()?.http.post(&url).form(form);
        request = match &client.secret {
            Some(secret) => request.basic_auth(&client.client_id, Some(secret.expose())),
            None => request.form(&[("client_id", client.client_id.as_str())]),
        };
        let response = request
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = response.status().as_u16();
        Ok((status, response.text().await.unwrap_or_default()))
    }
}

/// One authorization request's secrets.
struct Flow {
    client_id: String,
    redirect_uri: String,
    state: String,
    nonce: String,
    verifier: String,
    challenge: String,
}

impl Flow {
    fn new(client: &ClientRegistration) -> Flow {
        let random = || {
            let bytes: [u8; 32] = rand::random();
            URL_SAFE_NO_PAD.encode(bytes)
        };
        let verifier = random();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Flow {
            client_id: client.client_id.clone(),
            redirect_uri: client.redirect_uri.clone(),
            state: random(),
            nonce: random(),
            verifier,
            challenge,
        }
    }
}

impl Browser {
    fn new() -> Result<Browser, String> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Browser { http })
    }

    async fn get(&self, url: &str) -> Result<(u16, String), String> {
        let (status, body, _) = self.fetch(Method::GET, url, None).await?;
        Ok((status.as_u16(), body))
    }

    /// Status, body, and the redirect's absolute `Location` if it is one.
    async fn fetch(
        &self,
        method: Method,
        url: &str,
        form: Option<Vec<(String, String)>>,
    ) -> Result<(StatusCode, String, Option<String>), String> {
        let mut request = self.http.request(method.clone(), url);
        if let Some(form) = &form {
            request = request.form(form);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let status = response.status();
        let location = if status.is_redirection() {
            response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .and_then(|l| Url::parse(url).ok()?.join(l).ok())
                .map(|u| u.to_string())
        } else {
            None
        };
        let body = response.text().await.unwrap_or_default();
        Ok((status, body, location))
    }
}

/// The first form of the page with its inputs (`name:type`), its method and absolute action.
fn login_form(html: &str, page: &Url) -> Option<Form> {
    let doc = Html::parse_document(html);
    let form_selector = Selector::parse("form").ok()?;
    let input_selector = Selector::parse("input[name], button[name]").ok()?;
    let form = doc.select(&form_selector).next()?;
    let action = page.join(form.attr("action").unwrap_or("")).ok()?;
    let fields = form
        .select(&input_selector)
        .map(|i| {
            let kind = if i.value().name() == "button" {
                "button"
            } else {
                i.attr("type").unwrap_or("text")
            };
            (
                i.attr("name").unwrap_or_default().to_string(),
                kind.to_ascii_lowercase(),
                i.attr("value").unwrap_or_default().to_string(),
            )
        })
        .collect();
    Some(Form {
        method: form.attr("method").unwrap_or("get").to_ascii_lowercase(),
        action,
        fields,
    })
}

/// The form's fields as a browser would submit them: username and password typed in, the
/// hidden ones kept, no buttons (Keycloak's login button carries no needed value).
fn fill(form: &Form, user: &str, password: &Secret) -> Vec<(String, String)> {
    form.fields
        .iter()
        .filter_map(|(name, kind, value)| match kind.as_str() {
            "password" => Some((name.clone(), password.expose().to_string())),
            "hidden" => Some((name.clone(), value.clone())),
            "text" | "email" if name == "username" || name == "email" || name == "login" => {
                Some((name.clone(), user.to_string()))
            }
            "checkbox" | "submit" | "button" => None,
            _ => Some((name.clone(), value.clone())),
        })
        .collect()
}

fn query_of(location: &str) -> BTreeMap<String, String> {
    Url::parse(location)
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn rp_message(html: &str) -> Option<String> {
    ssoproof_rp::page_message(html)
}

fn describe(end: &End) -> String {
    match end {
        End::Callback(params) => format!("redirected back with {params:?}"),
        End::Page { status, message } => format!(
            "stopped at a {status} page: {}",
            message.as_deref().unwrap_or("(no message)")
        ),
    }
}
