//! The doctor's profile: which IdP to sign in to and as whom, which cloud legs to run, and which
//! runbooks to quote. Strict YAML: unknown keys and wrong types are errors with the file, line
//! and key. Secrets are never in the file: it names the environment variables that hold them.
//!
//! ```yaml
//! idp:
//!   issuer: https://sso.example.com/realms/acme
//!   client_id: acme-app
//!   client_secret_env: ACME_OIDC_CLIENT_SECRET   # optional: a public client has none
//!   redirect_uri: https://app.example.com/auth/callback
//!   username: alice
//!   password_env: ALICE_PASSWORD                 # optional once token_store holds a token
//!   groups_claim: groups                         # default groups
//!   roles: [admin, user, viewer]                 # highest first; default [admin, user, viewer]
//!   role_mappings: {/acme/admins: admin, /acme/engineers: user}   # roles of `roles`
//!   default_role: viewer                         # optional; absent = fail closed
//!   scopes: [openid, email, profile]             # default
//!   ca_file: ca.pem                              # optional: a private CA to trust
//!   token_store: alice.refresh                   # optional: refresh silently from it
//!   timeout_seconds: 10                          # default 10
//! aws:                                           # optional leg
//!   sts_endpoint: https://sts.amazonaws.com
//!   region: us-east-1
//!   role_arn: arn:aws:iam::123456789012:role/BedrockUser
//!   session_name: "{email}"                      # {email}, {sub}, {username}; default {email}
//!   duration_seconds: 900                        # optional; STS default 3600
//!   bedrock_endpoint: https://bedrock-runtime.us-east-1.amazonaws.com
//!   model: anthropic.claude-3-5-sonnet-20240620-v1:0
//! gcp:                                           # optional leg
//!   sts_endpoint: https://sts.googleapis.com/v1/token
//!   audience: //iam.googleapis.com/locations/global/workforcePools/POOL/providers/PROVIDER
//!   project: acme-ai                             # the workforce pool user project
//!   quota_project: acme-ai                       # default: project
//!   vertex_endpoint: https://us-central1-aiplatform.googleapis.com
//!   location: us-central1
//!   model: gemini-2.0-flash-001                  # claude-* models go through rawPredict
//! runbooks: [runbooks/aws-bedrock.md]            # troubleshooting rows to quote
//! ```
//!
//! Relative paths (`ca_file`, `token_store`, `runbooks`) are relative to the profile's folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use ssoproof_config::yaml::Step;
use ssoproof_config::{from_yaml, read_text, ConfigError};
use ssoproof_rp::{ClientConfig, FileTokenStore, RoleLadder, TokenStore};
use ssoproof_secret::Secret;

/// A loaded profile, secrets resolved from the environment.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The profile file, as given.
    pub path: PathBuf,
    pub idp: IdpProfile,
    pub aws: Option<AwsProfile>,
    pub gcp: Option<GcpProfile>,
    /// Runbooks whose troubleshooting rows the report quotes, resolved.
    pub runbooks: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct IdpProfile {
    /// The relying party's configuration, secret and trusted CA included.
    pub client: ClientConfig,
    pub username: String,
    pub sign_in: SignIn,
}

/// How the doctor gets a session.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// Through the login form; the refresh token is then saved to `save_to`, when given, so
    /// the next run refreshes silently.
    Password {
        password: Secret,
        save_to: Option<PathBuf>,
    },
    /// Silently, from the refresh token this file holds.
    Stored(PathBuf),
}

#[derive(Debug, Clone)]
pub struct AwsProfile {
    pub sts_endpoint: String,
    pub region: String,
    pub role_arn: String,
    /// With `{email}`, `{sub}` and `{username}` to fill in.
    pub session_name: String,
    pub duration_seconds: Option<u32>,
    pub bedrock_endpoint: String,
    pub model: String,
}

#[derive(Debug, Clone)]
pub struct GcpProfile {
    pub sts_endpoint: String,
    pub audience: String,
    pub project: String,
    pub quota_project: String,
    pub vertex_endpoint: String,
    pub location: String,
    pub model: String,
    /// The private CA of `idp.ca_file`, trusted for Google's endpoints too (a lab).
    pub trusted_roots: Vec<reqwest::Certificate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    idp: RawIdp,
    #[serde(default)]
    aws: Option<RawAws>,
    #[serde(default)]
    gcp: Option<RawGcp>,
    #[serde(default)]
    runbooks: Vec<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdp {
    issuer: String,
    client_id: String,
    #[serde(default)]
    client_secret_env: Option<String>,
    redirect_uri: String,
    username: String,
    #[serde(default)]
    password_env: Option<String>,
    #[serde(default)]
    groups_claim: Option<String>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    /// Role names, checked against `roles` once it is read.
    #[serde(default)]
    role_mappings: BTreeMap<String, String>,
    #[serde(default)]
    default_role: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    ca_file: Option<PathBuf>,
    #[serde(default)]
    token_store: Option<PathBuf>,
    #[serde(default)]
    timeout_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAws {
    sts_endpoint: String,
    region: String,
    role_arn: String,
    #[serde(default = "default_session_name")]
    session_name: String,
    #[serde(default)]
    duration_seconds: Option<u32>,
    bedrock_endpoint: String,
    model: String,
}

fn default_session_name() -> String {
    "{email}".to_string()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGcp {
    sts_endpoint: String,
    audience: String,
    project: String,
    #[serde(default)]
    quota_project: Option<String>,
    vertex_endpoint: String,
    location: String,
    model: String,
}

/// The placeholders a session-name template may use.
const SESSION_NAME_FIELDS: [&str; 3] = ["{email}", "{sub}", "{username}"];

impl Profile {
    /// Reads `path`, resolving secrets from the process environment.
    pub fn load(path: &Path) -> Result<Profile, ConfigError> {
        let text = read_text(path)?;
        Profile::parse(&text, path, &|name| std::env::var(name).ok())
    }

    /// Parses profile text; `env` looks environment variables up (tests pass their own).
    pub fn parse(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Profile, ConfigError> {
        let raw: RawProfile = from_yaml(text, path)?;
        let invalid =
            |key: &str, message: String| ConfigError::invalid_key(path, text, key, message);
        let dir = path.parent().unwrap_or(Path::new(""));
        let secret = |key: &str, var: &str| -> Result<Secret, ConfigError> {
            env(var)
                .filter(|v| !v.is_empty())
                .map(Secret::new)
                .ok_or_else(|| invalid(key, format!("the environment variable `{var}` is not set")))
        };

        let idp = raw.idp;
        let mut client = ClientConfig::new(&idp.issuer, &idp.client_id, &idp.redirect_uri);
        if let Some(var) = &idp.client_secret_env {
            client.client_secret = Some(secret("idp.client_secret_env", var)?);
        }
        if let Some(claim) = idp.groups_claim {
            client.groups_claim = claim;
        }
        if let Some(names) = idp.roles {
            client.roles =
                RoleLadder::new(names).map_err(|e| invalid("idp.roles", e.to_string()))?;
        }
        for (group, role) in idp.role_mappings {
            let role = client.roles.role(&role).map_err(|e| {
                // Group names hold `/` and `.`: the path is given as steps.
                let steps = ["idp", "role_mappings", &group].map(|k| Step::Key(k.to_string()));
                ConfigError::invalid_at(path, text, &steps, "idp.role_mappings", e.to_string())
            })?;
            client.role_mappings.push((group, role));
        }
        if let Some(role) = idp.default_role {
            let role = client
                .roles
                .role(&role)
                .map_err(|e| invalid("idp.default_role", e.to_string()))?;
            client.default_role = Some(role);
        }
        if let Some(scopes) = idp.scopes {
            client.scopes = scopes;
        }
        if let Some(seconds) = idp.timeout_seconds {
            if seconds == 0 {
                return Err(invalid("idp.timeout_seconds", "must be at least 1".into()));
            }
            client.timeout = Duration::from_secs(seconds);
        }
        // A profile problem (an issuer that is not a URL, an empty client id, …) is refused
        // here, as the profile's error, not reported later as a failed discovery hop.
        client
            .validate()
            .map_err(|e| invalid("idp", format!("{e}; fix the profile")))?;
        let mut trusted_roots = Vec::new();
        if let Some(file) = &idp.ca_file {
            let file = dir.join(file);
            let pem = ssoproof_config::fs::read_to_string(&file).map_err(|e| {
                invalid(
                    "idp.ca_file",
                    format!("cannot read {}: {e}", file.display()),
                )
            })?;
            trusted_roots = match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
                Ok(roots) if !roots.is_empty() => roots,
                _ => {
                    return Err(invalid(
                        "idp.ca_file",
                        format!("{} holds no PEM certificate", file.display()),
                    ))
                }
            };
            client.trusted_ca_pem = Some(pem);
        }
        let token_store = idp.token_store.map(|f| dir.join(f));
        let has_stored_token = match &token_store {
            Some(file) => FileTokenStore::new(file)
                .load_refresh_token()
                .map_err(|e| invalid("idp.token_store", e.to_string()))?
                .is_some(),
            None => false,
        };
        let sign_in = match (token_store, &idp.password_env) {
            (Some(file), _) if has_stored_token => SignIn::Stored(file),
            (save_to, Some(var)) => SignIn::Password {
                password: secret("idp.password_env", var)?,
                save_to,
            },
            (_, None) => {
                return Err(invalid(
                    "idp.password_env",
                    "a password is needed to sign in (no token_store holds a refresh token): \
                     name the environment variable holding it"
                        .into(),
                ))
            }
        };

        let aws = match raw.aws {
            Some(aws) => {
                let mut rest = aws.session_name.clone();
                for field in SESSION_NAME_FIELDS {
                    rest = rest.replace(field, "");
                }
                if rest.contains(['{', '}']) {
                    return Err(invalid(
                        "aws.session_name",
                        format!(
                            "`{}` uses a placeholder other than {}",
                            aws.session_name,
                            SESSION_NAME_FIELDS.join(", ")
                        ),
                    ));
                }
                Some(AwsProfile {
                    sts_endpoint: aws.sts_endpoint,
                    region: aws.region,
                    role_arn: aws.role_arn,
                    session_name: aws.session_name,
                    duration_seconds: aws.duration_seconds,
                    bedrock_endpoint: aws.bedrock_endpoint,
                    model: aws.model,
                })
            }
            None => None,
        };
        let gcp = raw.gcp.map(|gcp| GcpProfile {
            quota_project: gcp.quota_project.unwrap_or_else(|| gcp.project.clone()),
            sts_endpoint: gcp.sts_endpoint,
            audience: gcp.audience,
            project: gcp.project,
            vertex_endpoint: gcp.vertex_endpoint,
            location: gcp.location,
            model: gcp.model,
            trusted_roots: trusted_roots.clone(),
        });
        let runbooks = raw
            .runbooks
            .iter()
            .map(|r| {
                let file = dir.join(r);
                if file.is_file() {
                    Ok(file)
                } else {
                    Err(invalid(
                        "runbooks",
                        format!("{} is not a readable file", file.display()),
                    ))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Profile {
            path: path.to_path_buf(),
            idp: IdpProfile {
                client,
                username: idp.username,
                sign_in,
            },
            aws,
            gcp,
            runbooks,
        })
    }
}

impl AwsProfile {
    /// The session name for a signed-in user (`{email}` falls back to the `sub`).
    pub fn session_name_for(&self, email: Option<&str>, sub: &str, username: &str) -> String {
        self.session_name
            .replace("{email}", email.unwrap_or(sub))
            .replace("{sub}", sub)
            .replace("{username}", username)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "idp:\n  issuer: https://sso.example.com/realms/acme\n  client_id: acme-app\n  client_secret_env: SECRET\n  redirect_uri: https://app.example.com/cb\n  username: alice\n  password_env: PASSWORD\n  role_mappings:\n    /acme/admins: admin\naws:\n  sts_endpoint: https://sts.amazonaws.com\n  region: us-east-1\n  role_arn: arn:aws:iam::123456789012:role/BedrockUser\n  bedrock_endpoint: https://bedrock-runtime.us-east-1.amazonaws.com\n  model: anthropic.claude-3-5-sonnet-20240620-v1:0\n";

    fn env(name: &str) -> Option<String> {
        match name {
            "SECRET" => Some("s3cret".into()),
            "PASSWORD" => Some("pw".into()),
            _ => None,
        }
    }

    fn parse(text: &str) -> Result<Profile, ConfigError> {
        Profile::parse(text, Path::new("doctor.yaml"), &env)
    }

    #[test]
    fn reads_a_profile_and_resolves_secrets_from_the_environment() {
        let profile = parse(GOOD).unwrap();
        assert_eq!(
            profile.idp.client.client_secret.as_ref().unwrap().expose(),
            "s3cret"
        );
        let SignIn::Password { password, save_to } = &profile.idp.sign_in else {
            panic!("{:?}", profile.idp.sign_in)
        };
        assert_eq!((password.expose(), save_to), ("pw", &None));
        assert_eq!(
            profile.idp.client.role_mappings,
            [(
                "/acme/admins".into(),
                profile.idp.client.roles.role("admin").unwrap()
            )]
        );
        let aws = profile.aws.unwrap();
        assert_eq!(aws.session_name, "{email}");
        assert_eq!(
            aws.session_name_for(None, "sub-1", "alice"),
            "sub-1",
            "no email: the sub"
        );
        assert!(profile.gcp.is_none());
        // Secrets never reach Debug output.
        let debug = format!("{:?}", parse(GOOD).unwrap());
        assert!(
            !debug.contains("s3cret") && !debug.contains("\"pw\""),
            "{debug}"
        );
    }

    #[test]
    fn mistakes_name_file_line_and_key() {
        let err = parse(&GOOD.replace("username:", "user:")).unwrap_err();
        assert_eq!(err.code(), "config/syntax");
        assert!(err.to_string().starts_with("doctor.yaml:"), "{err}");
        assert!(err.to_string().contains("unknown field `user`"), "{err}");

        let err = parse(&GOOD.replace("admin\n", "superuser\n")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "doctor.yaml:9:19: `idp.role_mappings`: unknown role `superuser`; expected viewer, user or admin"
        );

        // A ladder of the application's own: mappings name its roles, and only those.
        let custom = GOOD.replace(
            "  role_mappings:\n    /acme/admins: admin\n",
            "  roles: [admin, developer, viewer]\n  role_mappings:\n    /acme/devs: developer\n  default_role: viewer\n",
        );
        let client = parse(&custom).unwrap().idp.client;
        assert_eq!(client.roles.to_string(), "admin > developer > viewer");
        assert_eq!(client.role_mappings[0].1, "developer");
        assert_eq!(client.default_role.unwrap(), "viewer");
        let err = parse(&custom.replace("default_role: viewer", "default_role: user")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "doctor.yaml:11:17: `idp.default_role`: unknown role `user`; expected viewer, developer or admin"
        );
        let err =
            parse(&custom.replace("[admin, developer, viewer]", "[admin, admin]")).unwrap_err();
        assert_eq!(err.code(), "config/invalid");
        assert_eq!(
            err.to_string(),
            "doctor.yaml:8:10: `idp.roles`: the role `admin` appears twice in the ladder"
        );

        let err = parse(&GOOD.replace("PASSWORD", "NOT_SET")).unwrap_err();
        assert_eq!(err.code(), "config/invalid");
        assert_eq!(
            err.to_string(),
            "doctor.yaml:7:17: `idp.password_env`: the environment variable `NOT_SET` is not set"
        );

        let err = parse(&GOOD.replace("  password_env: PASSWORD\n", "")).unwrap_err();
        assert!(err.to_string().contains("a password is needed"), "{err}");

        let err = parse(&GOOD.replace(
            "  model: anthropic",
            "  session_name: \"{mail}\"\n  model: anthropic",
        ))
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("`aws.session_name`: `{mail}` uses a placeholder"),
            "{err}"
        );

        let err = parse(&format!("{GOOD}runbooks: [no/such.md]\n")).unwrap_err();
        assert!(
            err.to_string()
                .contains("no/such.md is not a readable file"),
            "{err}"
        );

        let err = parse("idp: [").unwrap_err();
        assert_eq!(err.code(), "config/syntax");
    }

    #[test]
    fn an_unusable_issuer_or_client_id_is_a_profile_error() {
        for (from, to, what) in [
            (
                "issuer: https://sso.example.com/realms/acme",
                "issuer: sso.example.com",
                "is not an http(s) URL",
            ),
            (
                "client_id: acme-app",
                "client_id: ''",
                "the client id is empty",
            ),
            (
                "redirect_uri: https://app.example.com/cb",
                "redirect_uri: /cb",
                "not an absolute URL",
            ),
        ] {
            let err = parse(&GOOD.replace(from, to)).unwrap_err();
            assert_eq!(err.code(), "config/invalid", "{err}");
            assert!(
                err.to_string().starts_with("doctor.yaml:2:3: `idp`"),
                "{err}"
            );
            assert!(err.to_string().contains(what), "{err}");
        }
    }

    #[test]
    fn a_stored_refresh_token_makes_the_password_optional() {
        let dir = tempfile::tempdir().unwrap();
        FileTokenStore::new(dir.path().join("alice.refresh"))
            .save_refresh_token(&Secret::new("rt"))
            .unwrap();
        let text = GOOD.replace(
            "  password_env: PASSWORD\n",
            "  token_store: alice.refresh\n",
        );
        let profile = Profile::parse(&text, &dir.path().join("doctor.yaml"), &env).unwrap();
        let SignIn::Stored(file) = profile.idp.sign_in else {
            panic!("{:?}", profile.idp.sign_in)
        };
        assert_eq!(file, dir.path().join("alice.refresh"));
    }

    #[test]
    fn a_missing_profile_is_config_read_naming_it() {
        let path = Path::new("absent-doctor.yaml");
        let err = Profile::load(path).unwrap_err();
        assert_eq!(err.code(), "config/read");
        assert!(
            err.to_string()
                .starts_with("cannot read absent-doctor.yaml: "),
            "{err}"
        );
    }
}
