//! The vendor personas under `fixtures/idp/`, each with the feature that runs against it.
//!
//! A feature asks for a persona with a feature-level tag: `@persona:okta` runs every scenario of
//! the feature against `fixtures/idp/okta.yaml`. The persona's name is the file's stem, and its
//! feature is `features/<name>.feature`. A persona whose vendor is brokered through Keycloak has
//! a realm export `fixtures/keycloak-<vendor>-broker.json`: its scenarios get that Keycloak
//! realm, brokering to the persona (Google Workspace through Keycloak).

use std::path::{Path, PathBuf};

use ssoproof_idp::persona::{vendor_of, Vendor};

/// The scenario tag prefix that names a persona: `@persona:<name>`.
pub const PERSONA_TAG: &str = "persona:";

/// The folder of persona files, relative to the project root.
pub const PERSONA_DIR: &str = "fixtures/idp";

/// One persona fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonaFixture {
    /// The file's stem, e.g. `okta`: what `@persona:okta` names.
    pub name: String,
    /// The file's `vendor:`; `None` when the file cannot be read (starting it then reports why).
    pub vendor: Option<Vendor>,
    /// The persona file.
    pub file: PathBuf,
    /// The Keycloak realm export that brokers this persona, when there is one.
    pub broker_realm: Option<PathBuf>,
    /// The feature whose scenarios run against it (which may not exist yet).
    pub feature: PathBuf,
}

/// The persona fixtures under `<root>/fixtures/idp/`, sorted by name.
pub fn persona_fixtures(root: &Path) -> Vec<PersonaFixture> {
    let dir = root.join(PERSONA_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|file| {
            let name = file.file_stem()?.to_string_lossy().into_owned();
            let vendor = vendor_of(&file).ok();
            let broker_realm = vendor
                .map(|v| root.join(format!("fixtures/keycloak-{}-broker.json", v.as_str())))
                .filter(|p| p.is_file());
            Some(PersonaFixture {
                feature: root.join("features").join(format!("{name}.feature")),
                name,
                vendor,
                file,
                broker_realm,
            })
        })
        .collect()
}

/// The persona a scenario's tags (inherited ones included) ask for.
pub fn persona_of(tags: &[String]) -> Option<&str> {
    tags.iter().find_map(|t| t.strip_prefix(PERSONA_TAG))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_fixtures_are_listed_with_their_features() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .unwrap();
        let personas = persona_fixtures(root);
        let names: Vec<&str> = personas.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "auth0",
                "authentik",
                "cognito",
                "entra-id",
                "google-workspace",
                "okta"
            ]
        );
        for persona in &personas {
            assert!(persona.vendor.is_some(), "{}", persona.name);
            assert!(persona.feature.is_file(), "{}", persona.feature.display());
        }
        let google = personas
            .iter()
            .find(|p| p.name == "google-workspace")
            .unwrap();
        assert!(google
            .broker_realm
            .as_ref()
            .is_some_and(|p| p.ends_with("fixtures/keycloak-google-broker.json")));
        assert!(personas
            .iter()
            .filter(|p| p.name != "google-workspace")
            .all(|p| p.broker_realm.is_none()));
    }

    #[test]
    fn persona_tags() {
        let tags = vec!["okta-feature".to_string(), "persona:okta".to_string()];
        assert_eq!(persona_of(&tags), Some("okta"));
        assert_eq!(persona_of(&["emulator".to_string()]), None);
    }
}
