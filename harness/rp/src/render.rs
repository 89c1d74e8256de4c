//! What `ssoproof login` prints, and the parsing of its role arguments. Tokens appear only when
//! asked for (`show_tokens`); error messages never carry them.

use serde::Serialize;
use serde_json::{Map, Value};

use super::saml::SamlLogin;
use super::{Role, RpError, Session};

/// `GROUP=ROLE`, split at the last `=` (a group name may hold one; a role name never does).
/// The role is a name still to be found on the application's ladder ([`RoleLadder::role`]).
///
/// [`RoleLadder::role`]: crate::RoleLadder::role
pub fn parse_role_mapping(text: &str) -> Result<(String, String), String> {
    let Some((group, role)) = text.rsplit_once('=') else {
        return Err(format!(
            "`{text}` is not GROUP=ROLE (e.g. /acme/admins=admin)"
        ));
    };
    if group.is_empty() {
        return Err(format!("`{text}` names no group before `=`"));
    }
    Ok((group.to_string(), role.to_string()))
}

/// Scopes from repeated and/or space-separated arguments; `openid email profile` when none
/// are given, and `openid` added first when missing (there is no ID token without it).
pub fn scopes_from_args(args: &[String]) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in args.iter().flat_map(|a| a.split_whitespace()) {
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    if scopes.is_empty() {
        return ["openid", "email", "profile"].map(String::from).to_vec();
    }
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".to_string());
    }
    scopes
}

#[derive(Serialize)]
struct Tokens<'a> {
    id_token: &'a str,
    access_token: &'a str,
    refresh_token: Option<&'a str>,
}

/// Field order is the output order: `outcome` first.
#[derive(Serialize)]
struct Success<'a> {
    outcome: &'static str,
    sub: &'a str,
    email: Option<&'a str>,
    groups: &'a [String],
    role: &'a Role,
    claims: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens: Option<Tokens<'a>>,
}

#[derive(Serialize)]
struct Rejection {
    outcome: &'static str,
    error: &'static str,
    message: String,
}

fn pretty(value: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("plain data always serializes");
    text.push('\n');
    text
}

/// `{"outcome": "ok", "sub", "email", "groups", "role", "claims"}`, plus `tokens` on request;
/// pretty-printed, newline-terminated.
pub fn success_json(session: &Session, show_tokens: bool) -> String {
    let o = &session.outcome;
    pretty(&Success {
        outcome: "ok",
        sub: &o.sub,
        email: o.email.as_deref(),
        groups: &o.groups,
        role: &o.role,
        claims: &o.claims,
        tokens: show_tokens.then(|| Tokens {
            id_token: session.id_token().expose(),
            access_token: session.access_token().expose(),
            refresh_token: session.refresh_token().map(|t| t.expose()),
        }),
    })
}

/// `{"outcome": "ok", "name_id", "name_id_format", "email", "groups", "role", "session_index",
/// "attributes", "assertion_signed", "response_signed"}`, pretty-printed, newline-terminated.
/// A SAML login holds no token to print: the Response was a one-time bearer credential, checked
/// against replay and then dropped.
pub fn saml_success_json(login: &SamlLogin) -> String {
    #[derive(Serialize)]
    struct Ok<'a> {
        outcome: &'static str,
        #[serde(flatten)]
        login: &'a SamlLogin,
    }
    pretty(&Ok {
        outcome: "ok",
        login,
    })
}

/// A short readable summary of a successful SAML login.
pub fn saml_success_human(login: &SamlLogin) -> String {
    let groups = if login.groups.is_empty() {
        "(none)".to_string()
    } else {
        login.groups.join(", ")
    };
    let format = login
        .name_id_format
        .as_deref()
        .and_then(|f| f.rsplit(':').next())
        .unwrap_or("no format");
    format!(
        "ok: signed in over SAML as {} ({format})\n  role:   {}\n  groups: {groups}\n",
        login.name_id, login.role
    )
}

/// `{"outcome": "rejected", "error": CODE, "message"}`, pretty-printed, newline-terminated.
pub fn rejection_json(error: &RpError) -> String {
    pretty(&Rejection {
        outcome: "rejected",
        error: error.code(),
        message: error.to_string(),
    })
}

/// A short readable summary of a successful login.
pub fn success_human(session: &Session, show_tokens: bool) -> String {
    let o = &session.outcome;
    let who = match &o.email {
        Some(email) => format!("{email} (sub {})", o.sub),
        None => format!("sub {}", o.sub),
    };
    let groups = if o.groups.is_empty() {
        "(none)".to_string()
    } else {
        o.groups.join(", ")
    };
    let mut text = format!(
        "ok: signed in as {who}\n  role:   {}\n  groups: {groups}\n",
        o.role
    );
    if show_tokens {
        text.push_str(&format!(
            "  id_token:      {}\n",
            session.id_token().expose()
        ));
        text.push_str(&format!(
            "  access_token:  {}\n",
            session.access_token().expose()
        ));
        if let Some(refresh) = session.refresh_token() {
            text.push_str(&format!("  refresh_token: {}\n", refresh.expose()));
        }
    }
    text
}

/// `rejected [code]: message`, then the code's one-line meaning.
pub fn rejection_human(error: &RpError) -> String {
    // The `saml/…` codes' meanings are in the README's SAML table, not in ERROR_CODES.
    match error.meaning() {
        "" => format!("rejected [{}]: {error}\n", error.code()),
        meaning => format!("rejected [{}]: {error}\n  ({meaning})\n", error.code()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_mappings_parse_at_the_last_equals_sign() {
        assert_eq!(
            parse_role_mapping("/acme/admins=admin").unwrap(),
            ("/acme/admins".to_string(), "admin".to_string())
        );
        assert_eq!(
            parse_role_mapping("a=b=viewer").unwrap(),
            ("a=b".to_string(), "viewer".to_string())
        );
        assert!(parse_role_mapping("admins")
            .unwrap_err()
            .contains("GROUP=ROLE"));
        assert!(parse_role_mapping("=admin").is_err());
        // Whether `owner` is a role is the ladder's to say.
        assert_eq!(
            parse_role_mapping("g=owner").unwrap(),
            ("g".to_string(), "owner".to_string())
        );
    }

    #[test]
    fn scopes_default_split_and_gain_openid() {
        assert_eq!(scopes_from_args(&[]), ["openid", "email", "profile"]);
        assert_eq!(
            scopes_from_args(&["openid groups".into(), "offline_access".into()]),
            ["openid", "groups", "offline_access"]
        );
        assert_eq!(scopes_from_args(&["email".into()]), ["openid", "email"]);
    }

    #[test]
    fn rejection_renders_code_and_message() {
        let err = RpError::GroupsUnmapped {
            groups: vec!["/acme/contractors".into()],
        };
        let text = rejection_json(&err);
        assert!(
            text.starts_with("{\n  \"outcome\": \"rejected\",\n  \"error\": \"groups_unmapped\""),
            "{text}"
        );
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["outcome"], "rejected");
        assert_eq!(json["error"], "groups_unmapped");
        assert!(json["message"]
            .as_str()
            .unwrap()
            .contains("/acme/contractors"));
        assert!(rejection_human(&err).starts_with("rejected [groups_unmapped]: none of"));
    }
}
