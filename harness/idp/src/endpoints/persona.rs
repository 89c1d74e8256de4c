//! The endpoints of a vendor persona, at the vendor's paths ([`Dialect::servers`]): discovery,
//! JWKS, authorization, the sign-in form, token, userinfo and sign-out. The protocol machinery
//! is shared with the Keycloak endpoints (codes, PKCE, sessions, refresh tokens, faults); the
//! vendor decides the scopes, who may sign in, the claims, the response shapes and the error
//! texts.
//!
//! Sign-out checks the request as the vendor does and sends the browser to a registered URL,
//! but it revokes nothing: none of these vendors revokes refresh (or access) tokens at its
//! sign-out endpoint, and the personas keep no browser session to clear. Okta's `/v1/logout`
//! ends the Okta browser session; its refresh tokens go only through `/v1/revoke` or when an
//! admin clears the user's sessions with `oauthTokens=true` (Okta, "Sign users out" and
//! "Revoke tokens"). Auth0's logout ends the Auth0 session; refresh tokens go through
//! `/oauth/revoke` (Auth0, "Revoke Refresh Tokens"). Entra's sign-out leaves refresh tokens
//! alive ("Refresh tokens in the Microsoft identity platform", revocation table: "Single
//! sign-out on web"). Cognito's `/logout` clears the hosted-UI cookie; refresh tokens go
//! through `/oauth2/revoke` or `GlobalSignOut` (AWS knowledge center, "What's the difference
//! between the logout endpoint and the GlobalSignOut API"). So a refresh after sign-out works,
//! as it does at the vendor.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::params::Params;
use super::pkce;
use super::responses::{found, json as json_response, AuthResponse};
use super::token::{redeem_code, CodeRefusals, RedeemedCode};
use crate::faults::{impostor_issuer, Fault};
use crate::pages::{self, Step};
use crate::persona::{
    ClientRefusal, Ctx, Dialect, LogoutRefusal, LogoutStyle, M2mRequest, M2mToken, Refusal,
    SecretCheck,
};
use crate::realm::{Client, Realm, OPENID};
use crate::redirect;
use crate::state::{
    now, random_token, AuthRequest, NewSession, PendingLogin, ResponseMode, Shared, Stage,
};
use crate::tokens::{self, Grant, PersonaIssue};

/// Authorization parameters a vendor reads later.
const KEPT_PARAMS: [&str; 4] = ["access_type", "hd", "prompt", "audience"];

fn dialect(realm: &Realm) -> &dyn Dialect {
    realm
        .persona
        .as_ref()
        .expect("the persona router serves persona realms only")
        .dialect()
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let login_path = dialect(&shared.realm()).login_path();
    let mut routes: Vec<(String, MethodRouter<Arc<Shared>>)> = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |path: &str, route: MethodRouter<Arc<Shared>>| {
        if seen.insert(path.to_string()) {
            routes.push((path.to_string(), route));
        }
    };
    for (index, server) in shared.servers.iter().enumerate() {
        add(
            &server.discovery,
            get(move |State(shared): State<Arc<Shared>>| async move { discovery(&shared, index) }),
        );
        if server.discovery_only {
            continue;
        }
        add(&server.jwks, get(super::discovery::certs));
        add(
            &server.authorize,
            get(
                move |State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery| async move {
                    authorize(&shared, index, &Params::query(query.as_deref()))
                },
            )
            .post(
                move |State(shared): State<Arc<Shared>>, body: Bytes| async move {
                    authorize(&shared, index, &Params::parse(&body))
                },
            ),
        );
        add(
            &server.token,
            post(
                move |State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes| async move {
                    token(&shared, index, &headers, &Params::parse(&body))
                },
            ),
        );
        if let Some(userinfo) = &server.userinfo {
            add(userinfo, get(userinfo_handler).post(userinfo_handler));
        }
        for (which, endpoint) in server.logout.iter().enumerate() {
            let route = get(
                move |State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery| async move {
                    logout(&shared, index, which, &Params::query(query.as_deref()))
                },
            );
            let route = match endpoint.style {
                LogoutStyle::RpInitiated => route.post(
                    move |State(shared): State<Arc<Shared>>, body: Bytes| async move {
                        logout(&shared, index, which, &Params::parse(&body))
                    },
                ),
                LogoutStyle::ClientNamed { .. } => route,
            };
            add(&endpoint.path, route);
        }
    }
    add(&login_path, get(login_handler).post(login_handler));
    let saml_idps = dialect(&shared.realm()).saml_idps(&shared.base_url);
    let mut router = crate::saml::persona_routes(&shared.base_url, saml_idps);
    for (path, route) in routes {
        router = router.route(&path, route);
    }
    router
        .fallback(|| async { json_response(StatusCode::NOT_FOUND, &json!({"error": "not_found"})) })
        .with_state(shared)
}

fn discovery(shared: &Shared, index: usize) -> Response {
    let realm = shared.realm();
    let server = &shared.servers[index];
    let mut document = dialect(&realm).discovery(server, &shared.servers, &shared.base_url);
    if shared
        .faults
        .snapshot()
        .has(&Fault::DiscoveryIssuerMismatch)
    {
        document["issuer"] = json!(impostor_issuer(&server.issuer));
    }
    if shared.options.persona_sends_iss() {
        document["authorization_response_iss_parameter_supported"] = json!(true);
    }
    let mut response = json_response(StatusCode::OK, &document);
    response.headers_mut().remove(header::CACHE_CONTROL);
    response.headers_mut().remove(header::PRAGMA);
    response
}

/// Where an authorization answer goes back to, and what it carries besides the result.
struct ReplyTo<'a> {
    redirect_uri: &'a str,
    mode: ResponseMode,
    state: Option<&'a str>,
    /// RFC 9207 `iss`, on error responses as on successful ones (section 2).
    iss: Option<&'a str>,
}

/// The `iss` authorization responses through `server` carry, when they carry one.
fn response_iss(shared: &Shared, server: usize) -> Option<String> {
    let iss = shared
        .options
        .persona_sends_iss()
        .then(|| shared.servers[server].issuer.clone());
    shared.faults.snapshot().iss_parameter(iss)
}

fn refusal_response(refusal: Refusal, to: &ReplyTo<'_>, title: &str) -> Response {
    match refusal {
        Refusal::Redirect { error, description } => AuthResponse::error(
            to.redirect_uri,
            to.mode,
            &error,
            description.as_deref(),
            to.state,
            to.iss,
        )
        .send(title),
        Refusal::Page(page) => pages::persona_error(&page),
    }
}

fn authorize(shared: &Shared, index: usize, params: &Params) -> Response {
    let realm = shared.realm();
    let persona = dialect(&realm);
    let title = realm.title();
    let server = &shared.servers[index];
    let client_id = params.get("client_id").unwrap_or_default();
    let client = Some(client_id)
        .filter(|_| params.count("client_id") == 1)
        .and_then(|id| realm.client(id))
        .filter(|c| c.enabled);
    let Some(client) = client else {
        return pages::persona_error(&persona.unknown_client(client_id));
    };
    let redirect_uri = match params.get("redirect_uri") {
        Some(uri) if redirect::matches(&client.redirect_uris, uri) => uri,
        other => {
            return pages::persona_error(&persona.redirect_mismatch(client, other.unwrap_or("")))
        }
    };
    let state = params.get("state");
    let iss = response_iss(shared, index);
    let to = |mode| ReplyTo {
        redirect_uri,
        mode,
        state,
        iss: iss.as_deref(),
    };
    let reply = |mode, error: &str, description: &str| {
        refusal_response(Refusal::redirect(error, description), &to(mode), title)
    };
    let mode = match params.get("response_mode") {
        None | Some("query") => ResponseMode::Query,
        Some("fragment") => ResponseMode::Fragment,
        Some("form_post") => ResponseMode::FormPost,
        Some(_) => {
            return reply(
                ResponseMode::Query,
                "invalid_request",
                "The response_mode is not supported.",
            )
        }
    };
    match params.get("response_type") {
        Some("code") => {}
        None => {
            return reply(
                mode,
                "invalid_request",
                "The response_type parameter is missing.",
            )
        }
        Some(_) => {
            return reply(
                mode,
                "unsupported_response_type",
                "The response type is not supported by the authorization server.",
            )
        }
    }
    if params.has_duplicates() {
        return reply(mode, "invalid_request", "A parameter is repeated.");
    }
    let requested: Vec<&str> = params
        .get("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if !requested.contains(&OPENID) {
        return reply(mode, "invalid_scope", "The openid scope is required.");
    }
    let scopes = match persona.check_scopes(server, client, &requested) {
        Ok(scopes) => scopes,
        Err(refusal) => return refusal_response(refusal, &to(mode), title),
    };
    let code_challenge = match pkce::check_request(
        client,
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        Ok(challenge) => challenge,
        Err(description) => return reply(mode, "invalid_request", &description),
    };
    if params
        .get("prompt")
        .is_some_and(|p| p.split(' ').any(|p| p == "none"))
    {
        return reply(mode, "login_required", "The user is not signed in.");
    }
    let kept: BTreeMap<String, String> = KEPT_PARAMS
        .iter()
        .filter_map(|k| params.get(k).map(|v| (k.to_string(), v.to_string())))
        .collect();
    if let Err(refusal) = persona.check_params(&kept) {
        return refusal_response(refusal, &to(mode), title);
    }
    let login = PendingLogin {
        request: AuthRequest {
            client_id: client.client_id.clone(),
            redirect_uri: redirect_uri.to_string(),
            response_mode: mode,
            state: state.map(str::to_string),
            nonce: params.get("nonce").map(str::to_string),
            scopes,
            code_challenge,
            server: index,
            params: kept,
            saml: None,
        },
        session_id: random_token(18),
        tab_id: random_token(8),
        created: now(),
        stage: Stage::Credentials,
    };
    show_login(shared, &realm, login, None)
}

/// Files the login and renders the vendor's sign-in page for its stage.
pub(crate) fn show_login(
    shared: &Shared,
    realm: &Realm,
    login: PendingLogin,
    error: Option<(&str, &str)>,
) -> Response {
    let persona = dialect(realm);
    let form = persona.login_form();
    let client_id = login.request.client_id.clone();
    let tab_id = login.tab_id.clone();
    let stage = login.stage.clone();
    let code = shared
        .store()
        .put_login(login, now(), realm.tokens.access_code_lifespan_login);
    let action = format!(
        "{}?{}",
        persona.login_path(),
        super::login::encode(&[
            ("session_code", &code),
            ("client_id", &client_id),
            ("tab_id", &tab_id),
        ])
    );
    let (username, message) = error.unwrap_or(("", ""));
    let message = Some(message).filter(|m| !m.is_empty());
    let step = match &stage {
        Stage::Identified { login } => Step::Password { login },
        _ if form.identifier_first => Step::Identifier { username },
        _ => Step::Both { username },
    };
    pages::persona_login(&form, &action, step, message)
}

async fn login_handler(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    submit(
        &shared,
        &Params::query(query.as_deref()),
        &Params::parse(&body),
    )
}

fn submit(shared: &Shared, query: &Params, form: &Params) -> Response {
    let realm = shared.realm();
    let persona = dialect(&realm);
    let fields = persona.login_form();
    let expired = || {
        pages::persona_error(&crate::persona::ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: fields.title.clone(),
            message:
                "Your sign-in session has expired. Go back to the application and sign in again."
                    .into(),
        })
    };
    let lifespan = realm.tokens.access_code_lifespan_login;
    let Some(login) = query
        .get("session_code")
        .and_then(|code| shared.store().take_login(code, now(), lifespan))
    else {
        return expired();
    };
    if query.get("client_id") != Some(login.request.client_id.as_str())
        || query.get("tab_id") != Some(login.tab_id.as_str())
    {
        return expired();
    }
    // A SAML login's client is one of the persona's SAML apps; the sign-in page is the same.
    let client = realm.client(&login.request.client_id);
    let saml =
        login.request.saml.is_some() && realm.saml_client(&login.request.client_id).is_some();
    if client.is_none() && !saml {
        return expired();
    }
    let (username, password) = match &login.stage {
        Stage::Identified { login } => (login.clone(), form.get(fields.password_field)),
        Stage::Credentials => (
            form.get(fields.username_field).unwrap_or("").to_string(),
            form.get(fields.password_field),
        ),
        _ => return expired(),
    };
    let Some(password) = password else {
        // The identifier step of an identifier-first page.
        if realm.login_user(&username).is_none() {
            return show_login(
                shared,
                &realm,
                login,
                Some((&username, "Couldn't find your account")),
            );
        }
        let next = PendingLogin {
            stage: Stage::Identified { login: username },
            ..login
        };
        return show_login(shared, &realm, next, None);
    };
    let user = realm
        .login_user(&username)
        .filter(|u| u.password.as_ref().is_some_and(|p| p.expose() == password));
    let Some(user) = user.filter(|u| !saml || u.enabled) else {
        return show_login(
            shared,
            &realm,
            login,
            Some((&username, fields.bad_credentials)),
        );
    };
    if saml {
        return crate::saml::finish(shared, &realm, &login, user);
    }
    let Some(client) = client else {
        return expired();
    };
    if let Err(refusal) = persona.admit(client, user) {
        let request = &login.request;
        let iss = response_iss(shared, request.server);
        let to = ReplyTo {
            redirect_uri: &request.redirect_uri,
            mode: request.response_mode,
            state: request.state.as_deref(),
            iss: iss.as_deref(),
        };
        return refusal_response(refusal, &to, realm.title());
    }
    let user_id = user.id.clone();
    let scopes = login.request.scopes.clone();
    let extra = persona.callback_params(user, &scopes);
    finish(shared, &realm, persona, client, login, &user_id, extra)
}

fn finish(
    shared: &Shared,
    realm: &Realm,
    persona: &dyn Dialect,
    client: &Client,
    login: PendingLogin,
    user_id: &str,
    extra: Vec<(&'static str, String)>,
) -> Response {
    let now = now();
    let request = login.request;
    let session_id = login.session_id;
    let code = persona.code();
    let mut store = shared.store();
    store.start_session(
        NewSession {
            session_id: &session_id,
            user_id,
            auth_time: Some(now),
            client_id: &client.client_id,
            scopes: &request.scopes,
        },
        now,
        &realm.tokens,
    );
    store.issue_code(
        code.clone(),
        request.clone(),
        user_id,
        &session_id,
        now,
        realm.tokens.access_code_lifespan,
    );
    drop(store);
    let mut params = vec![("code", code)];
    if let Some(state) = &request.state {
        params.push(("state", state.clone()));
    }
    params.extend(extra);
    if let Some(iss) = response_iss(shared, request.server) {
        params.push(("iss", iss));
    }
    AuthResponse {
        redirect_uri: &request.redirect_uri,
        mode: request.response_mode,
        params,
    }
    .send(realm.title())
}

fn error_response(status: StatusCode, body: &Value) -> Response {
    json_response(status, body)
}

/// The client's id and secret: HTTP Basic (form-urlencoded parts) or the body.
fn client_credentials(headers: &HeaderMap, form: &Params) -> (Option<String>, Option<String>) {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            let decode = |t: &str| {
                percent_encoding::percent_decode_str(&t.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            Some((decode(id), decode(secret)))
        });
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            form.non_empty("client_id").map(str::to_string),
            form.get("client_secret").map(str::to_string),
        ),
    }
}

fn token(shared: &Shared, index: usize, headers: &HeaderMap, form: &Params) -> Response {
    let realm = shared.realm();
    let persona = dialect(&realm);
    let grant_type = form.non_empty("grant_type");
    let m2m = grant_type == Some("client_credentials") && persona.offers_client_credentials();
    if !m2m && !matches!(grant_type, Some("authorization_code" | "refresh_token")) {
        let (status, body) = persona.unsupported_grant(grant_type.unwrap_or(""));
        return error_response(status, &body);
    }
    let (client_id, secret) = client_credentials(headers, form);
    let client_id = client_id.unwrap_or_default();
    let refuse = |why| {
        let (status, body) = persona.client_refusal(why, &client_id);
        error_response(status, &body)
    };
    let Some(client) = realm.client(&client_id).filter(|c| c.enabled) else {
        return refuse(ClientRefusal::UnknownClient);
    };
    if !client.public_client {
        let checked = secret.map(|s| persona.check_secret(client, &s));
        if m2m && checked != Some(SecretCheck::Valid) {
            if let Some((status, body)) = persona.client_credentials_bad_secret() {
                return error_response(status, &body);
            }
        }
        match checked {
            Some(SecretCheck::Valid) => {}
            Some(SecretCheck::Expired) => return refuse(ClientRefusal::ExpiredSecret),
            _ => return refuse(ClientRefusal::WrongSecret),
        }
    }
    if m2m {
        client_credentials_grant(shared, persona, index, client, form)
    } else if grant_type == Some("authorization_code") {
        code_grant(shared, &realm, persona, client, form)
    } else {
        refresh_grant(shared, &realm, persona, index, client, form)
    }
}

/// The vendor's machine-to-machine token for an authenticated client, or its refusal.
fn client_credentials_grant(
    shared: &Shared,
    persona: &dyn Dialect,
    index: usize,
    client: &Client,
    form: &Params,
) -> Response {
    let server = &shared.servers[index];
    let issuer = persona.token_issuer(server, &shared.servers);
    let request = M2mRequest {
        server,
        issuer: &issuer,
        client,
        scope: form.non_empty("scope"),
        audience: form.non_empty("audience"),
        now: now() + shared.faults.snapshot().clock_skew(),
    };
    match persona.client_credentials(&request) {
        Ok(M2mToken {
            claims,
            id_token,
            mut response,
        }) => {
            let token = tokens::sign_access_token(shared, &claims);
            response.insert("access_token".into(), Value::String(token));
            if let Some(id) = id_token {
                let signed = if persona.id_token_hs256(client) {
                    let secret = client.secret.as_ref().map_or("", |s| s.expose());
                    tokens::sign_hs256(&id, secret)
                } else {
                    tokens::sign_access_token(shared, &id)
                };
                response.insert("id_token".into(), Value::String(signed));
            }
            json_response(StatusCode::OK, &Value::Object(response))
        }
        Err((status, body)) => error_response(status, &body),
    }
}

fn code_grant(
    shared: &Shared,
    realm: &Realm,
    persona: &dyn Dialect,
    client: &Client,
    form: &Params,
) -> Response {
    let refusals = CodeRefusals {
        missing: "The code parameter is missing.",
        invalid: "The authorization code is invalid or has expired.",
        redirect_mismatch: "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
        other_client: "The authorization code was issued to another client.",
        no_user: "The user no longer exists.",
    };
    let RedeemedCode {
        grant,
        user,
        auth_time,
        started,
    } = match redeem_code(shared, realm, client, form, &refusals) {
        Ok(redeemed) => redeemed,
        Err(refusal) => return *refusal,
    };
    let body = tokens::issue_persona(
        shared,
        realm,
        persona,
        &PersonaIssue {
            grant: Grant::AuthorizationCode,
            server: grant.request.server,
            client,
            user,
            session_id: &grant.session_id,
            auth_time,
            session_started: started,
            scopes: &grant.request.scopes,
            nonce: grant.request.nonce.as_deref(),
            params: &grant.request.params,
            presented_refresh: None,
        },
    );
    json_response(StatusCode::OK, &body)
}

fn refresh_grant(
    shared: &Shared,
    realm: &Realm,
    persona: &dyn Dialect,
    index: usize,
    client: &Client,
    form: &Params,
) -> Response {
    let refused = || {
        let (status, body) = persona.refresh_refusal();
        error_response(status, &body)
    };
    let Some(presented) = form.non_empty("refresh_token") else {
        return error_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_request", "error_description": "The refresh_token parameter is missing."}),
        );
    };
    let Some(claims) = shared.refresh_key.verify(presented) else {
        return refused();
    };
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let (Some("Refresh"), Some(azp), Some(session_id), Some(jti), Some(exp)) = (
        text("typ"),
        text("azp"),
        text("sid"),
        text("jti"),
        claims.get("exp").and_then(Value::as_i64),
    ) else {
        return refused();
    };
    let server = claims
        .get("srv")
        .and_then(Value::as_u64)
        .map_or(index, |s| s as usize);
    let now = now();
    if azp != client.client_id || exp - shared.faults.snapshot().clock_skew() <= now {
        return refused();
    }
    let mut store = shared.store();
    let Some(session) = store.session(session_id, now, &realm.tokens) else {
        return refused();
    };
    let (user_id, auth_time, started) =
        (session.user_id.clone(), session.auth_time, session.started);
    let Some(scopes) = session
        .clients
        .get(&client.client_id)
        .map(|c| c.scopes.clone())
    else {
        return refused();
    };
    let Some(user) = realm.user_by_id(&user_id).filter(|u| u.enabled) else {
        return refused();
    };
    // The authorization's parameters travel in the refresh token (Google's `access_type`).
    let params: BTreeMap<String, String> = claims
        .get("prm")
        .and_then(Value::as_object)
        .map(|prm| {
            prm.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let policy = {
        let issuer = persona.token_issuer(&shared.servers[server], &shared.servers);
        persona.refresh(&Ctx {
            server: &shared.servers[server],
            issuer: &issuer,
            client,
            user,
            scopes: &scopes,
            nonce: None,
            now,
            auth_time,
            session_id,
            params: &params,
        })
    };
    let Some(policy) = policy else {
        return refused();
    };
    let checked = store.check_family(
        session_id,
        &client.client_id,
        jti,
        shared.clock(),
        policy.grace_seconds,
        policy.reuse_detection,
    );
    if checked.is_err() {
        // A retired token after the grace period: where the vendor detects reuse, the newest
        // refresh token and every access token of the session stop working too.
        if policy.revoke_family {
            store.detach_client(session_id, &client.client_id);
        }
        return refused();
    }
    store.touch_session(session_id, now);
    drop(store);
    let body = tokens::issue_persona(
        shared,
        realm,
        persona,
        &PersonaIssue {
            grant: Grant::Refresh,
            server,
            client,
            user,
            session_id,
            auth_time,
            session_started: started,
            scopes: &scopes,
            nonce: None,
            params: &params,
            presented_refresh: Some(presented),
        },
    );
    json_response(StatusCode::OK, &body)
}

/// A sign-out request at the `which`-th sign-out endpoint of server `index`.
fn logout(shared: &Shared, index: usize, which: usize, params: &Params) -> Response {
    let realm = shared.realm();
    let persona = dialect(&realm);
    let refuse = |why| pages::persona_error(&persona.logout_refusal(why));
    let style = shared.servers[index].logout[which].style;
    let (client_id, target_param) = match style {
        LogoutStyle::RpInitiated => {
            let named = params.non_empty("client_id");
            let has_target = params.non_empty("post_logout_redirect_uri").is_some();
            let hinted = match params.non_empty("id_token_hint") {
                None if persona.logout_needs_hint(has_target) => {
                    return refuse(LogoutRefusal::MissingHint)
                }
                None => None,
                Some(hint) => match shared.store().id_token(hint) {
                    Some(issued) if named.is_none_or(|n| n == issued.client_id) => {
                        Some(issued.client_id.clone())
                    }
                    _ => return refuse(LogoutRefusal::BadHint),
                },
            };
            (
                hinted.or(named.map(str::to_string)),
                "post_logout_redirect_uri",
            )
        }
        LogoutStyle::ClientNamed { target } => {
            (params.non_empty("client_id").map(str::to_string), target)
        }
    };
    let Some(target) = params.non_empty(target_param) else {
        return pages::persona_error(&persona.signed_out());
    };
    let client_id = client_id.unwrap_or_default();
    let Some(client) = realm.client(&client_id).filter(|c| c.enabled) else {
        return refuse(LogoutRefusal::UnknownClient(&client_id));
    };
    let refused = || {
        refuse(LogoutRefusal::Target {
            client,
            param: target_param,
            uri: target,
        })
    };
    if !redirect::post_logout_matches(client, target) {
        return refused();
    }
    let state = params
        .non_empty("state")
        .filter(|_| style == LogoutStyle::RpInitiated && persona.logout_echoes_state());
    found(&super::logout::with_state(target, state)).unwrap_or_else(refused)
}

fn bearer(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string())
        .filter(|t| !t.is_empty())
        .or_else(|| {
            Params::parse(body)
                .non_empty("access_token")
                .map(str::to_string)
        })
}

fn unauthorized(error: &str, description: &str) -> Response {
    let mut response = error_response(
        StatusCode::UNAUTHORIZED,
        &json!({"error": error, "error_description": description}),
    );
    let challenge = format!("Bearer error=\"{error}\", error_description=\"{description}\"");
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

async fn userinfo_handler(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    userinfo(&shared, &headers, &body)
}

fn userinfo(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    let realm = shared.realm();
    let persona = dialect(&realm);
    let Some(token) = bearer(headers, body) else {
        return unauthorized("invalid_request", "No access token was provided.");
    };
    let now = now();
    let store = shared.store();
    let Some(grant) = store.access_grant(&token, now).cloned() else {
        return unauthorized("invalid_token", "The access token is invalid.");
    };
    let alive = store
        .session(&grant.session_id, now, &realm.tokens)
        .is_some_and(|s| s.clients.contains_key(&grant.client_id));
    drop(store);
    if !alive {
        return unauthorized("invalid_token", "The access token is invalid.");
    }
    let (Some(user), Some(client)) = (
        realm.user_by_id(&grant.user_id).filter(|u| u.enabled),
        realm.client(&grant.client_id),
    ) else {
        return unauthorized("invalid_token", "The access token is invalid.");
    };
    let server = &shared.servers[grant.server];
    let issuer = persona.token_issuer(server, &shared.servers);
    let params = BTreeMap::new();
    let mut claims: Map<String, Value> = persona.userinfo(&Ctx {
        server,
        issuer: &issuer,
        client,
        user,
        scopes: &grant.scopes,
        nonce: None,
        now,
        auth_time: None,
        session_id: &grant.session_id,
        params: &params,
    });
    if shared.faults.snapshot().has(&Fault::UserinfoOtherSub) {
        claims.insert("sub".into(), json!(uuid::Uuid::new_v4().to_string()));
    }
    json_response(StatusCode::OK, &claims)
}
