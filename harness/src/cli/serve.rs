//! `ssoproof serve`: the emulators, standalone, until Ctrl-C.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use ssoproof::idp::{self, Emulator, IdpOptions, Realm, SigningAlg};

use super::OK;

#[derive(Subcommand)]
pub enum Serve {
    /// An OpenID Connect provider that behaves like Keycloak, serving a realm export.
    Idp(IdpArgs),
}

#[derive(Args)]
pub struct IdpArgs {
    /// The Keycloak realm export to serve (as `kc.sh export` writes it).
    #[arg(long, value_name = "FILE")]
    realm: PathBuf,
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

pub fn run(command: Serve) -> anyhow::Result<u8> {
    match command {
        Serve::Idp(args) => serve_idp(args),
    }
}

fn serve_idp(args: IdpArgs) -> anyhow::Result<u8> {
    let realm = Realm::from_keycloak_export(&args.realm)
        .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let options = IdpOptions {
        bind: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
        signing: args.signing,
        iss_parameter: args.iss_parameter,
        ..IdpOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let emulator = Emulator::start(realm, options)
            .await
            .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        let mut out = std::io::stdout().lock();
        out.write_all(idp::serve_summary(&emulator).as_bytes())?;
        writeln!(out, "Serving until Ctrl-C.")?;
        out.flush()?;
        drop(out);
        tokio::signal::ctrl_c().await?;
        Ok(OK)
    })
}
