//! `ssoproof probe app`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use ssoproof_idp::SigningAlg;
use ssoproof_probe::app::saml::{self, SamlAppProbe};
use ssoproof_probe::app::session::Target;
use ssoproof_probe::app::{self, AppProbe, FixtureUser, SignedIn};
use ssoproof_probe::idp::{Idp, LocalOptions};
use url::Url;

use super::coded;

#[derive(Args)]
#[command(group(clap::ArgGroup::new("signed_in").required(true).args(["role_pointer", "signed_in_status"])))]
pub struct AppArgs {
    /// Where the application starts a login, e.g. http://127.0.0.1:3000/login (loopback only,
    /// unless --allow-remote).
    #[arg(long, value_name = "URL")]
    login_url: Url,
    /// Where the application says who is signed in, e.g. http://127.0.0.1:3000/whoami.
    #[arg(long, value_name = "URL")]
    whoami_url: Url,
    /// The JSON pointer of the role in the whoami answer, e.g. /role: present means signed in.
    #[arg(long, value_name = "POINTER", value_parser = super::parse_pointer)]
    role_pointer: Option<String>,
    /// The whoami status that means signed in (when the answer names no role), e.g. 200.
    #[arg(long, value_name = "CODE", value_parser = clap::value_parser!(u16).range(100..=599))]
    signed_in_status: Option<u16>,
    /// A fixture user, NAME (any session), NAME:ROLE (the role the runbook promises) or
    /// NAME:- (must be refused); repeatable. The first signs in for every other case.
    #[arg(long = "user", value_name = "NAME[:ROLE|:-]", required = true)]
    users: Vec<String>,
    /// An Entra user in more than 200 groups, NAME:ROLE or NAME:- (must be refused): the
    /// groups-overage case, where Entra sends `_claim_names` instead of `groups`. An emulator
    /// the probe starts is switched to "Security groups" for it; one at --idp-url must be.
    #[arg(long, value_name = "NAME:ROLE|NAME:-")]
    overage_user: Option<String>,
    /// The Keycloak realm export the emulator serves, and the fixture users' passwords
    /// (default: the built-in realm "acme").
    #[arg(long, value_name = "FILE", conflicts_with = "persona")]
    realm: Option<PathBuf>,
    /// A vendor persona instead: okta, auth0, entra-id, google, cognito, authentik (the
    /// built-in ones), or a persona file.
    #[arg(long, value_name = "NAME|FILE")]
    persona: Option<String>,
    /// Where the emulator listens; the application must be configured with its issuer.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8180")]
    idp_bind: SocketAddr,
    /// Use a running `ssoproof serve idp` at this base URL (its admin API injects the faults)
    /// instead of starting one; --realm or --persona then name the file it serves, for the
    /// users' passwords.
    #[arg(long, value_name = "URL", conflicts_with = "idp_bind")]
    idp_url: Option<Url>,
    /// The application reads the discovery document at each login: run the
    /// discovery-issuer-mismatch case (one that reads it at startup cannot see the fault).
    #[arg(long)]
    rediscovers: bool,
    /// The application calls userinfo at login: run the userinfo-other-sub case.
    #[arg(long)]
    calls_userinfo: bool,
    /// Probe the application's SAML login instead of its OIDC login: it must trust the
    /// emulator's SAML metadata (<issuer>/protocol/saml/descriptor) as its IdP, with the
    /// realm's SAML client's entity ID; the first --user signs in for every case.
    #[arg(long, conflicts_with_all = ["overage_user", "rediscovers", "calls_userinfo"])]
    saml: bool,
    /// Run only this case (repeatable); the ids are in the README.
    #[arg(long = "case", value_name = "ID")]
    cases: Vec<String>,
    /// Seconds each request may take.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Allow an application that is not on this machine.
    #[arg(long)]
    allow_remote: bool,
    #[command(flatten)]
    report: super::ReportArgs,
}

pub fn run(args: AppArgs) -> anyhow::Result<u8> {
    let realm = super::realm(args.realm.as_deref(), args.persona.as_deref())?;
    let users = args
        .users
        .iter()
        .map(|spec| FixtureUser::from_realm(&realm, spec))
        .collect::<Result<Vec<_>, _>>()
        .map_err(coded)?;
    let overage_user = args
        .overage_user
        .as_deref()
        .map(|spec| FixtureUser::from_realm(&realm, spec))
        .transpose()
        .map_err(coded)?;
    let vendor = realm
        .persona
        .as_ref()
        .map(|p| p.vendor().as_str().to_string())
        .unwrap_or_else(|| "keycloak".into());
    let probe = AppProbe {
        login_url: args.login_url.clone(),
        whoami_url: args.whoami_url.clone(),
        signed_in: match (&args.role_pointer, args.signed_in_status) {
            (Some(pointer), _) => SignedIn::Pointer(pointer.clone()),
            (None, Some(status)) => SignedIn::Status(status),
            (None, None) => unreachable!("clap requires one of them"),
        },
        users,
        overage_user,
        timeout: Duration::from_secs(args.timeout),
        allow_remote: args.allow_remote,
        rediscovers: args.rediscovers,
        calls_userinfo: args.calls_userinfo,
        only: args.cases.clone(),
        vendor: vendor.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let idp = match &args.idp_url {
            Some(base) => {
                ssoproof_probe::check_target(base, false).map_err(|e| coded(e.into()))?;
                Idp::attach(base).await.map_err(coded)?
            }
            None => Idp::start(LocalOptions {
                realm,
                bind: args.idp_bind,
                signing: SigningAlg::Rs256,
            })
            .await
            .map_err(coded)?,
        };
        if args.saml {
            eprintln!(
                "probe: SAML IdP metadata {}/protocol/saml/descriptor ({}); the application must trust it",
                idp.issuer(),
                vendor
            );
            let idp_origin = Url::parse(&idp.issuer())
                .map_err(|e| anyhow::anyhow!("the emulator's issuer is not a URL: {e}"))?
                .origin();
            let saml_probe = SamlAppProbe {
                target: Target {
                    login_url: probe.login_url.clone(),
                    whoami_url: probe.whoami_url.clone(),
                    signed_in: probe.signed_in.clone(),
                    idp_origin,
                    timeout: probe.timeout,
                },
                user: probe.users[0].clone(),
                allow_remote: probe.allow_remote,
                only: probe.only.clone(),
                vendor: vendor.clone(),
            };
            return saml::run(&saml_probe, &idp).await.map_err(coded);
        }
        // On standard error, so that a JSON or SARIF report on standard output stays parseable.
        eprintln!(
            "probe: issuer {} ({}); the application must trust it",
            idp.issuer(),
            vendor
        );
        app::run(&probe, &idp).await.map_err(coded)
    })?;
    super::write_report(&report, &args.report)
}
