//! oauth2-proxy, the most deployed OIDC relying-party proxy, built by
//! `scripts/interop/oauth2-proxy/install`.
//!
//! The launcher binds the listening socket itself and hands it to oauth2-proxy as fd 3
//! (`--http-address=fd:3`, systemd socket activation, which oauth2-proxy supports): the port
//! is known before the start, for `--redirect-url`, with no window in which another test could
//! take it. Secrets go through oauth2-proxy's environment variables, never its command line.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Json;
use rand::distributions::{Alphanumeric, DistString};
use ssoproof_secret::Secret;
use tokio::process::Command;
use url::Url;

use crate::process::{clean_env, Process, READY_TIMEOUT};
use crate::{unavailable, BearerApi, LaunchError, LoginApp};

/// The version `scripts/interop/oauth2-proxy/install` builds.
pub const OAUTH2_PROXY_VERSION: &str = "v7.15.6";

/// Names the oauth2-proxy binary.
pub const OAUTH2_PROXY_ENV: &str = "SSOPROOF_OAUTH2_PROXY";

const TARGET: &str = "oauth2-proxy";

/// Starts oauth2-proxy.
pub struct OAuth2Proxy;

impl OAuth2Proxy {
    /// Browser-login mode: `--provider=oidc` against `issuer` with the confidential client
    /// `client_id`, PKCE S256, in front of `static://200`. `/oauth2/start` begins a login
    /// (`--skip-provider-button`: straight to the IdP), `/oauth2/callback` is its redirect URI,
    /// `/oauth2/userinfo` the whoami. Everything else is oauth2-proxy's default (among them:
    /// no `nonce` is sent or checked, `--insecure-oidc-skip-nonce` being `true` by default).
    /// `extra` flags follow and can override these.
    pub async fn login(
        issuer: &str,
        client_id: &str,
        client_secret: &Secret,
        extra: &[&str],
    ) -> Result<LoginApp, LaunchError> {
        let socket = Socket::bind()?;
        let redirect = format!("{}oauth2/callback", socket.base_url);
        let mut args = common_args(issuer, client_id);
        args.extend([
            format!("--redirect-url={redirect}"),
            "--upstream=static://200".to_string(),
            "--skip-provider-button".to_string(),
            "--code-challenge-method=S256".to_string(),
        ]);
        let (process, base_url) = start(socket, args, client_secret, extra).await?;
        Ok(LoginApp {
            process,
            base_url,
            login_path: "/oauth2/start",
            callback_path: "/oauth2/callback",
            whoami_path: "/oauth2/userinfo",
        })
    }

    /// Bearer-gateway mode: `--skip-jwt-bearer-tokens` accepts a request whose bearer token
    /// verifies against `issuer`'s keys with the audience `client_id` (oauth2-proxy's own
    /// provider) or `audience` (`--extra-jwt-issuers=<issuer>=<audience>`), and proxies it to
    /// an upstream in this process that echoes the identity oauth2-proxy passes on
    /// (`X-Forwarded-User`, `-Email`, `-Groups`) as `X-Attach-User` and
    /// `{"sub", "email", "groups"}`. A request without a token is `401`
    /// (`--api-route=^/`: no login redirect); one with an invalid token `403`
    /// (`--bearer-token-login-fallback=false`). `extra` flags follow, e.g.
    /// `--allowed-group=/acme/admins`.
    pub async fn bearer(
        issuer: &str,
        client_id: &str,
        client_secret: &Secret,
        audience: &str,
        extra: &[&str],
    ) -> Result<BearerApi, LaunchError> {
        let upstream = echo_upstream().await?;
        let socket = Socket::bind()?;
        let mut args = common_args(issuer, client_id);
        args.extend([
            format!("--upstream=http://{}/", upstream.local_addr()),
            "--skip-jwt-bearer-tokens".to_string(),
            format!("--extra-jwt-issuers={issuer}={audience}"),
            "--bearer-token-login-fallback=false".to_string(),
            "--api-route=^/".to_string(),
        ]);
        let (process, base_url) = start(socket, args, client_secret, extra).await?;
        Ok(BearerApi {
            process,
            base_url,
            _upstream: Some(upstream),
        })
    }
}

/// What both modes need: the OIDC provider, a cookie that travels over http://, any email.
fn common_args(issuer: &str, client_id: &str) -> Vec<String> {
    vec![
        "--provider=oidc".to_string(),
        format!("--oidc-issuer-url={issuer}"),
        format!("--client-id={client_id}"),
        "--email-domain=*".to_string(),
        "--cookie-secure=false".to_string(),
        "--http-address=fd:3".to_string(),
    ]
}

/// The binary: `SSOPROOF_OAUTH2_PROXY`, else where the install script puts it by default.
fn binary() -> Result<PathBuf, LaunchError> {
    let named = std::env::var_os(OAUTH2_PROXY_ENV).filter(|p| !p.is_empty());
    locate(named.map(PathBuf::from), default_binary()).map_err(unavailable)
}

/// The named binary, which must exist, or else the default one; the reason when neither does.
fn locate(named: Option<PathBuf>, default: Option<PathBuf>) -> Result<PathBuf, String> {
    let install = "scripts/interop/oauth2-proxy/install";
    match (named, default) {
        (Some(path), _) if path.is_file() => Ok(path),
        (Some(path), _) => Err(format!(
            "{OAUTH2_PROXY_ENV} names {}, which is not a file: run {install}",
            path.display()
        )),
        (None, Some(path)) if path.is_file() => Ok(path),
        (None, _) => Err(format!(
            "oauth2-proxy {OAUTH2_PROXY_VERSION} is not installed: run {install} and set \
             {OAUTH2_PROXY_ENV} to the path it prints"
        )),
    }
}

/// `$SSOPROOF_CACHE/oauth2-proxy-<version>/bin/oauth2-proxy`, the cache defaulting as in the
/// install script (`${SSOPROOF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ssoproof}`).
fn default_binary() -> Option<PathBuf> {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let cache = set("SSOPROOF_CACHE").map(PathBuf::from).or_else(|| {
        set("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .map(|cache| cache.join("ssoproof"))
    })?;
    Some(cache.join(format!(
        "oauth2-proxy-{OAUTH2_PROXY_VERSION}/bin/oauth2-proxy"
    )))
}

/// The listening socket oauth2-proxy inherits.
struct Socket {
    listener: std::net::TcpListener,
    base_url: Url,
}

impl Socket {
    fn bind() -> Result<Socket, LaunchError> {
        let setup = |e: std::io::Error| LaunchError::Setup {
            target: TARGET,
            message: format!("cannot bind a loopback port: {e}"),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(setup)?;
        let port = listener.local_addr().map_err(setup)?.port();
        let base_url = Url::parse(&format!("http://127.0.0.1:{port}/")).expect("a valid URL");
        Ok(Socket { listener, base_url })
    }
}

/// Starts oauth2-proxy on `socket` and waits until `/ping` answers.
async fn start(
    socket: Socket,
    args: Vec<String>,
    client_secret: &Secret,
    extra: &[&str],
) -> Result<(Process, Url), LaunchError> {
    let binary = binary()?;
    // `sh` sets LISTEN_PID to its own pid and `exec`s oauth2-proxy, which keeps that pid:
    // socket activation serves only the process LISTEN_PID names.
    let mut command = Command::new("/bin/sh");
    clean_env(&mut command);
    command
        .arg("-c")
        .arg(r#"LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@""#)
        .arg(&binary)
        .args(&args)
        .args(extra)
        .env("OAUTH2_PROXY_CLIENT_SECRET", client_secret.expose())
        .env(
            "OAUTH2_PROXY_COOKIE_SECRET",
            // 32 bytes: an AES-256 key, as oauth2-proxy requires for a cookie secret.
            Alphanumeric.sample_string(&mut rand::thread_rng(), 32),
        );
    let fd = socket.listener.as_raw_fd();
    // SAFETY: between fork and exec only async-signal-safe calls: dup2 and fcntl.
    unsafe {
        command.pre_exec(move || {
            let inherited = if fd == 3 {
                // Already fd 3: only its close-on-exec flag must go.
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                // dup2 leaves close-on-exec clear on the copy.
                libc::dup2(fd, 3)
            };
            if inherited == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (mut process, _lines) = Process::spawn(TARGET, command)?;
    // Only the child holds the socket now: if it dies, connections are refused, not queued.
    drop(socket.listener);
    let base_url = socket.base_url;
    let ping = base_url.join("ping").expect("a path joins");
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| LaunchError::Setup {
            target: TARGET,
            message: format!("no HTTP client: {e}"),
        })?;
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = process.exited() {
            return Err(process.exited_error(Some(status)).await);
        }
        if let Ok(answer) = client.get(ping.clone()).send().await {
            if answer.status().is_success() {
                return Ok((process, base_url));
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(process.not_ready());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The upstream of bearer mode: answers every request with the identity oauth2-proxy passed.
async fn echo_upstream() -> Result<ssoproof_server::ServerHandle, LaunchError> {
    let setup = |e: std::io::Error| LaunchError::Setup {
        target: TARGET,
        message: format!("cannot start the echo upstream: {e}"),
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(setup)?;
    let router = axum::Router::new().fallback(echo);
    ssoproof_server::ServerHandle::spawn(listener, router).map_err(setup)
}

async fn echo(headers: HeaderMap) -> impl IntoResponse {
    let one = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (user, email) = (one("x-forwarded-user"), one("x-forwarded-email"));
    // One header per group, or one comma-separated header: accept both.
    let groups: Vec<&str> = headers
        .get_all("x-forwarded-groups")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .collect();
    let attach = email.clone().or_else(|| user.clone()).unwrap_or_default();
    (
        [("x-attach-user", attach)],
        Json(serde_json::json!({ "sub": user, "email": email, "groups": groups })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_named_binary_wins_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let (named, default) = (dir.path().join("named"), dir.path().join("default"));
        std::fs::write(&default, "").unwrap();
        let missing = locate(Some(named.clone()), Some(default.clone())).unwrap_err();
        assert!(
            missing.starts_with("SSOPROOF_OAUTH2_PROXY names "),
            "{missing}"
        );
        assert!(missing.contains("which is not a file"), "{missing}");
        std::fs::write(&named, "").unwrap();
        assert_eq!(locate(Some(named.clone()), Some(default)), Ok(named));
    }

    #[test]
    fn without_a_name_the_install_scripts_default_is_tried() {
        let dir = tempfile::tempdir().unwrap();
        let default = dir.path().join("oauth2-proxy");
        let missing = locate(None, Some(default.clone())).unwrap_err();
        assert!(
            missing.contains("is not installed: run scripts/interop/oauth2-proxy/install"),
            "{missing}"
        );
        assert_eq!(locate(None, None), Err(missing));
        std::fs::write(&default, "").unwrap();
        assert_eq!(locate(None, Some(default.clone())), Ok(default));
    }
}
