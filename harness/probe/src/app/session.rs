//! One browser session through the application under test: its login URL, the IdP's login form,
//! the callback, and the whoami URL, each a named hop whose failure says where the walk broke.

use std::time::Duration;

use ssoproof_rp::{Browser, Walk};
use ssoproof_secret::Secret;
use url::Url;

use crate::outcome::Observed;

/// The hops of a login through an application, as messages and reports name them.
pub const HOP_LOGIN: &str = "app login URL";
pub const HOP_IDP: &str = "IdP";
pub const HOP_CALLBACK: &str = "callback";
pub const HOP_WHOAMI: &str = "whoami";

/// How the whoami URL says that someone is signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedIn {
    /// A 2xx JSON answer holding a value at this JSON pointer (RFC 6901), e.g. `/role`; the
    /// value is the identity the report shows.
    Pointer(String),
    /// This status code.
    Status(u16),
}

/// The authorization request the application sent the browser to, as the IdP received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    pub url: Url,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

impl AuthRequest {
    pub fn from_url(url: &Url) -> AuthRequest {
        let get = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        AuthRequest {
            url: url.clone(),
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            scope: get("scope"),
            state: get("state"),
            nonce: get("nonce"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
        }
    }
}

/// A hop that failed: which, and why (never carrying a password, code or token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopError {
    pub hop: &'static str,
    pub message: String,
}

impl HopError {
    pub fn observed(self) -> Observed {
        Observed::Error {
            hop: self.hop.to_string(),
            message: self.message,
        }
    }
}

/// What a probe needs to reach the application and the IdP.
#[derive(Debug, Clone)]
pub struct Target {
    pub login_url: Url,
    pub whoami_url: Url,
    pub signed_in: SignedIn,
    /// The IdP's origin (`scheme://host:port`): the first redirect to it is the authorization
    /// request.
    pub idp_origin: url::Origin,
    /// Every request's limit.
    pub timeout: Duration,
}

/// A fresh browser (empty cookie jar) at the application.
pub struct Session<'a> {
    target: &'a Target,
    browser: Browser,
}

/// `scheme://host:port/path` only: query strings carry states, codes and tokens.
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    let _ = url.set_password(None);
    url.to_string()
}

impl<'a> Session<'a> {
    pub fn new(target: &'a Target) -> Result<Session<'a>, HopError> {
        let browser = Browser::new(target.timeout, &[]).map_err(|message| HopError {
            hop: HOP_LOGIN,
            message,
        })?;
        Ok(Session { target, browser })
    }

    /// Opens the login URL and follows the application's redirects up to the IdP, whose
    /// authorization request is returned unvisited.
    pub async fn start(&self) -> Result<AuthRequest, HopError> {
        let idp = &self.target.idp_origin;
        let walk = self
            .browser
            .follow(&self.target.login_url, |next| next.origin() != *idp)
            .await
            .map_err(|e| HopError {
                hop: HOP_LOGIN,
                message: e.to_string(),
            })?;
        match walk.stopped_at {
            Some(auth) => Ok(AuthRequest::from_url(&auth)),
            None => Err(HopError {
                hop: HOP_LOGIN,
                message: format!(
                    "the login URL never reached the IdP at {} (ended at {} with status {}); \
                     check --login-url and that the application is configured with this IdP's \
                     issuer",
                    idp.ascii_serialization(),
                    shown(&walk.url),
                    walk.status
                ),
            }),
        }
    }

    /// Signs `username` in at the IdP and returns the redirect to the application's callback,
    /// unvisited, for the caller to deliver as it is or tampered with.
    pub async fn sign_in(
        &self,
        auth: &AuthRequest,
        username: &str,
        password: &Secret,
    ) -> Result<Url, HopError> {
        let redirect_uri = auth.redirect_uri.as_deref().ok_or_else(|| HopError {
            hop: HOP_LOGIN,
            message: format!(
                "the application's authorization request to {} has no redirect_uri",
                shown(&auth.url)
            ),
        })?;
        self.browser
            .sign_in(&auth.url, redirect_uri, username, password, &[password])
            .await
            .map_err(|e| HopError {
                hop: HOP_IDP,
                message: format!("signing in as {username}: {e}"),
            })
    }

    /// Signs `username` in at the IdP's SAML SSO URL `auth` and returns the form the IdP posts
    /// to `acs` (its fields: `SAMLResponse`, `RelayState`), unposted.
    pub async fn sign_in_posting(
        &self,
        auth: &Url,
        acs: &str,
        username: &str,
        password: &Secret,
    ) -> Result<Vec<(String, String)>, HopError> {
        self.browser
            .sign_in_posting(auth, acs, username, password, &[password])
            .await
            .map_err(|e| HopError {
                hop: HOP_IDP,
                message: format!("signing in as {username}: {e}"),
            })
    }

    /// Posts `fields` to the application's ACS URL, following its redirects while they stay
    /// on the application.
    pub async fn post_to_app(
        &self,
        acs: &Url,
        fields: &[(String, String)],
    ) -> Result<Walk, HopError> {
        let app = acs.origin();
        self.browser
            .post(acs, fields, |next| next.origin() == app)
            .await
            .map_err(|e| HopError {
                hop: HOP_CALLBACK,
                message: e.to_string(),
            })
    }

    /// Delivers `callback` to the application, following its redirects while they stay on the
    /// application (a redirect to the IdP, a new login, is where the walk stops).
    pub async fn deliver(&self, callback: &Url) -> Result<Walk, HopError> {
        let app = callback.origin();
        self.browser
            .follow(callback, |next| next.origin() == app)
            .await
            .map_err(|e| HopError {
                hop: HOP_CALLBACK,
                message: e.to_string(),
            })
    }

    /// Asks the whoami URL who is signed in, in this session.
    pub async fn whoami(&self) -> Result<Whoami, HopError> {
        let walk = self
            .browser
            .follow(&self.target.whoami_url, |_| false)
            .await
            .map_err(|e| HopError {
                hop: HOP_WHOAMI,
                message: e.to_string(),
            })?;
        classify(&self.target.signed_in, &walk, &self.target.whoami_url)
    }

    /// The whole login: start, sign in, deliver, whoami.
    pub async fn login(&self, username: &str, password: &Secret) -> Result<Login, HopError> {
        let auth = self.start().await?;
        let callback = self.sign_in(&auth, username, password).await?;
        // The IdP refused the authorization (a scope, the client, the user's assignment): the
        // application was never given a login to accept or refuse.
        let param = |name: &str| {
            callback
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if let Some(error) = param("error") {
            return Err(HopError {
                hop: HOP_IDP,
                message: format!(
                    "signing in as {username}: the IdP redirected back with error={error}{}",
                    param("error_description")
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default()
                ),
            });
        }
        let delivered = self.deliver(&callback).await?;
        let whoami = self.whoami().await?;
        Ok(Login {
            auth,
            callback,
            callback_status: delivered.status,
            whoami,
        })
    }
}

/// A whole login's record.
#[derive(Debug)]
pub struct Login {
    pub auth: AuthRequest,
    /// The callback URL as the IdP sent it (already delivered).
    pub callback: Url,
    /// The status the application's callback walk ended with.
    pub callback_status: u16,
    pub whoami: Whoami,
}

/// What the whoami URL said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whoami {
    /// Signed in; the identity (the value at the pointer) when configured.
    SignedIn {
        status: u16,
        identity: Option<String>,
    },
    /// Not signed in: 401, 403, a redirect (to a login page), or a 2xx without the pointer.
    SignedOut { status: u16, detail: String },
}

impl Whoami {
    /// The observation of a case that ended with this answer; `how` says what the case did.
    pub fn observed(&self, how: &str) -> Observed {
        match self {
            Whoami::SignedIn { status, identity } => Observed::Accepted {
                status: Some(*status),
                identity: identity.clone(),
                detail: format!("{how}; signed in"),
            },
            Whoami::SignedOut { status, detail } => Observed::Refused {
                status: Some(*status),
                detail: format!("{how}; {detail}"),
            },
        }
    }
}

fn classify(signed_in: &SignedIn, walk: &Walk, url: &Url) -> Result<Whoami, HopError> {
    let status = walk.status;
    if let Some(to) = &walk.stopped_at {
        return Ok(Whoami::SignedOut {
            status,
            detail: format!("whoami: not signed in (redirected to {})", shown(to)),
        });
    }
    let unexpected = |what: String| HopError {
        hop: HOP_WHOAMI,
        message: format!(
            "GET {} answered {what}, neither signed in nor signed out (401, 403 or a redirect); \
             check --whoami-url{}",
            shown(url),
            match signed_in {
                SignedIn::Pointer(_) => " and --role-pointer",
                SignedIn::Status(_) => " and --signed-in-status",
            }
        ),
    };
    if matches!(status, 401 | 403) {
        return Ok(Whoami::SignedOut {
            status,
            detail: "whoami: not signed in".into(),
        });
    }
    match signed_in {
        SignedIn::Status(wanted) if status == *wanted => Ok(Whoami::SignedIn {
            status,
            identity: None,
        }),
        SignedIn::Status(_) => Err(unexpected(format!("status {status}"))),
        SignedIn::Pointer(pointer) => {
            if !(200..300).contains(&status) {
                return Err(unexpected(format!("status {status}")));
            }
            let json: serde_json::Value = serde_json::from_str(&walk.body).map_err(|_| {
                unexpected(format!(
                    "{status} with a body that is not JSON (content type `{}`)",
                    walk.content_type
                ))
            })?;
            match json.pointer(pointer) {
                None | Some(serde_json::Value::Null) => Ok(Whoami::SignedOut {
                    status,
                    detail: format!("whoami: not signed in (no {pointer})"),
                }),
                Some(serde_json::Value::String(s)) => Ok(Whoami::SignedIn {
                    status,
                    identity: Some(s.clone()),
                }),
                Some(other) => Ok(Whoami::SignedIn {
                    status,
                    identity: Some(other.to_string()),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(status: u16, body: &str, stopped: Option<&str>) -> Walk {
        Walk {
            url: Url::parse("http://127.0.0.1:3000/whoami").unwrap(),
            status,
            stopped_at: stopped.map(|s| Url::parse(s).unwrap()),
            body: body.into(),
            content_type: "application/json".into(),
        }
    }

    #[test]
    fn whoami_answers_are_classified() {
        let url = Url::parse("http://127.0.0.1:3000/whoami").unwrap();
        let role = SignedIn::Pointer("/role".into());
        let c = |s: &SignedIn, w: Walk| classify(s, &w, &url);
        assert_eq!(
            c(&role, walk(200, r#"{"role":"admin"}"#, None)).unwrap(),
            Whoami::SignedIn {
                status: 200,
                identity: Some("admin".into())
            }
        );
        assert!(matches!(
            c(&role, walk(200, r#"{"role":null}"#, None)).unwrap(),
            Whoami::SignedOut { .. }
        ));
        assert!(matches!(
            c(&role, walk(401, "", None)).unwrap(),
            Whoami::SignedOut { status: 401, .. }
        ));
        let redirected = c(
            &role,
            walk(302, "", Some("http://127.0.0.1:3000/login?x=1")),
        )
        .unwrap();
        let Whoami::SignedOut { detail, .. } = redirected else {
            panic!()
        };
        assert!(!detail.contains("x=1"), "{detail}");
        let err = c(&role, walk(200, "<html>", None)).unwrap_err();
        assert_eq!(err.hop, HOP_WHOAMI);
        assert!(err.message.contains("--role-pointer"), "{}", err.message);
        assert!(c(&role, walk(500, "", None)).is_err());
        let status = SignedIn::Status(202);
        assert!(matches!(
            c(&status, walk(202, "", None)).unwrap(),
            Whoami::SignedIn { .. }
        ));
        assert!(c(&status, walk(200, "", None)).is_err());
    }
}
