//! The realm and vendor personas this repository's own features run against, compiled in, so
//! that another project's integration tests can start an emulated Keycloak or Okta in one line:
//!
//! ```no_run
//! # async fn demo() -> Result<(), ssoproof_idp::IdpError> {
//! use ssoproof_idp::{Emulator, Vendor};
//!
//! let keycloak = Emulator::keycloak().await?; // realm "acme", client "acme-app"
//! let okta = Emulator::persona(Vendor::Okta).await?;
//! println!("{} {}", keycloak.issuer(), okta.issuer());
//! # Ok(()) }
//! ```
//!
//! The files are the repository's `fixtures/keycloak-realm.json` and `fixtures/idp/*.yaml`
//! (this crate's `builtin/` links to them, so the crate and the features cannot drift apart).
//! Every user's password is `<first name in lower case>-password`; client secrets and users are
//! listed by [`Emulator::usernames`], [`Emulator::client_ids`] and [`Emulator::client_secret`].
//! For a realm of your own, use [`Realm::from_keycloak_export`] and [`Emulator::start`].

use std::path::Path;

use crate::{Emulator, IdpError, IdpOptions, Realm, Vendor};

const KEYCLOAK_REALM: &str = include_str!("../builtin/keycloak-realm.json");

/// Each vendor's persona file, by the name it has under `fixtures/idp/`.
fn persona_file(vendor: Vendor) -> (&'static str, &'static str) {
    match vendor {
        Vendor::Okta => ("okta.yaml", include_str!("../builtin/okta.yaml")),
        Vendor::Auth0 => ("auth0.yaml", include_str!("../builtin/auth0.yaml")),
        Vendor::Entra => ("entra-id.yaml", include_str!("../builtin/entra-id.yaml")),
        Vendor::Google => (
            "google-workspace.yaml",
            include_str!("../builtin/google-workspace.yaml"),
        ),
        Vendor::Cognito => ("cognito.yaml", include_str!("../builtin/cognito.yaml")),
        Vendor::Authentik => ("authentik.yaml", include_str!("../builtin/authentik.yaml")),
    }
}

impl Realm {
    /// The built-in Keycloak realm `acme` (users alice, bob, carol, dave, erin; confidential
    /// client `acme-app`, public client `acme-spa`, `acme-consent` with consent required,
    /// `api-gateway` whose access tokens name the API audience `https://api.example.com`).
    pub fn builtin_keycloak() -> Realm {
        // Compiled-in data, checked by this module's tests: failing here is a build defect.
        Realm::from_keycloak_json(KEYCLOAK_REALM, Path::new("builtin/keycloak-realm.json"))
            .unwrap_or_else(|e| panic!("the built-in Keycloak realm is invalid: {e}"))
    }

    /// The built-in persona of `vendor`, as the repository's features use it.
    pub fn builtin_persona(vendor: Vendor) -> Realm {
        let (name, text) = persona_file(vendor);
        Realm::from_persona_yaml(text, &Path::new("builtin").join(name))
            .unwrap_or_else(|e| panic!("the built-in {vendor} persona is invalid: {e}"))
    }
}

impl Emulator {
    /// An emulated Keycloak 26 serving [`Realm::builtin_keycloak`] on an ephemeral loopback port.
    pub async fn keycloak() -> Result<Emulator, IdpError> {
        Emulator::start(Realm::builtin_keycloak(), IdpOptions::default()).await
    }

    /// An emulated vendor IdP serving [`Realm::builtin_persona`] on an ephemeral loopback port.
    pub async fn persona(vendor: Vendor) -> Result<Emulator, IdpError> {
        Emulator::start(Realm::builtin_persona(vendor), IdpOptions::default()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_without_warnings() {
        assert!(Realm::builtin_keycloak().warnings.is_empty());
        for vendor in Vendor::ALL {
            let realm = Realm::builtin_persona(vendor);
            assert!(realm.warnings.is_empty(), "{vendor}: {:?}", realm.warnings);
        }
    }

    #[tokio::test]
    async fn one_line_starts_answer_discovery_at_their_issuers() {
        let keycloak = Emulator::keycloak().await.unwrap();
        assert!(keycloak.issuer().ends_with("/realms/acme"));
        let okta = Emulator::persona(Vendor::Okta).await.unwrap();
        for issuer in [keycloak.issuer(), okta.issuer()] {
            let doc: serde_json::Value =
                reqwest::get(format!("{issuer}/.well-known/openid-configuration"))
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
            assert_eq!(doc["issuer"], issuer.as_str());
        }
    }
}
