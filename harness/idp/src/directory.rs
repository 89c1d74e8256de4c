//! Users, groups and a client's PKCE enforcement, changed while the emulator runs: what
//! [`crate::Emulator::add_user`] and its siblings, and the admin API's `/_ssoproof/users`,
//! `/_ssoproof/groups` and `/_ssoproof/clients/{client_id}/pkce`, do — with the rules Keycloak's
//! admin console applies (lower-cased usernames, unique usernames and e-mail addresses, a group
//! only under an existing parent).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use ssoproof_secret::Secret;

use crate::realm::{Group, Realm, User};
use crate::state::Shared;
use crate::IdpError;

/// The client attribute Keycloak keeps the enforced PKCE method in.
const PKCE_ATTRIBUTE: &str = "pkce.code.challenge.method";

/// A user to add to a Keycloak realm ([`crate::Emulator::add_user`]); as JSON, the body of
/// `POST /_ssoproof/users`: `{"username": "zoe", "password": "…", "groups": ["/acme/admins"]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Stored lower-cased, as Keycloak stores it.
    pub username: String,
    #[serde(deserialize_with = "secret")]
    pub password: Secret,
    #[serde(default)]
    pub email: Option<String>,
    /// Keycloak's default for a user an administrator creates: `false`.
    #[serde(default)]
    pub email_verified: bool,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    /// Full group paths (`/acme/admins`); each must exist.
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// For attribute mappers: `{"department": ["research"]}`.
    #[serde(default)]
    pub attributes: BTreeMap<String, Vec<String>>,
}

fn secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
    String::deserialize(deserializer).map(Secret::from)
}

fn enabled() -> bool {
    true
}

impl NewUser {
    /// An enabled user with a password and nothing else.
    pub fn new(username: &str, password: &str) -> NewUser {
        NewUser {
            username: username.to_string(),
            password: Secret::from(password),
            email: None,
            email_verified: false,
            first_name: None,
            last_name: None,
            groups: Vec::new(),
            enabled: true,
            attributes: BTreeMap::new(),
        }
    }
}

/// A persona's users and groups come from its vendor model (ids, statuses, object ids), which
/// a bare realm user would lack.
fn refuse_persona(realm: &Realm, what: &str) -> Result<(), IdpError> {
    match &realm.persona {
        Some(persona) => Err(IdpError::Persona(format!(
            "{what} is for a Keycloak realm; the {} persona's come from its file, with the vendor's ids: add them there",
            persona.vendor().product()
        ))),
        None => Ok(()),
    }
}

/// `/a/b` for `a/b`, `/a/b/` or `/a/b`: how group arguments are written elsewhere too.
fn group_path(group: &str) -> String {
    format!("/{}", group.trim_matches('/'))
}

fn user_mut<'a>(realm: &'a mut Realm, username: &str) -> Result<&'a mut User, IdpError> {
    let wanted = username.to_lowercase();
    realm
        .users
        .iter_mut()
        .find(|u| u.username == wanted)
        .ok_or_else(|| IdpError::UnknownUser(username.to_string()))
}

impl NewUser {
    /// The username as the realm stores it: trimmed and lower-cased, as Keycloak stores it.
    pub fn stored_username(&self) -> String {
        self.username.trim().to_lowercase()
    }
}

impl Shared {
    /// Adds a user; returns its id (the `sub` of its tokens).
    pub(crate) fn add_user(&self, new: &NewUser) -> Result<String, IdpError> {
        let mut realm = self.realm_mut();
        refuse_persona(&realm, "adding a user")?;
        let username = new.stored_username();
        if username.is_empty() {
            return Err(IdpError::InvalidUser("the username is empty".into()));
        }
        if new.password.expose().is_empty() {
            return Err(IdpError::InvalidUser(format!(
                "user \"{username}\" has an empty password"
            )));
        }
        if realm.user(&username).is_some() {
            return Err(IdpError::UserExists(format!("\"{username}\"")));
        }
        let email = new.email.as_ref().map(|e| e.trim().to_lowercase());
        // Keycloak refuses a second user with the same e-mail unless the realm allows duplicates,
        // which it does not by default.
        if let Some(email) = &email {
            if let Some(other) = realm.users.iter().find(|u| u.email.as_ref() == Some(email)) {
                return Err(IdpError::UserExists(format!(
                    "\"{}\" with the e-mail address {email}",
                    other.username
                )));
            }
        }
        let mut groups = Vec::new();
        for group in &new.groups {
            let path = group_path(group);
            if realm.group(&path).is_none() {
                return Err(IdpError::UnknownGroup(group.clone()));
            }
            if !groups.contains(&path) {
                groups.push(path);
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        realm.users.push(User {
            id: id.clone(),
            username,
            enabled: new.enabled,
            email,
            email_verified: new.email_verified,
            first_name: new.first_name.clone(),
            last_name: new.last_name.clone(),
            password: Some(new.password.clone()),
            groups,
            realm_roles: Vec::new(),
            attributes: new.attributes.clone(),
            federated_identities: Vec::new(),
        });
        Ok(id)
    }

    /// Adds a group by its full path; its parent must exist.
    pub(crate) fn add_group(&self, path: &str) -> Result<(), IdpError> {
        let mut realm = self.realm_mut();
        refuse_persona(&realm, "adding a group")?;
        let Some(segments) = path.strip_prefix('/') else {
            return Err(IdpError::InvalidGroup(format!(
                "\"{path}\" is not a full path; write it as /{path}"
            )));
        };
        let names: Vec<&str> = segments.split('/').collect();
        if names.iter().any(|n| n.trim().is_empty()) {
            return Err(IdpError::InvalidGroup(format!(
                "\"{path}\" has an empty group name; write /parent/child"
            )));
        }
        if realm.group(path).is_some() {
            return Err(IdpError::GroupExists(path.to_string()));
        }
        let name = names[names.len() - 1];
        let parent = &path[..path.len() - name.len() - 1];
        if !parent.is_empty() && realm.group(parent).is_none() {
            return Err(IdpError::UnknownGroup(parent.to_string()));
        }
        // Pushed last, the list keeps parents before their subgroups.
        realm.groups.push(Group {
            name: name.to_string(),
            path: path.to_string(),
        });
        Ok(())
    }

    /// Adds a user to a group (a full path for a Keycloak realm, a name for a persona); a
    /// member already stays one.
    pub(crate) fn add_user_to_group(&self, username: &str, group: &str) -> Result<(), IdpError> {
        let mut realm = self.realm_mut();
        let path = group_path(group);
        if realm.group(&path).is_none() {
            return Err(IdpError::UnknownGroup(group.to_string()));
        }
        let user = user_mut(&mut realm, username)?;
        if !user.groups.contains(&path) {
            user.groups.push(path);
        }
        Ok(())
    }

    /// Takes a user out of a group (a full path for a Keycloak realm, a name for a persona);
    /// a user who is not a member is left as is, as Keycloak does.
    pub(crate) fn remove_user_from_group(
        &self,
        username: &str,
        group: &str,
    ) -> Result<(), IdpError> {
        let mut realm = self.realm_mut();
        let path = group_path(group);
        if realm.group(&path).is_none() {
            return Err(IdpError::UnknownGroup(group.to_string()));
        }
        user_mut(&mut realm, username)?
            .groups
            .retain(|g| *g != path);
        Ok(())
    }

    /// Sets the PKCE method a client enforces (`Some("S256")`) or makes PKCE optional (`None`).
    /// `plain` is refused: the emulator refuses the plain method on every client.
    pub(crate) fn set_client_pkce(
        &self,
        client_id: &str,
        method: Option<&str>,
    ) -> Result<(), IdpError> {
        if let Some(method) = method.filter(|m| *m != "S256") {
            return Err(IdpError::PkceMethod(method.to_string()));
        }
        let mut realm = self.realm_mut();
        let client = realm
            .clients
            .iter_mut()
            .find(|c| c.client_id == client_id)
            .ok_or_else(|| IdpError::UnknownClient(client_id.to_string()))?;
        match method {
            Some(method) => {
                client
                    .attributes
                    .insert(PKCE_ATTRIBUTE.into(), method.to_string());
            }
            None => {
                client.attributes.remove(PKCE_ATTRIBUTE);
            }
        }
        Ok(())
    }
}
