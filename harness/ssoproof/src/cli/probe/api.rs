//! `ssoproof probe api`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use ssoproof_idp::{Realm, SigningAlg};
use ssoproof_probe::api::cases::{GroupRule, Settings};
use ssoproof_probe::api::{self, ApiTarget, IdentitySource};
use ssoproof_probe::idp::{Idp, LocalOptions};
use ssoproof_probe::ProbeError;
use url::Url;

use super::coded;

#[derive(Args)]
#[command(group(clap::ArgGroup::new("idp").args(["realm", "persona", "idp_url"])))]
pub struct ApiArgs {
    /// The API to call, e.g. http://127.0.0.1:8080/v1/models/gpt-4 (loopback only, unless
    /// --allow-remote).
    #[arg(long, value_name = "URL")]
    url: Url,
    /// The HTTP method.
    #[arg(long, default_value = "GET")]
    method: reqwest::Method,
    /// The request body.
    #[arg(long, value_name = "TEXT", conflicts_with = "body_file")]
    body: Option<String>,
    /// The request body, from a file.
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// A request header, 'Name: value' (repeatable); the probe sets Authorization itself.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The audience the API requires (`aud`); every token but the wrong-audience cases
    /// carries it.
    #[arg(long, value_name = "AUD")]
    audience: String,
    /// The user the tokens are for (default: the realm's first user, e.g. alice; required with
    /// --idp-url).
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// The response header in which the API reports whom it took the caller for, e.g.
    /// X-Attach-User. A valid token's identity must be its `sub`, `email` or
    /// `preferred_username`.
    #[arg(long, value_name = "NAME", conflicts_with = "identity_pointer")]
    identity_header: Option<reqwest::header::HeaderName>,
    /// The JSON pointer, in the response body, of whom the API took the caller for, e.g. /sub.
    #[arg(long, value_name = "POINTER", value_parser = super::parse_pointer)]
    identity_pointer: Option<String>,
    /// The group the API requires: every token carries it in --groups-claim, and one token
    /// without it must get 403.
    #[arg(long, value_name = "GROUP")]
    allow_group: Option<String>,
    /// The claim the API reads groups from.
    #[arg(
        long,
        value_name = "CLAIM",
        default_value = "groups",
        requires = "allow_group"
    )]
    groups_claim: String,
    /// A realm user whose own groups the API allows (repeatable).
    #[arg(long = "allowed-user", value_name = "USER")]
    allowed_users: Vec<String>,
    /// A realm user whose own groups the API must refuse with 403 (repeatable).
    #[arg(long = "denied-user", value_name = "USER")]
    denied_users: Vec<String>,
    /// The Keycloak realm export the emulator serves (default: the built-in realm "acme" of
    /// fixtures/keycloak-realm.json).
    #[arg(long, value_name = "FILE")]
    realm: Option<PathBuf>,
    /// A vendor persona instead: okta, auth0, entra-id, google, cognito, authentik (the
    /// built-in ones), or a persona file.
    #[arg(long, value_name = "NAME|FILE")]
    persona: Option<String>,
    /// Where the emulator listens: the API's configuration names this issuer.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8180")]
    idp_bind: SocketAddr,
    /// The emulator's signing algorithm (a Keycloak realm only): rs256, es256 or eddsa.
    #[arg(long, default_value_t = SigningAlg::Rs256)]
    signing: SigningAlg,
    /// Use a running `ssoproof serve idp` at this base URL (its admin API) instead of starting
    /// one, e.g. http://127.0.0.1:8180.
    #[arg(long, value_name = "URL", conflicts_with = "idp_bind")]
    idp_url: Option<Url>,
    /// Seconds each request to the API may take.
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    concurrency: u64,
    /// Allow a target that is not on this machine.
    #[arg(long)]
    allow_remote: bool,
    /// Run only this case (repeatable); the valid token, the control, always runs.
    #[arg(long = "case", value_name = "ID")]
    cases: Vec<String>,
    #[command(flatten)]
    report: super::ReportArgs,
}

/// Attach to a running emulator (its admin API is loopback-only, so is the probe's use of it),
/// or start one.
enum IdpChoice {
    Attach(Url),
    Start(Box<Realm>),
}

pub fn run(args: ApiArgs) -> anyhow::Result<u8> {
    let mut target = ApiTarget::new(args.url.clone(), args.allow_remote).map_err(coded)?;
    target.method = args.method.clone();
    for header in &args.headers {
        let (name, value) = api::parse_header(header).map_err(coded)?;
        target.headers.append(name, value);
    }
    target.body = match (&args.body, &args.body_file) {
        (Some(text), _) => Some(text.clone().into_bytes()),
        (None, Some(path)) => Some(api::read_body(path).map_err(coded)?),
        (None, None) => None,
    };
    target.identity = match (&args.identity_header, &args.identity_pointer) {
        (Some(name), _) => IdentitySource::Header(name.clone()),
        (None, Some(pointer)) => IdentitySource::Pointer(pointer.clone()),
        (None, None) => IdentitySource::None,
    };
    target.timeout = Duration::from_secs(args.timeout);
    target.concurrency = args.concurrency as usize;
    let choice = match (&args.idp_url, &args.persona) {
        (Some(base), _) => {
            ssoproof_probe::check_target(base, false).map_err(|e| coded(e.into()))?;
            IdpChoice::Attach(base.clone())
        }
        (None, persona) => {
            let realm = super::realm(args.realm.as_deref(), persona.as_deref())?;
            IdpChoice::Start(Box::new(realm))
        }
    };
    let mut settings = Settings {
        user: args.user.clone().unwrap_or_default(),
        audience: args.audience.clone(),
        group: args.allow_group.clone().map(|group| GroupRule {
            group,
            claim: args.groups_claim.clone(),
        }),
        allowed_users: args.allowed_users.clone(),
        denied_users: args.denied_users.clone(),
        only: args.cases.clone(),
        now: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default(),
    };
    // An unknown --case is found before any emulator starts.
    ssoproof_probe::api::cases::select(&settings)
        .map_err(|message| coded(ProbeError::Usage { message }))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let idp = match choice {
            IdpChoice::Attach(base) => Idp::attach(&base).await.map_err(coded)?,
            IdpChoice::Start(realm) => Idp::start(LocalOptions {
                realm: *realm,
                bind: args.idp_bind,
                signing: args.signing,
            })
            .await
            .map_err(coded)?,
        };
        if args.user.is_none() {
            settings.user = idp.first_user().ok_or_else(|| {
                coded(ProbeError::Usage {
                    message: "pass --user: the users of an emulator attached with --idp-url are \
                              not known to the probe"
                        .into(),
                })
            })?;
        }
        // On standard error, so that a JSON or SARIF report on standard output stays parseable.
        eprintln!(
            "probe: issuer {} ({}), tokens for {}",
            idp.issuer(),
            idp.vendor(),
            settings.user
        );
        api::run(&idp, &target, &settings).await.map_err(coded)
    })?;
    super::write_report(&report, &args.report)
}
