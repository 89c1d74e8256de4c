//! `ssoproof serve`: the emulators, standalone, until Ctrl-C, SIGTERM or SIGHUP.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use ssoproof_cloud as cloud;
use ssoproof_cloud::aws::{AwsConfig, AwsEmulator, AwsOptions, Mode};
use ssoproof_cloud::gcp::{self, GcpConfig, GcpEmulator, GcpOptions};
use ssoproof_cloud::placeholders;
use ssoproof_idp::{self as idp, Emulator, IdpOptions, LoginPage, Realm, SigningAlg};
use ssoproof_server::tls::LocalCa;

use super::OK;

#[derive(Subcommand)]
pub enum Serve {
    /// An OpenID Connect provider: Keycloak serving a realm export, or a vendor persona (Okta,
    /// Auth0, Entra ID, Google, Cognito) from a file under fixtures/idp/.
    Idp(IdpArgs),
    /// Emulated cloud federation: AWS STS + Bedrock and Google STS + Vertex AI.
    Clouds(CloudsArgs),
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["realm", "persona"])))]
pub struct IdpArgs {
    /// The Keycloak realm export to serve (as `kc.sh export` writes it).
    #[arg(long, value_name = "FILE")]
    realm: Option<PathBuf>,
    /// A vendor persona to serve instead, e.g. fixtures/idp/okta.yaml: the vendor's issuer
    /// shape, URLs, claims and errors.
    #[arg(long, value_name = "FILE", conflicts_with = "realm")]
    persona: Option<PathBuf>,
    /// For a realm that brokers an identity provider: serve this persona as the upstream of
    /// the provider with this alias (repeatable), e.g. google=fixtures/idp/google-workspace.yaml.
    #[arg(long, value_name = "ALIAS=FILE", requires = "realm", value_parser = parse_upstream)]
    upstream: Vec<(String, PathBuf)>,
    /// The port to listen on, on 127.0.0.1 (default: any free port, printed at start).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The token signing algorithm: rs256, es256 or eddsa. A persona signs RS256, as its
    /// vendor's discovery advertises, and refuses the others.
    #[arg(long, default_value_t = SigningAlg::Rs256)]
    signing: SigningAlg,
    /// How a Keycloak realm serves its login page: `form` (Keycloak's HTML form) or `script`
    /// (an empty `<div>` a script fills with an identifier-first form posted with `fetch`, as
    /// the Okta widget does; only `--driver browser` signs in there). Not for a persona.
    #[arg(long, value_name = "KIND", default_value_t = LoginPage::Form)]
    login_page: LoginPage,
    /// Send and advertise the RFC 9207 `iss` authorization-response parameter (a Keycloak
    /// realm does by default; personas only with this flag).
    #[arg(long, conflicts_with = "no_iss_parameter")]
    iss_parameter: bool,
    /// Leave out the `iss` parameter, as a Keycloak client with "Exclude Issuer From
    /// Authentication Response" on does.
    #[arg(long)]
    no_iss_parameter: bool,
    /// Serve HTTPS with a certificate from a local CA generated for this run (clouds refuse
    /// plain-http issuers). The CA certificate is written to a file clients can trust.
    #[arg(long)]
    tls: bool,
    /// Where `--tls` writes the CA certificate (default: a file in the temporary folder,
    /// removed on exit).
    #[arg(long, value_name = "FILE", requires = "tls")]
    ca_out: Option<PathBuf>,
}

#[derive(Args)]
pub struct CloudsArgs {
    /// The emulated AWS account (e.g. fixtures/cloud/aws.yaml): STS + Bedrock Runtime.
    #[arg(long, value_name = "FILE")]
    aws: Option<PathBuf>,
    /// The emulated Google Cloud organisation (e.g. fixtures/cloud/gcp.yaml): STS + Vertex AI.
    #[arg(long, value_name = "FILE")]
    gcp: Option<PathBuf>,
    /// The IdP issuer the account files trust (fills `${IDP_ISSUER}` and
    /// `${IDP_ISSUER_HOST_PATH}`).
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// The https issuer of Google accounts' OAuth access tokens (fills `${GOOGLE_ISSUER}`).
    /// Without it, `google_accounts` entries naming `${GOOGLE_ISSUER}` are left out, and said so.
    #[arg(long, value_name = "URL")]
    google_issuer: Option<String>,
    /// Loopback port of the AWS emulator (default: a free one); Google's takes the next free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Behave like real AWS: loopback, private and plain-http issuers fail key retrieval.
    #[arg(long)]
    realistic: bool,
    /// A CA certificate (PEM) the emulated STSes trust when they fetch the issuer's keys, e.g.
    /// the one `ssoproof serve idp --tls` wrote.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
}

pub fn run(command: Serve) -> anyhow::Result<u8> {
    match command {
        Serve::Idp(args) => serve_idp(args),
        Serve::Clouds(args) => serve_clouds(args),
    }
}

fn parse_upstream(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((alias, file)) if !alias.is_empty() && !file.is_empty() => {
            Ok((alias.to_string(), PathBuf::from(file)))
        }
        _ => Err(format!("`{text}` is not ALIAS=FILE")),
    }
}

fn serve_idp(args: IdpArgs) -> anyhow::Result<u8> {
    let realm = match load_realm(args.realm.as_deref(), args.persona.as_deref())? {
        Some(realm) => realm,
        None => anyhow::bail!("pass --realm FILE or --persona FILE"),
    };
    let local_ca = if args.tls {
        let ca = LocalCa::generate().map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        let config = ca
            .issue_server_cert(&["127.0.0.1", "localhost"])
            .and_then(|cert| cert.server_config())
            .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        let file = CaFile::write(args.ca_out, ca.cert_pem())?;
        Some((config, file))
    } else {
        None
    };
    let mut upstream_realms = Vec::new();
    for (alias, file) in &args.upstream {
        idp::check_upstream(&realm, alias).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        let persona =
            Realm::from_persona(file).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        upstream_realms.push((alias.clone(), persona));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut upstreams = Vec::new();
        let mut out = std::io::stdout().lock();
        for (alias, persona) in upstream_realms {
            let emulator = Emulator::start(persona, IdpOptions::default())
                .await
                .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
            writeln!(out, "upstream \"{alias}\":")?;
            out.write_all(idp::serve_summary(&emulator).as_bytes())?;
            upstreams.push((alias, emulator));
        }
        let options = IdpOptions {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
            signing: args.signing,
            login_page: args.login_page,
            iss_parameter: match (args.iss_parameter, args.no_iss_parameter) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            tls: local_ca.as_ref().map(|(config, _)| config.clone()),
            upstreams: upstreams
                .iter()
                .map(|(alias, emulator)| (alias.clone(), emulator.issuer()))
                .collect(),
            ..IdpOptions::default()
        };
        let emulator = Emulator::start(realm, options)
            .await
            .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        out.write_all(idp::serve_summary(&emulator).as_bytes())?;
        if let Some((_, file)) = &local_ca {
            let path = file.path.display();
            writeln!(out, "local CA")?;
            writeln!(out, "  certificate {path}")?;
            writeln!(
                out,
                "  trust it with `ssoproof login --ca-cert {path}`, `ssoproof serve clouds --ca-cert {path}`, `curl --cacert {path}`"
            )?;
        }
        let mut stop = StopSignals::install()?;
        writeln!(out, "Serving until Ctrl-C.")?;
        out.flush()?;
        drop(out);
        let signal = stop.recv().await;
        drop(emulator);
        drop(upstreams);
        say_stopped(signal);
        Ok(OK)
    })
}

/// Ctrl-C, SIGTERM (what process managers and `docker stop` send) and SIGHUP (the terminal
/// closed): each is a request to stop, so the servers shut down and the command exits 0. The
/// handlers are installed before "Serving until Ctrl-C." is printed, so that a signal sent as
/// soon as a supervisor reads that line is not the default action (death by signal).
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> anyhow::Result<StopSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// Waits for one, and names it.
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "Ctrl-C",
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.hangup.recv() => "SIGHUP",
        }
    }
}

/// The last line, once the servers are down. A closed stdout (the terminal gone with SIGHUP)
/// is no reason to fail a clean stop.
fn say_stopped(signal: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Stopped on {signal}.").and_then(|()| out.flush());
}

/// The realm `--realm FILE` (a Keycloak export) or `--persona FILE` names; `None` when neither
/// is given. `serve idp` and `probe` read them alike.
pub(super) fn load_realm(
    realm: Option<&Path>,
    persona: Option<&Path>,
) -> anyhow::Result<Option<Realm>> {
    Ok(Some(match (realm, persona) {
        (Some(realm), _) => {
            Realm::from_keycloak_export(realm).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?
        }
        (None, Some(persona)) => {
            Realm::from_persona(persona).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?
        }
        (None, None) => return Ok(None),
    }))
}

/// The CA certificate `serve idp --tls` hands to other clients. A file in the temporary folder
/// is ours and goes when the server stops (the CA dies with the process anyway); a file the
/// operator named stays.
struct CaFile {
    path: PathBuf,
    remove_on_exit: bool,
}

impl CaFile {
    fn write(chosen: Option<PathBuf>, pem: &str) -> anyhow::Result<CaFile> {
        let remove_on_exit = chosen.is_none();
        let path = chosen.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("ssoproof-local-ca-{}.pem", std::process::id()))
        });
        std::fs::write(&path, pem).map_err(|e| {
            anyhow::anyhow!("cannot write the CA certificate {}: {e}", path.display())
        })?;
        Ok(CaFile {
            path,
            remove_on_exit,
        })
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        if self.remove_on_exit {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn serve_clouds(args: CloudsArgs) -> anyhow::Result<u8> {
    if args.aws.is_none() && args.gcp.is_none() {
        anyhow::bail!("nothing to serve: pass --aws FILE and/or --gcp FILE");
    }
    let mut variables: Vec<(&str, String)> = Vec::new();
    if let Some(issuer) = &args.issuer {
        if !placeholders::is_usable_issuer(issuer) {
            anyhow::bail!("--issuer `{issuer}` is not an http(s) URL usable as an issuer");
        }
        variables.extend(placeholders::idp_issuer(issuer));
    }
    if let Some(issuer) = &args.google_issuer {
        if !(placeholders::is_usable_issuer(issuer) && issuer.starts_with("https://")) {
            anyhow::bail!(
                "--google-issuer `{issuer}` is not an https URL usable as an issuer (Google \
                 accounts' tokens come from an https issuer, as https://accounts.google.com)"
            );
        }
        variables.push((placeholders::GOOGLE_ISSUER, issuer.clone()));
    }
    let aws = match &args.aws {
        Some(path) => Some(
            AwsConfig::load_with(path, &variables)
                .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?,
        ),
        None => None,
    };
    // Without --google-issuer the Google-account leg is left out, not the whole organisation:
    // the workforce leg needs only the IdP's issuer (runbooks/gcp-vertex.md, step 4).
    let gcp = match &args.gcp {
        Some(path) => Some(
            GcpConfig::load_without_google_issuer(path, &variables)
                .map(|(config, left_out)| (path, config, left_out))
                .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?,
        ),
        None => None,
    };
    let roots = match &args.ca_cert {
        Some(path) => read_ca_cert(path)?,
        None => Vec::new(),
    };
    let fetch = cloud::fetch_client(&roots);
    let bind = |port: u16| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut out = String::new();
        let aws = match aws {
            Some(config) => {
                let mode = if args.realistic {
                    Mode::Realistic
                } else {
                    Mode::Lab
                };
                let addr = bind(args.port);
                let emulator = AwsEmulator::start(
                    config,
                    AwsOptions {
                        bind: addr,
                        mode,
                        http: fetch.clone(),
                    },
                )
                .await
                .map_err(|source| CloudBindError::at("AWS", addr, source))?;
                out.push_str(&emulator.summary());
                Some(emulator)
            }
            None => None,
        };
        let gcp = match gcp {
            Some((path, config, left_out)) => {
                let addr = bind(0);
                let options = GcpOptions {
                    bind: addr,
                    http: fetch,
                };
                let emulator = GcpEmulator::start(config, options)
                    .await
                    .map_err(|source| CloudBindError::at("Google Cloud", addr, source))?;
                out.push_str(&gcp::render_summary(&emulator));
                for line in left_out {
                    out.push_str(&format!(
                        "  Google account tokens from {}:{line} left out: ${{GOOGLE_ISSUER}} has no value (pass --google-issuer URL)\n",
                        path.display()
                    ));
                }
                Some(emulator)
            }
            None => None,
        };
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(out.as_bytes())?;
        let mut stop = StopSignals::install()?;
        writeln!(stdout, "Serving until Ctrl-C.")?;
        stdout.flush()?;
        drop(stdout);
        let signal = stop.recv().await;
        drop((aws, gcp));
        say_stopped(signal);
        Ok(OK)
    })
}

/// An emulated cloud cannot listen: the address taken, or not allowed.
#[derive(Debug, thiserror::Error)]
#[error("[clouds/bind] cannot listen on {addr} for the emulated {cloud}: {source}; choose another port with --port (AWS) or stop what listens there")]
struct CloudBindError {
    cloud: &'static str,
    addr: SocketAddr,
    source: std::io::Error,
}

impl CloudBindError {
    fn at(cloud: &'static str, addr: SocketAddr, source: std::io::Error) -> anyhow::Error {
        CloudBindError {
            cloud,
            addr,
            source,
        }
        .into()
    }
}

/// The certificates of a PEM file given with `--ca-cert`.
fn read_ca_cert(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let pem = ssoproof_config::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read the CA certificate {}: {e}", path.display()))?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(roots) if !roots.is_empty() => Ok(roots),
        _ => anyhow::bail!("{} holds no PEM certificate", path.display()),
    }
}
