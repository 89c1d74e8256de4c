//! `ssoproof serve`: the emulators, standalone, until Ctrl-C.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use ssoproof::cloud::aws::{AwsConfig, AwsEmulator, AwsOptions, Mode};
use ssoproof::cloud::gcp::{self, GcpConfig, GcpEmulator, GcpOptions};
use ssoproof::idp::{self, Emulator, IdpOptions, Realm, SigningAlg};

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
    /// The token signing algorithm: rs256, es256 or eddsa.
    #[arg(long, default_value_t = SigningAlg::Rs256)]
    signing: SigningAlg,
    /// Send and advertise the RFC 9207 `iss` authorization-response parameter.
    #[arg(long)]
    iss_parameter: bool,
}

#[derive(Args)]
pub struct CloudsArgs {
    /// The emulated AWS account (e.g. fixtures/cloud/aws.yaml): STS + Bedrock Runtime.
    #[arg(long, value_name = "FILE")]
    aws: Option<PathBuf>,
    /// The emulated Google Cloud organisation (e.g. fixtures/cloud/gcp.yaml): STS + Vertex AI.
    #[arg(long, value_name = "FILE")]
    gcp: Option<PathBuf>,
    /// The IdP issuer the account files trust (fills `{issuer}` and `${IDP_ISSUER}`).
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// The issuer of emulated Google-account tokens (fills `${GOOGLE_ISSUER}`).
    #[arg(long, value_name = "URL")]
    google_issuer: Option<String>,
    /// Loopback port of the AWS emulator (default: a free one); Google's takes the next free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Behave like real AWS: loopback, private and plain-http issuers fail key retrieval.
    #[arg(long)]
    realistic: bool,
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
    let realm = match (&args.realm, &args.persona) {
        (Some(realm), _) => {
            Realm::from_keycloak_export(realm).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?
        }
        (None, Some(persona)) => {
            Realm::from_persona(persona).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?
        }
        (None, None) => anyhow::bail!("pass --realm FILE or --persona FILE"),
    };
    let mut upstream_realms = Vec::new();
    for (alias, file) in &args.upstream {
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
            iss_parameter: args.iss_parameter,
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
        writeln!(out, "Serving until Ctrl-C.")?;
        out.flush()?;
        drop(out);
        tokio::signal::ctrl_c().await?;
        drop(upstreams);
        Ok(OK)
    })
}

fn serve_clouds(args: CloudsArgs) -> anyhow::Result<u8> {
    if args.aws.is_none() && args.gcp.is_none() {
        anyhow::bail!("nothing to serve: pass --aws FILE and/or --gcp FILE");
    }
    let aws = match &args.aws {
        Some(path) => Some(
            match &args.issuer {
                Some(issuer) => AwsConfig::load_with_issuer(path, issuer),
                None => AwsConfig::load(path),
            }
            .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?,
        ),
        None => None,
    };
    let gcp = match &args.gcp {
        Some(path) => {
            let mut variables = Vec::new();
            if let Some(issuer) = &args.issuer {
                variables.push((gcp::IDP_ISSUER, issuer.as_str()));
            }
            if let Some(issuer) = &args.google_issuer {
                variables.push((gcp::GOOGLE_ISSUER, issuer.as_str()));
            }
            Some(
                GcpConfig::load_with(path, &variables)
                    .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?,
            )
        }
        None => None,
    };
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
                let emulator = AwsEmulator::start(
                    config,
                    AwsOptions {
                        bind: bind(args.port),
                        mode,
                    },
                )
                .await?;
                out.push_str(&emulator.summary());
                Some(emulator)
            }
            None => None,
        };
        let gcp = match gcp {
            Some(config) => {
                let options = GcpOptions {
                    bind: bind(0),
                    http: reqwest::Client::new(),
                };
                let emulator = GcpEmulator::start(config, options).await?;
                out.push_str(&gcp::render_summary(&emulator));
                Some(emulator)
            }
            None => None,
        };
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(out.as_bytes())?;
        writeln!(stdout, "Serving until Ctrl-C.")?;
        stdout.flush()?;
        drop(stdout);
        tokio::signal::ctrl_c().await?;
        drop((aws, gcp));
        Ok(OK)
    })
}
