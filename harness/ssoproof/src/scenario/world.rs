//! The state one scenario carries from step to step.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::clouds::Clouds;
use super::steps::app::AppUnderTest;
use crate::backend::{Backend, Idp};
use ssoproof_rp::{ClientConfig, LoginOutcome, RelyingParty, RpError, Session};
use ssoproof_secret::Secret;

/// What a raw HTTP exchange with the IdP showed (for steps that act as a misbehaving client).
#[derive(Debug, Clone)]
pub struct Observed {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

#[derive(cucumber::World)]
#[world(init = Self::empty)]
pub struct RunbookWorld {
    /// The project root: fixtures are read from under it.
    pub root: PathBuf,
    pub backend: Option<Arc<dyn Backend>>,
    pub idp: Option<Arc<dyn Idp>>,
    /// The persona the feature asked for (`@persona:<name>`), if any.
    pub persona: Option<String>,
    /// The application's configuration, as the runbook's "Application-side configuration".
    pub app: Option<ClientConfig>,
    pub rp: Option<RelyingParty>,
    pub login: Option<Result<LoginOutcome, RpError>>,
    /// The outcome of the sign-in before the last one, when it succeeded.
    pub previous_login: Option<LoginOutcome>,
    pub session: Option<Session>,
    pub previous_refresh_token: Option<Secret>,
    pub rotated_kid: Option<String>,
    pub observed: Option<Observed>,
    pub clouds: Clouds,
    /// The team's own application, when the scenario started one.
    pub app_under_test: Option<AppUnderTest>,
    /// What the last sign-in through the application under test ended with.
    /// The SAML service provider's configuration (`login --saml`), once a step sets it up.
    pub saml_sp: Option<ssoproof_rp::saml::SpConfig>,
    /// The last SAML login's outcome.
    pub saml_login: Option<Result<ssoproof_rp::saml::SamlLogin, RpError>>,
    pub app_login: Option<
        Result<ssoproof_probe::app::session::Whoami, ssoproof_probe::app::session::HopError>,
    >,
}

impl RunbookWorld {
    fn empty() -> RunbookWorld {
        RunbookWorld {
            root: PathBuf::new(),
            backend: None,
            idp: None,
            persona: None,
            app: None,
            rp: None,
            login: None,
            previous_login: None,
            session: None,
            previous_refresh_token: None,
            rotated_kid: None,
            observed: None,
            clouds: Clouds::default(),
            app_under_test: None,
            saml_sp: None,
            saml_login: None,
            app_login: None,
        }
    }

    pub fn idp(&self) -> &Arc<dyn Idp> {
        self.idp
            .as_ref()
            .expect("the scenario's IdP is started by the before hook")
    }

    /// The application's configuration, created from the IdP's client on first use.
    pub fn app(&mut self) -> &mut ClientConfig {
        if self.app.is_none() {
            let idp = self.idp().clone();
            let client = idp.client();
            let mut config = ClientConfig::new(idp.issuer(), client.client_id, client.redirect_uri);
            config.client_secret = client.secret;
            config.trusted_ca_pem = idp.trusted_ca_pem();
            config.groups_claim = "groups".into();
            config.role_mappings = vec![
                (
                    "/acme/admins".into(),
                    config.roles.role("admin").expect("a default role"),
                ),
                (
                    "/acme/engineers".into(),
                    config.roles.role("user").expect("a default role"),
                ),
            ];
            self.app = Some(config);
        }
        self.app.as_mut().expect("just set")
    }

    /// The outcome of the last sign-in, failing the step when there was none.
    pub fn last_login(&self) -> &Result<LoginOutcome, RpError> {
        self.login.as_ref().expect("a previous step signs in")
    }
}

impl fmt::Debug for RunbookWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunbookWorld")
            .field("backend", &self.backend.as_ref().map(|b| b.name()))
            .field("issuer", &self.idp.as_ref().map(|i| i.issuer()))
            .field(
                "login",
                &self
                    .login
                    .as_ref()
                    .map(|l| l.as_ref().map(|o| &o.role).map_err(|e| e.code())),
            )
            .finish_non_exhaustive()
    }
}
