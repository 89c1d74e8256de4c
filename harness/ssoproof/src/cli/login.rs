//! `ssoproof login`: the reference relying party on the command line.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory, ValueEnum};
use ssoproof_rp::saml::{MetadataSource, ServiceProvider, SpConfig};
use ssoproof_rp::{
    render, with_deadline, AuthMethod, BrowserOptions, ClientConfig, LoginDriver, RelyingParty,
    Role, RoleLadder,
};
use ssoproof_saml::NameIdFormat;
use ssoproof_secret::Secret;

use super::{Cli, FOUND_ERRORS, OK, TROUBLE};

#[derive(Args)]
pub struct LoginArgs {
    /// The issuer, byte for byte as the IdP's discovery document spells it.
    #[arg(long, value_name = "URL", required_unless_present = "saml")]
    issuer: Option<String>,
    /// The client id registered at the IdP.
    #[arg(long, value_name = "ID", required_unless_present = "saml")]
    client_id: Option<String>,
    /// Sign in over SAML 2.0 instead of OIDC, as the reference service provider: an
    /// AuthnRequest on HTTP-Redirect, the IdP's login form, the Response it posts to the ACS
    /// URL validated strictly (signature, XSW, audience, recipient, time, InResponseTo).
    #[arg(
        long,
        requires_all = ["metadata", "entity_id"],
        conflicts_with_all = ["issuer", "client_id", "client_secret", "redirect_uri", "scopes",
                              "groups_claim", "auth_params", "auth_method", "show_tokens"]
    )]
    saml: bool,
    /// `--saml`: the IdP's metadata, a URL (Keycloak:
    /// <base>/realms/<realm>/protocol/saml/descriptor) or a file.
    #[arg(long, value_name = "URL|FILE", requires = "saml")]
    metadata: Option<String>,
    /// `--saml`: this service provider's entity ID, as registered at the IdP (Keycloak: the
    /// SAML client's Client ID); the assertion's Audience must name it.
    #[arg(long, value_name = "ID", requires = "saml")]
    entity_id: Option<String>,
    /// `--saml`: this service provider's Assertion Consumer Service URL, as registered;
    /// nothing needs to listen on it.
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://127.0.0.1/saml/acs",
        requires = "saml"
    )]
    acs_url: String,
    /// `--saml`: the attribute holding the groups (its Name or FriendlyName).
    #[arg(long, value_name = "NAME", default_value = "groups", requires = "saml")]
    groups_attribute: String,
    /// `--saml`: the NameID format to ask for (default: the IdP's choice).
    #[arg(long, value_enum, value_name = "FORMAT", requires = "saml")]
    name_id_format: Option<NameIdFormatArg>,
    /// `--saml`: the clock difference with the IdP tolerated on NotBefore and NotOnOrAfter.
    #[arg(long, value_name = "SECS", default_value_t = 60, requires = "saml")]
    clock_skew: u64,
    /// The client secret (default: $SSOPROOF_CLIENT_SECRET; neither = public client).
    #[arg(long, value_name = "SECRET")]
    client_secret: Option<String>,
    /// The user to sign in as.
    #[arg(long, value_name = "USER")]
    username: String,
    /// The user's password (default: $SSOPROOF_PASSWORD; one of the two is required).
    #[arg(long, value_name = "PASSWORD")]
    password: Option<String>,
    /// Registered redirect URI; nothing needs to listen on it.
    #[arg(long, value_name = "URI", default_value = "http://127.0.0.1/callback")]
    redirect_uri: String,
    /// Scope to request (repeatable or space-separated; default `openid email profile`;
    /// `openid` is added when missing).
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// Path of the groups claim in the ID token: dotted for nested objects, or a URL-shaped key.
    #[arg(long, value_name = "PATH", default_value = "groups")]
    groups_claim: String,
    /// The application's roles, highest first, comma-separated: the ladder `--role` and
    /// `--default-role` name roles of, and on which the highest mapped role wins.
    #[arg(
        long = "roles",
        value_name = "ROLE,…",
        default_value = "admin,user,viewer"
    )]
    ladder: RoleLadder,
    /// Map a group to a role of `--roles` (repeatable; exact, case-sensitive).
    #[arg(long = "role", value_name = "GROUP=ROLE", value_parser = render::parse_role_mapping)]
    roles: Vec<(String, String)>,
    /// Role of `--roles` for users none of whose groups is mapped (default: refuse them).
    #[arg(long, value_name = "ROLE")]
    default_role: Option<String>,
    /// Extra authorization-request parameter (repeatable), e.g. `kc_idp_hint=google` to go
    /// straight to a Keycloak identity provider, or `access_type=offline` for Google.
    #[arg(long = "auth-param", value_name = "KEY=VALUE", value_parser = parse_auth_param)]
    auth_params: Vec<(String, String)>,
    /// How the client authenticates to the token endpoint.
    #[arg(long, value_enum, default_value_t = AuthMethodArg::Basic)]
    auth_method: AuthMethodArg,
    /// A CA certificate (PEM) to trust besides the public roots, e.g. the local CA that
    /// `ssoproof serve idp --tls` wrote.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Time limit, in seconds, of each network request and of the whole sign-in (discovery,
    /// login pages, token exchange, keys and userinfo together).
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// How the user signs in: `form` fills the IdP's HTML login form without running scripts;
    /// `browser` drives a headless Chromium (chromedriver from $SSOPROOF_CHROMEDRIVER or PATH,
    /// Chromium from $SSOPROOF_CHROMIUM or PATH), for pages built by JavaScript;
    /// `password-grant` skips the pages (the resource-owner password grant).
    #[arg(long, value_enum, default_value_t = DriverArg::Form)]
    driver: DriverArg,
    /// Where the browser driver saves a screenshot of a failed sign-in (password inputs
    /// cleared first).
    #[arg(long, value_name = "DIR", default_value = ssoproof_rp::DEFAULT_SCREENSHOT_DIR)]
    screenshots: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LoginFormat::Human)]
    format: LoginFormat,
    /// Also print the ID, access and refresh tokens.
    #[arg(long)]
    show_tokens: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DriverArg {
    Form,
    Browser,
    PasswordGrant,
}

#[derive(Clone, Copy, ValueEnum)]
enum AuthMethodArg {
    /// client_secret_basic
    Basic,
    /// client_secret_post
    Post,
}

#[derive(Clone, Copy, ValueEnum)]
enum NameIdFormatArg {
    Email,
    Persistent,
    Transient,
    Unspecified,
}

impl From<NameIdFormatArg> for NameIdFormat {
    fn from(arg: NameIdFormatArg) -> Self {
        match arg {
            NameIdFormatArg::Email => NameIdFormat::Email,
            NameIdFormatArg::Persistent => NameIdFormat::Persistent,
            NameIdFormatArg::Transient => NameIdFormat::Transient,
            NameIdFormatArg::Unspecified => NameIdFormat::Unspecified,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum LoginFormat {
    Human,
    Json,
}

fn parse_auth_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

/// `--flag`, else the environment variable; an empty value counts as absent.
fn flag_or_env(flag: Option<String>, var: &str) -> Option<String> {
    flag.or_else(|| std::env::var(var).ok())
        .filter(|v| !v.is_empty())
}

/// Exits as clap does for a usage error of `ssoproof login`.
fn usage_error(kind: clap::error::ErrorKind, message: impl std::fmt::Display) -> ! {
    let mut command = Cli::command();
    command.build();
    let login = command
        .find_subcommand_mut("login")
        .expect("the login subcommand exists");
    login.error(kind, message).exit()
}

/// A role argument that names no role of `--roles`, worded as clap words an invalid value.
fn unknown_role(value: &str, arg: &str, error: ssoproof_rp::UnknownRole) -> ! {
    usage_error(
        clap::error::ErrorKind::ValueValidation,
        format!("invalid value '{value}' for '{arg}': {error}"),
    )
}

pub fn run(mut args: LoginArgs) -> anyhow::Result<u8> {
    // Role arguments first: before `--roles`, clap refused a bad one ahead of the password check.
    let ladder = args.ladder.clone();
    let role_mappings = std::mem::take(&mut args.roles)
        .into_iter()
        .map(|(group, role)| match ladder.role(&role) {
            Ok(r) => (group, r),
            Err(e) => unknown_role(&format!("{group}={role}"), "--role <GROUP=ROLE>", e),
        })
        .collect();
    let default_role = args.default_role.take().map(|role| {
        ladder
            .role(&role)
            .unwrap_or_else(|e| unknown_role(&role, "--default-role <ROLE>", e))
    });
    let Some(password) = flag_or_env(args.password.clone(), "SSOPROOF_PASSWORD") else {
        usage_error(
            clap::error::ErrorKind::MissingRequiredArgument,
            "a password is required: pass --password or set SSOPROOF_PASSWORD",
        )
    };
    if args.saml {
        return run_saml(
            args,
            ladder,
            role_mappings,
            default_role,
            Secret::new(password),
        );
    }
    // clap requires both unless --saml.
    let (Some(issuer), Some(client_id)) = (args.issuer, args.client_id) else {
        usage_error(
            clap::error::ErrorKind::MissingRequiredArgument,
            "--issuer and --client-id are required (or --saml with --metadata and --entity-id)",
        )
    };
    let mut config = ClientConfig::new(issuer, client_id, args.redirect_uri);
    config.client_secret =
        flag_or_env(args.client_secret, "SSOPROOF_CLIENT_SECRET").map(Secret::new);
    config.scopes = render::scopes_from_args(&args.scopes);
    config.groups_claim = args.groups_claim;
    config.roles = ladder;
    config.role_mappings = role_mappings;
    config.default_role = default_role;
    config.authorization_params = args.auth_params;
    config.auth_method = match args.auth_method {
        AuthMethodArg::Basic => AuthMethod::ClientSecretBasic,
        AuthMethodArg::Post => AuthMethod::ClientSecretPost,
    };
    let limit = std::time::Duration::from_secs(args.timeout);
    config.timeout = limit;
    let password = Secret::new(password);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // The browser driver bounds its pages by the limit itself and then still reports (the page,
    // a screenshot) and closes Chromium; the outer bound leaves it that time.
    let overall = match args.driver {
        DriverArg::Browser => limit + std::time::Duration::from_secs(15),
        _ => limit,
    };
    let result = runtime.block_on(with_deadline(overall, async {
        if let Some(path) = &args.ca_cert {
            config.trust_ca_file(path)?;
        }
        let party = RelyingParty::discover(config).await?;
        match args.driver {
            DriverArg::Form => party.login(&args.username, &password).await,
            DriverArg::Browser => {
                let driver = LoginDriver::Browser(BrowserOptions {
                    screenshots: args.screenshots.clone(),
                });
                party.login_with(&driver, &args.username, &password).await
            }
            DriverArg::PasswordGrant => {
                party
                    .login_with_password_grant(&args.username, &password)
                    .await
            }
        }
    }));

    let text = match (&result, args.format) {
        (Ok(session), LoginFormat::Json) => render::success_json(session, args.show_tokens),
        (Ok(session), LoginFormat::Human) => render::success_human(session, args.show_tokens),
        (Err(error), LoginFormat::Json) => render::rejection_json(error),
        (Err(error), LoginFormat::Human) => render::rejection_human(error),
    };
    print_outcome(result.as_ref().err(), &text)
}

/// Prints `text` and answers the exit status of a login that ended with `error`, if any.
fn print_outcome(error: Option<&ssoproof_rp::RpError>, text: &str) -> anyhow::Result<u8> {
    let status = match error {
        None => OK,
        // The configuration itself is unusable: a usage problem, not a verdict on the IdP.
        Some(error) if error.code() == "config_invalid" => TROUBLE,
        Some(_) => FOUND_ERRORS,
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(status)
}

/// `login --saml`: the reference service provider.
fn run_saml(
    args: LoginArgs,
    ladder: RoleLadder,
    role_mappings: Vec<(String, Role)>,
    default_role: Option<Role>,
    password: Secret,
) -> anyhow::Result<u8> {
    // clap requires both with --saml.
    let (Some(metadata), Some(entity_id)) = (args.metadata, args.entity_id) else {
        usage_error(
            clap::error::ErrorKind::MissingRequiredArgument,
            "--saml needs --metadata and --entity-id",
        )
    };
    let limit = std::time::Duration::from_secs(args.timeout);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(with_deadline(limit, async {
        let mut config = SpConfig::new(
            MetadataSource::from_arg(&metadata)?,
            entity_id,
            args.acs_url,
        );
        config.groups_attribute = args.groups_attribute;
        config.name_id_format = args.name_id_format.map(Into::into);
        config.roles = ladder;
        config.role_mappings = role_mappings;
        config.default_role = default_role;
        config.clock_skew = std::time::Duration::from_secs(args.clock_skew);
        config.timeout = limit;
        if let Some(path) = &args.ca_cert {
            config.trust_ca_file(path)?;
        }
        let sp = ServiceProvider::new(config).await?;
        sp.login(&args.username, &password).await
    }));
    let text = match (&result, args.format) {
        (Ok(login), LoginFormat::Json) => render::saml_success_json(login),
        (Ok(login), LoginFormat::Human) => render::saml_success_human(login),
        (Err(error), LoginFormat::Json) => render::rejection_json(error),
        (Err(error), LoginFormat::Human) => render::rejection_human(error),
    };
    print_outcome(result.as_ref().err(), &text)
}
