//! A real Keycloak in a container, through testcontainers: one container for the whole run,
//! started on the first scenario, and a fresh copy of the realm fixture (`acme-1`, `acme-2`, …)
//! per scenario. Realm-admin operations go through Keycloak's admin REST API with a token from
//! the `master` realm's `admin-cli` password grant. No fault injection: that is the emulator's.
//!
//! Without a Docker engine the backend says so quickly (a socket that does not answer
//! `GET /_ping` within 2 s counts as absent) and every scenario is skipped with that reason.
//!
//! - `SSOPROOF_KEYCLOAK_IMAGE` picks the image (default `quay.io/keycloak/keycloak:26.0`).
//! - Containers carry the label `org.ssoproof.backend=keycloak`, so a run killed before it could
//!   remove its container leaves something `docker ps --filter label=…` finds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rand::distributions::Alphanumeric;
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testcontainers::core::IntoContainerPort;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Mutex, OnceCell};

use super::{Backend, BackendError, Capability, ClientRegistration, Idp, RealmFixture};
use ssoproof_secret::{redact_all, Secret};

const NAME: &str = "keycloak";

/// The image used unless `SSOPROOF_KEYCLOAK_IMAGE` names another.
pub const DEFAULT_IMAGE: &str = "quay.io/keycloak/keycloak:26.0";
pub const IMAGE_VAR: &str = "SSOPROOF_KEYCLOAK_IMAGE";

const ADMIN_USER: &str = "admin";
const HTTP_PORT: u16 = 8080;
const MANAGEMENT_PORT: u16 = 9000;
const LABEL: (&str, &str) = ("org.ssoproof.backend", "keycloak");

/// Cold start is 10–20 s; slow CI machines get the same allowance as other test frameworks.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
const PING_TIMEOUT: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of a server's answer an error message quotes.
const BODY_EXCERPT: usize = 300;

const SKIP_HINT: &str = "the Keycloak scenarios run where Docker is available";

/// Real Keycloak scenarios: `RealmAdmin`, never `FaultInjection`.
pub struct KeycloakContainerBackend {
    realm: PathBuf,
    image: String,
    probe: DockerProbe,
    docker: OnceCell<Result<DockerEngine, String>>,
    /// Started once; a start that failed is not retried by every later scenario.
    keycloak: OnceCell<Result<Keycloak, String>>,
    realms: AtomicUsize,
}

impl std::fmt::Debug for KeycloakContainerBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeycloakContainerBackend")
            .field("realm", &self.realm)
            .field("image", &self.image)
            .field("keycloak", &self.keycloak.get())
            .finish_non_exhaustive()
    }
}

impl KeycloakContainerBackend {
    /// `realm` is the realm export every scenario gets a copy of. Nothing starts until the first
    /// scenario; the image comes from `SSOPROOF_KEYCLOAK_IMAGE` when set.
    pub fn new(realm: PathBuf) -> KeycloakContainerBackend {
        let image = std::env::var(IMAGE_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_IMAGE.to_string());
        KeycloakContainerBackend {
            realm,
            image,
            probe: DockerProbe::from_env(),
            docker: OnceCell::new(),
            keycloak: OnceCell::new(),
            realms: AtomicUsize::new(0),
        }
    }

    /// The image this backend starts, `name:tag`.
    pub fn image(&self) -> &str {
        &self.image
    }

    #[cfg(test)]
    fn with_probe(mut self, probe: DockerProbe) -> KeycloakContainerBackend {
        self.probe = probe;
        self
    }

    /// The Docker probe runs once per backend: a run either has Docker or it does not.
    async fn docker(&self) -> Result<&DockerEngine, BackendError> {
        let probed = self.docker.get_or_init(|| self.probe.check()).await;
        probed.as_ref().map_err(|reason| BackendError::Unavailable {
            backend: NAME,
            reason: reason.clone(),
        })
    }

    async fn keycloak(&self) -> Result<&Keycloak, BackendError> {
        let engine = self.docker().await?;
        let started = self
            .keycloak
            .get_or_init(|| async {
                Keycloak::start(&self.image, engine)
                    .await
                    .map_err(|e| match e {
                        BackendError::Failed { message, .. } => message,
                        other => other.to_string(),
                    })
            })
            .await;
        started.as_ref().map_err(|message| BackendError::Failed {
            backend: NAME,
            message: message.clone(),
        })
    }
}

/// Removes the container. `ContainerAsync` needs a Tokio runtime to do that; a backend dropped
/// after the runtime is gone gets a small one of its own instead of a panic.
impl Drop for KeycloakContainerBackend {
    fn drop(&mut self) {
        let Some(Ok(keycloak)) = self.keycloak.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(keycloak);
            return;
        }
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(async move { drop(keycloak) }),
            Err(e) => {
                let id = keycloak.container.id().to_string();
                std::mem::forget(keycloak); // dropping it without a runtime would panic
                eprintln!(
                    "ssoproof: cannot remove Keycloak container {id} ({e}): `docker rm -f {id}`"
                );
            }
        }
    }
}

#[async_trait]
impl Backend for KeycloakContainerBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn capabilities(&self) -> &[Capability] {
        &[Capability::RealmAdmin]
    }

    async fn availability(&self) -> Result<(), BackendError> {
        self.docker().await?;
        RealmFixture::load(&self.realm, NAME).map(|_| ())
    }

    /// No scenario asks for a capability Keycloak lacks: `needs` changes nothing.
    async fn start_scenario(&self, _needs: &[Capability]) -> Result<Arc<dyn Idp>, BackendError> {
        let keycloak = self.keycloak().await?;
        let fixture = RealmFixture::load(&self.realm, NAME)?;
        let n = self.realms.fetch_add(1, Ordering::Relaxed) + 1;
        let idp = KeycloakIdp::create(keycloak.admin.clone(), fixture, n).await?;
        Ok(Arc::new(idp))
    }
}

// ---------------------------------------------------------------------------------------------
// Docker detection

/// Where a Docker engine could be, in the order testcontainers itself looks: `DOCKER_HOST`,
/// `/var/run/docker.sock`, `$XDG_RUNTIME_DIR/.docker/run/docker.sock`,
/// `~/.docker/run/docker.sock`, `~/.docker/desktop/docker.sock`. The rootless daemon's own
/// socket `$XDG_RUNTIME_DIR/docker.sock` is checked last: testcontainers does not find it
/// without `DOCKER_HOST`, so finding it only yields that advice.
///
/// Every field is injectable so the logic is testable on machines without Docker.
#[derive(Debug, Clone)]
struct DockerProbe {
    docker_host: Option<String>,
    tls_verify: bool,
    default_socket: PathBuf,
    runtime_dir: Option<PathBuf>,
    home: Option<PathBuf>,
    timeout: Duration,
}

/// A Docker engine that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DockerEngine {
    /// As testcontainers will reach it: `unix:///var/run/docker.sock`, `tcp://host:2375`.
    host: String,
}

impl DockerProbe {
    fn from_env() -> DockerProbe {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        DockerProbe {
            docker_host: var("DOCKER_HOST").map(|v| v.to_string_lossy().into_owned()),
            tls_verify: var("DOCKER_TLS_VERIFY").is_some_and(|v| v == "1"),
            default_socket: PathBuf::from("/var/run/docker.sock"),
            runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
            home: var("HOME").map(PathBuf::from),
            timeout: PING_TIMEOUT,
        }
    }

    /// The sockets testcontainers tries when `DOCKER_HOST` is unset, in its order; an `Err`
    /// stands for a location whose base variable is unset and names that variable.
    fn candidates(&self) -> Vec<Result<PathBuf, &'static str>> {
        let runtime = |rel: &str| {
            self.runtime_dir
                .as_ref()
                .map(|d| d.join(rel))
                .ok_or("XDG_RUNTIME_DIR unset")
        };
        let home = |rel: &str| self.home.as_ref().map(|d| d.join(rel)).ok_or("HOME unset");
        vec![
            Ok(self.default_socket.clone()),
            runtime(".docker/run/docker.sock"),
            home(".docker/run/docker.sock"),
            home(".docker/desktop/docker.sock"),
        ]
    }

    /// `Ok` when an engine answered `GET /_ping` with 200; otherwise the `Unavailable` reason,
    /// naming everything that was checked. Never takes much longer than `timeout`.
    async fn check(&self) -> Result<DockerEngine, String> {
        let unavailable = |checked: &str| format!("no Docker engine ({checked}); {SKIP_HINT}");
        if let Some(host) = &self.docker_host {
            return match self.check_docker_host(host).await {
                Ok(engine) => Ok(engine),
                Err(e) => Err(unavailable(&format!("DOCKER_HOST={host}: {e}"))),
            };
        }
        let mut checked = vec!["DOCKER_HOST unset".to_string()];
        for candidate in self.candidates() {
            let path = match candidate {
                Ok(path) => path,
                Err(unset) => {
                    checked.push(unset.to_string());
                    continue;
                }
            };
            if !path.exists() {
                checked.push(format!("no {}", path.display()));
                continue;
            }
            // testcontainers takes the first socket that exists, whether it answers or not.
            return match self.ping_unix(&path).await {
                Ok(()) => Ok(DockerEngine {
                    host: format!("unix://{}", path.display()),
                }),
                Err(e) => {
                    checked.push(format!("{}: {e}", path.display()));
                    Err(unavailable(&checked.join(", ")))
                }
            };
        }
        // (An unset XDG_RUNTIME_DIR is already listed.)
        if let Some(dir) = &self.runtime_dir {
            let rootless = dir.join("docker.sock");
            if !rootless.exists() {
                checked.push(format!("no {}", rootless.display()));
            } else {
                match self.ping_unix(&rootless).await {
                    Ok(()) => checked.push(format!(
                        "a rootless Docker answers at {0}, but testcontainers only uses it through \
                         DOCKER_HOST: set DOCKER_HOST=unix://{0}",
                        rootless.display()
                    )),
                    Err(e) => checked.push(format!("{}: {e}", rootless.display())),
                }
            }
        }
        Err(unavailable(&checked.join(", ")))
    }

    async fn check_docker_host(&self, host: &str) -> Result<DockerEngine, String> {
        let engine = DockerEngine {
            host: host.to_string(),
        };
        if let Some(path) = host.strip_prefix("unix://") {
            let path = Path::new(path);
            if !path.exists() {
                return Err(format!("no {}", path.display()));
            }
            return self.ping_unix(path).await.map(|()| engine);
        }
        let url = url::Url::parse(host).map_err(|e| format!("not a URL: {e}"))?;
        let tls = url.scheme() == "https" || self.tls_verify;
        match url.scheme() {
            "tcp" | "http" | "https" => {}
            "npipe" if cfg!(windows) => return Ok(engine), // named pipes are not probed
            other => {
                return Err(format!(
                    "scheme {other}:// is not one testcontainers understands \
                     (unix, tcp, http, https, npipe)"
                ))
            }
        }
        let host_name = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("no host name")?;
        let port = url.port().unwrap_or(if tls { 2376 } else { 2375 });
        let address = format!("{host_name}:{port}");
        let connect = tokio::net::TcpStream::connect(&address);
        let stream = match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return Err(format!("cannot connect to {address}: {e}")),
            Err(_) => {
                return Err(format!(
                    "{address} did not accept a connection within {}",
                    secs(self.timeout)
                ))
            }
        };
        if tls {
            // Speaking TLS with client certificates is testcontainers' job; reachability is
            // what can be checked here.
            return Ok(engine);
        }
        self.ping(stream).await.map(|()| engine)
    }

    #[cfg(unix)]
    async fn ping_unix(&self, path: &Path) -> Result<(), String> {
        match tokio::time::timeout(self.timeout, tokio::net::UnixStream::connect(path)).await {
            Ok(Ok(stream)) => self.ping(stream).await,
            Ok(Err(e)) => Err(format!("cannot connect: {e}")),
            Err(_) => Err(format!(
                "did not accept a connection within {}",
                secs(self.timeout)
            )),
        }
    }

    #[cfg(not(unix))]
    async fn ping_unix(&self, _path: &Path) -> Result<(), String> {
        Err("unix sockets are not supported on this platform".into())
    }

    async fn ping<S: AsyncRead + AsyncWrite + Unpin>(&self, stream: S) -> Result<(), String> {
        match tokio::time::timeout(self.timeout, ping(stream)).await {
            Ok(answer) => answer,
            Err(_) => Err(format!(
                "did not answer GET /_ping within {}",
                secs(self.timeout)
            )),
        }
    }
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// `GET /_ping` over a raw connection; only the status line matters (`OK` is the body).
async fn ping<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> Result<(), String> {
    let request = b"GET /_ping HTTP/1.0\r\nHost: docker\r\nConnection: close\r\n\r\n";
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("GET /_ping: {e}"))?;
    let mut head = Vec::new();
    let mut chunk = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 4096 {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("GET /_ping: {e}"))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or_default();
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        _ if status_line.is_empty() => Err("GET /_ping: no answer".into()),
        _ => Err(format!("GET /_ping answered {status_line:?}")),
    }
}

// ---------------------------------------------------------------------------------------------
// The container

/// The running container and the admin API on it.
struct Keycloak {
    container: ContainerAsync<GenericImage>,
    admin: Arc<AdminApi>,
}

impl std::fmt::Debug for Keycloak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keycloak")
            .field("container", &self.container.id())
            .field("base", &self.admin.base)
            .finish()
    }
}

impl Keycloak {
    async fn start(image: &str, engine: &DockerEngine) -> Result<Keycloak, BackendError> {
        let password = Secret::new(
            rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(32)
                .map(char::from)
                .collect::<String>(),
        );
        let failed = |message: String| BackendError::Failed {
            backend: NAME,
            message: redact_all(&message, &[&password]),
        };
        let (name, tag) = split_image(image);
        let container = GenericImage::new(name, tag)
            .with_exposed_port(HTTP_PORT.tcp())
            .with_exposed_port(MANAGEMENT_PORT.tcp())
            .with_cmd(["start-dev"])
            .with_env_var("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN_USER)
            .with_env_var("KC_BOOTSTRAP_ADMIN_PASSWORD", password.expose())
            .with_env_var("KC_HEALTH_ENABLED", "true")
            .with_label(LABEL.0, LABEL.1)
            .with_startup_timeout(READY_TIMEOUT)
            .start()
            .await
            .map_err(|e| failed(format!("cannot start {image} on {}: {e}", engine.host)))?;

        let host = container
            .get_host()
            .await
            .map_err(|e| failed(format!("container host: {e}")))?;
        // Docker maps ports on IPv4 and IPv6 separately; pin the IPv4 one so `localhost`
        // resolving to ::1 cannot land on another port.
        let host = match host {
            url::Host::Domain(d) if d == "localhost" => "127.0.0.1".to_string(),
            other => other.to_string(),
        };
        let port = |p: u16| {
            let container = &container;
            async move {
                container
                    .get_host_port_ipv4(p.tcp())
                    .await
                    .map_err(|e| format!("no host port for container port {p}: {e}"))
            }
        };
        let http_port = port(HTTP_PORT).await.map_err(failed)?;
        let management_port = port(MANAGEMENT_PORT).await.map_err(failed)?;

        let http = http_client().map_err(failed)?;
        let health = format!("http://{host}:{management_port}/health/ready");
        if let Err(e) = wait_ready(&http, &health, READY_TIMEOUT).await {
            let logs = container.stdout_to_vec().await.unwrap_or_default();
            let logs = String::from_utf8_lossy(&logs);
            let tail: Vec<&str> = logs.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(failed(format!(
                "Keycloak ({image}, container {}) is not ready: {e}; last log lines:\n{}",
                container.id(),
                tail.join("\n")
            )));
        }
        let admin = AdminApi::new(http, format!("http://{host}:{http_port}"), password);
        Ok(Keycloak {
            container,
            admin: Arc::new(admin),
        })
    }
}

/// `registry:5000/keycloak:26.0` → (`registry:5000/keycloak`, `26.0`); no tag → `latest`;
/// a digest (`…@sha256:…`) splits at its colon, which testcontainers joins back.
fn split_image(image: &str) -> (String, String) {
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => (
            image[..name_start + i].to_string(),
            image[name_start + i + 1..].to_string(),
        ),
        None => (image.to_string(), "latest".to_string()),
    }
}

fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        // The container is reached directly, never through a proxy from the environment.
        .no_proxy()
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// Polls `url` until it answers 200, for at most `limit`.
async fn wait_ready(http: &reqwest::Client, url: &str, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        let last = match http.get(url).timeout(PING_TIMEOUT).send().await {
            Ok(r) if r.status() == StatusCode::OK => return Ok(()),
            Ok(r) => format!("answered {}", r.status()),
            Err(e) => transport(e),
        };
        if Instant::now() >= deadline {
            return Err(format!(
                "GET {url} did not answer 200 within {} (last: {last})",
                secs(limit)
            ));
        }
        tokio::time::sleep(Duration::from_millis(500).min(limit)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The admin REST API

#[derive(Debug)]
struct AdminApi {
    http: reqwest::Client,
    /// `http://host:port`, without a trailing slash.
    base: String,
    password: Secret,
    token: Mutex<Option<AdminToken>>,
}

#[derive(Debug)]
struct AdminToken {
    value: Secret,
    renew_at: Instant,
}

const TOKEN_PATH: &str = "/realms/master/protocol/openid-connect/token";

impl AdminApi {
    fn new(http: reqwest::Client, base: String, password: Secret) -> AdminApi {
        AdminApi {
            http,
            base,
            password,
            token: Mutex::new(None),
        }
    }

    fn failed(&self, what: &str, message: impl std::fmt::Display) -> BackendError {
        BackendError::Failed {
            backend: NAME,
            message: redact_all(&format!("{what}: {message}"), &[&self.password]),
        }
    }

    /// The master realm's admin token, renewed well before it expires (Keycloak's default
    /// lifetime for it is 60 s).
    async fn token(&self) -> Result<Secret, BackendError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let what = format!("POST {TOKEN_PATH}");
        let form = [
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", ADMIN_USER),
            ("password", self.password.expose()),
        ];
        let response = self
            .http
            .post(format!("{}{TOKEN_PATH}", self.base))
            .form(&form)
            .send()
            .await
            .map_err(|e| self.failed(&what, transport(e)))?;
        let (status, _, body) = self.read(&what, response, &[]).await?;
        if !status.is_success() {
            return Err(self.failed(&what, format!("{status}: {}", excerpt(&body))));
        }
        let json: Value = serde_json::from_str(&body)
            .map_err(|e| self.failed(&what, format!("not JSON: {e}")))?;
        let value = json["access_token"]
            .as_str()
            .map(Secret::from)
            .ok_or_else(|| self.failed(&what, "no access_token in the answer"))?;
        let lifetime = json["expires_in"].as_u64().unwrap_or(60);
        let renew_in = Duration::from_secs(lifetime.saturating_sub(15).max(lifetime / 2));
        *cached = Some(AdminToken {
            value: value.clone(),
            renew_at: Instant::now() + renew_in,
        });
        Ok(value)
    }

    async fn read(
        &self,
        what: &str,
        response: reqwest::Response,
        secrets: &[&Secret],
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, String), BackendError> {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .text()
            .await
            .map_err(|e| self.failed(what, transport(e)))?;
        let mut all = vec![&self.password];
        all.extend_from_slice(secrets);
        Ok((status, headers, redact_all(&body, &all)))
    }

    /// One admin call. A 401 (token revoked or expired early) renews the token once.
    /// Anything but 2xx is a `Failed` naming the request, the status and the answer.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(reqwest::header::HeaderMap, String), BackendError> {
        let what = describe(&method, path, query);
        let mut retried = false;
        loop {
            let token = self.token().await?;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(token.expose());
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|e| self.failed(&what, transport(e)))?;
            let (status, headers, text) = self.read(&what, response, &[&token]).await?;
            if status == StatusCode::UNAUTHORIZED && !retried {
                retried = true;
                self.token.lock().await.take();
                continue;
            }
            if !status.is_success() {
                return Err(self.failed(&what, format!("{status}: {}", excerpt(&text))));
            }
            return Ok((headers, text));
        }
    }

    async fn get_json(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, BackendError> {
        let (_, text) = self.call(Method::GET, path, query, None).await?;
        serde_json::from_str(&text).map_err(|e| {
            self.failed(
                &describe(&Method::GET, path, query),
                format!("not JSON: {e}"),
            )
        })
    }
}

fn describe(method: &Method, path: &str, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        format!("{method} {path}")
    } else {
        let q = query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        format!("{method} {path}?{q}")
    }
}

/// A transport error with its causes ("error sending request" alone says little), without the
/// URL, which the message already names.
fn transport(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return "(empty answer)".into();
    }
    match body.char_indices().nth(BODY_EXCERPT) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// One scenario's realm

struct KeycloakIdp {
    admin: Arc<AdminApi>,
    realm: String,
    realm_id: String,
    fixture: RealmFixture,
    user_ids: StdMutex<HashMap<String, String>>,
    rotations: AtomicUsize,
}

impl KeycloakIdp {
    /// Creates realm copy number `n` of the fixture and looks up its users' ids.
    async fn create(
        admin: Arc<AdminApi>,
        fixture: RealmFixture,
        n: usize,
    ) -> Result<KeycloakIdp, BackendError> {
        let base_name = fixture.realm_name();
        if base_name.is_empty() {
            return Err(BackendError::Failed {
                backend: NAME,
                message: format!(
                    "{}: the realm export has no \"realm\" name",
                    fixture.path.display()
                ),
            });
        }
        let realm = format!("{base_name}-{n}");
        let copy = realm_copy(&fixture.json, &realm);
        admin
            .call(Method::POST, "/admin/realms", &[], Some(&copy))
            .await?;

        let path = format!("/admin/realms/{realm}");
        let rep = admin.get_json(&path, &[]).await?;
        let realm_id = rep["id"]
            .as_str()
            .ok_or_else(|| admin.failed(&format!("GET {path}"), "no realm id in the answer"))?
            .to_string();
        let idp = KeycloakIdp {
            admin,
            realm,
            realm_id,
            fixture,
            user_ids: StdMutex::new(HashMap::new()),
            rotations: AtomicUsize::new(0),
        };
        // `user_id` is synchronous: look the fixture's users up now (their ids differ from the
        // fixture's, see `realm_copy`).
        let usernames: Vec<String> = idp.fixture.json["users"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u["username"].as_str().map(str::to_string))
            .collect();
        for username in usernames {
            idp.lookup_user(&username).await?;
        }
        Ok(idp)
    }

    fn realm_path(&self, rest: &str) -> String {
        format!("/admin/realms/{}{rest}", self.realm)
    }

    fn failed(&self, message: impl Into<String>) -> BackendError {
        BackendError::Failed {
            backend: NAME,
            message: message.into(),
        }
    }

    /// The user's id in this realm: cached, else `GET …/users?username=…&exact=true`.
    async fn lookup_user(&self, username: &str) -> Result<String, BackendError> {
        if let Some(id) = self.user_ids.lock().unwrap().get(username) {
            return Ok(id.clone());
        }
        let path = self.realm_path("/users");
        let users = self
            .admin
            .get_json(&path, &[("username", username), ("exact", "true")])
            .await?;
        let id = users
            .as_array()
            .and_then(|us| {
                us.iter().find(|u| {
                    u["username"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(username))
                })
            })
            .and_then(|u| u["id"].as_str())
            .ok_or_else(|| self.failed(format!("no user {username:?} in realm {}", self.realm)))?
            .to_string();
        self.user_ids
            .lock()
            .unwrap()
            .insert(username.to_string(), id.clone());
        Ok(id)
    }

    /// The application client's internal id and its `groups` protocol mapper.
    async fn group_mapper(&self) -> Result<(String, Value), BackendError> {
        let client_id = self.fixture.app_client().client_id;
        let clients = self
            .admin
            .get_json(&self.realm_path("/clients"), &[("clientId", &client_id)])
            .await?;
        let client = clients
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["clientId"] == client_id.as_str()))
            .and_then(|c| c["id"].as_str())
            .ok_or_else(|| self.failed(format!("no client {client_id:?} in realm {}", self.realm)))?
            .to_string();
        let mappers = self
            .admin
            .get_json(
                &self.realm_path(&format!("/clients/{client}/protocol-mappers/models")),
                &[],
            )
            .await?;
        let mapper = mappers
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["name"] == GROUP_MAPPER))
            .cloned()
            .ok_or_else(|| {
                self.failed(format!(
                    "client {client_id:?} has no protocol mapper named {GROUP_MAPPER:?}"
                ))
            })?;
        Ok((client, mapper))
    }

    fn mapper_path(&self, client: &str, mapper: &Value) -> Result<String, BackendError> {
        let id = mapper["id"]
            .as_str()
            .ok_or_else(|| self.failed(format!("the {GROUP_MAPPER:?} mapper has no id")))?;
        Ok(self.realm_path(&format!("/clients/{client}/protocol-mappers/models/{id}")))
    }
}

const GROUP_MAPPER: &str = "groups";

/// Without the fixture's JSON, which holds the test users' passwords and the client secret.
impl std::fmt::Debug for KeycloakIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeycloakIdp")
            .field("issuer", &self.issuer())
            .field("realm_id", &self.realm_id)
            .field("fixture", &self.fixture.path)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Idp for KeycloakIdp {
    fn backend(&self) -> &'static str {
        NAME
    }

    fn issuer(&self) -> String {
        format!("{}/realms/{}", self.admin.base, self.realm)
    }

    fn client(&self) -> ClientRegistration {
        self.fixture.app_client()
    }

    fn password(&self, username: &str) -> Option<Secret> {
        self.fixture.password(username)
    }

    fn user_id(&self, username: &str) -> Option<String> {
        self.user_ids.lock().unwrap().get(username).cloned()
    }

    async fn rotate_keys(&self) -> Result<String, BackendError> {
        let n = self.rotations.fetch_add(1, Ordering::Relaxed) + 1;
        let keys_path = self.realm_path("/keys");
        let before = self.admin.get_json(&keys_path, &[]).await?;
        let priority = next_priority(&before);
        let component = key_component(&format!("rotated-{n}"), &self.realm_id, priority);
        let (headers, _) = self
            .admin
            .call(
                Method::POST,
                &self.realm_path("/components"),
                &[],
                Some(&component),
            )
            .await?;
        let component_id = headers
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
            .map(str::to_string);
        let after = self.admin.get_json(&keys_path, &[]).await?;
        new_active_kid(&after, component_id.as_deref(), priority)
            .map_err(|e| self.failed(format!("key rotation in realm {}: {e}", self.realm)))
    }

    async fn set_user_enabled(&self, username: &str, enabled: bool) -> Result<(), BackendError> {
        let id = self.lookup_user(username).await?;
        let path = self.realm_path(&format!("/users/{id}"));
        // PUT the whole representation back: a partial one can clear profile attributes.
        let mut user = self.admin.get_json(&path, &[]).await?;
        user["enabled"] = Value::Bool(enabled);
        self.admin
            .call(Method::PUT, &path, &[], Some(&user))
            .await?;
        Ok(())
    }

    async fn set_group_mapper_full_path(&self, value: Option<&str>) -> Result<(), BackendError> {
        let (client, mapper) = self.group_mapper().await?;
        let path = self.mapper_path(&client, &mapper)?;
        let updated = with_full_path(&mapper, value);
        self.admin
            .call(Method::PUT, &path, &[], Some(&updated))
            .await?;
        Ok(())
    }

    async fn remove_group_mapper(&self) -> Result<(), BackendError> {
        let (client, mapper) = self.group_mapper().await?;
        let path = self.mapper_path(&client, &mapper)?;
        self.admin.call(Method::DELETE, &path, &[], None).await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// JSON the admin API takes

/// Keys whose string values are entity ids, and keys that refer to one.
const ID_KEYS: [&str; 3] = ["id", "_id", "internalId"];
const REFERENCE_KEYS: [&str; 2] = ["containerId", "parentId"];

/// The fixture as realm `name`. Keycloak's ids are primary keys across all realms, so a second
/// copy carrying the fixture's realm, user, group or client ids would be refused as a conflict:
/// every id becomes a UUID derived from (`name`, old id), and references to it (`containerId`,
/// `parentId`) follow. Nothing else changes.
fn realm_copy(fixture: &Value, name: &str) -> Value {
    let mut ids = HashMap::new();
    collect_ids(fixture, name, &mut ids);
    let mut copy = fixture.clone();
    rewrite_ids(&mut copy, &ids);
    if let Some(realm) = copy.as_object_mut() {
        realm.insert("realm".into(), Value::String(name.to_string()));
    }
    copy
}

fn copy_id(realm: &str, old: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("ssoproof:keycloak:{realm}:{old}").as_bytes(),
    )
    .to_string()
}

fn collect_ids(value: &Value, realm: &str, ids: &mut HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match v {
                    Value::String(old) if ID_KEYS.contains(&key.as_str()) => {
                        ids.entry(old.clone())
                            .or_insert_with(|| copy_id(realm, old));
                    }
                    _ => collect_ids(v, realm, ids),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, realm, ids)),
        _ => {}
    }
}

fn rewrite_ids(value: &mut Value, ids: &HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let is_id =
                    ID_KEYS.contains(&key.as_str()) || REFERENCE_KEYS.contains(&key.as_str());
                match v {
                    Value::String(s) if is_id => {
                        if let Some(new) = ids.get(s.as_str()) {
                            *s = new.clone();
                        }
                    }
                    _ => rewrite_ids(v, ids),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_ids(v, ids)),
        _ => {}
    }
}

/// An `rsa-generated` key provider for the realm with internal id `realm_id`.
fn key_component(name: &str, realm_id: &str, priority: i64) -> Value {
    json!({
        "name": name,
        "providerId": "rsa-generated",
        "providerType": "org.keycloak.keys.KeyProvider",
        "parentId": realm_id,
        "config": {
            "priority": [priority.to_string()],
            "enabled": ["true"],
            "active": ["true"],
            "algorithm": ["RS256"],
        },
    })
}

/// A priority above every key the realm has (`GET …/keys`); 200 for a fresh realm, whose
/// generated keys sit at 100.
fn next_priority(keys: &Value) -> i64 {
    let highest = keys["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| match &k["providerPriority"] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    highest.max(100) + 100
}

/// The kid of the key the new component made, which must now be the active RS256 key.
fn new_active_kid(
    keys: &Value,
    component_id: Option<&str>,
    priority: i64,
) -> Result<String, String> {
    let active = keys["active"]["RS256"]
        .as_str()
        .ok_or("no active RS256 key after rotation")?;
    let mut listed = keys["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|k| k["algorithm"] == "RS256");
    let new = match component_id {
        Some(id) => listed.find(|k| k["providerId"] == id),
        None => listed.find(|k| k["kid"] == active && k["providerPriority"] == priority),
    };
    let kid = new
        .and_then(|k| k["kid"].as_str())
        .ok_or("the new key provider has no RS256 key")?;
    if kid != active {
        return Err(format!(
            "the new key {kid} is not the active RS256 key ({active})"
        ));
    }
    Ok(kid.to_string())
}

/// The mapper with `config."full.path"` set to `value`, or without that key (Keycloak then
/// emits plain group names: it tests `"true".equals(config.get("full.path"))`).
fn with_full_path(mapper: &Value, value: Option<&str>) -> Value {
    let mut mapper = mapper.clone();
    if !mapper["config"].is_object() {
        mapper["config"] = json!({});
    }
    let config = mapper["config"]
        .as_object_mut()
        .expect("config is an object");
    match value {
        Some(v) => {
            config.insert("full.path".into(), Value::String(v.to_string()));
        }
        None => {
            config.remove("full.path");
        }
    }
    mapper
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain timeout guard: detection must never hang a run.
    const GUARD: Duration = Duration::from_secs(3);

    /// A realm export shaped like the fixture: realm `acme`, confidential `acme-app` with a
    /// `groups` mapper, alice and bob with passwords and group paths.
    const TEST_REALM: &str = r#"{
      "id": "acme",
      "realm": "acme",
      "enabled": true,
      "sslRequired": "none",
      "groups": [
        {"id": "7d0b3c52-0000-4000-8000-000000000001", "name": "engineers", "path": "/engineers",
         "subGroups": [{"id": "7d0b3c52-0000-4000-8000-000000000002", "name": "oncall",
                        "path": "/engineers/oncall"}]},
        {"id": "7d0b3c52-0000-4000-8000-000000000003", "name": "finance", "path": "/finance"}
      ],
      "roles": {"realm": [{"id": "7d0b3c52-0000-4000-8000-000000000009", "name": "auditor", "containerId": "acme"}]},
      "users": [
        {"id": "11111111-1111-4111-8111-111111111111", "username": "alice", "enabled": true,
         "email": "alice@acme.test", "emailVerified": true, "firstName": "Alice", "lastName": "Admin",
         "credentials": [{"type": "password", "value": "alice-password", "temporary": false}],
         "groups": ["/engineers", "/engineers/oncall"]},
        {"id": "22222222-2222-4222-8222-222222222222", "username": "bob", "enabled": true,
         "email": "bob@acme.test", "emailVerified": true, "firstName": "Bob", "lastName": "Builder",
         "credentials": [{"type": "password", "value": "bob-password", "temporary": false}],
         "groups": ["/finance"]}
      ],
      "clients": [
        {"id": "33333333-3333-4333-8333-333333333333", "clientId": "acme-app", "enabled": true,
         "publicClient": false, "secret": "acme-app-secret",
         "redirectUris": ["http://127.0.0.1/*"], "standardFlowEnabled": true,
         "directAccessGrantsEnabled": true,
         "attributes": {"pkce.code.challenge.method": "S256"},
         "protocolMappers": [
           {"id": "44444444-4444-4444-8444-444444444444", "name": "groups", "protocol": "openid-connect",
            "protocolMapper": "oidc-group-membership-mapper", "consentRequired": false,
            "config": {"claim.name": "groups", "full.path": "true", "id.token.claim": "true",
                       "access.token.claim": "true", "userinfo.token.claim": "true"}}
         ]}
      ]
    }"#;

    fn test_realm() -> Value {
        serde_json::from_str(TEST_REALM).unwrap()
    }

    fn write_fixture(dir: &Path) -> PathBuf {
        let path = dir.join("keycloak-realm.json");
        std::fs::write(&path, TEST_REALM).unwrap();
        path
    }

    /// A probe that looks only inside `dir`, where nothing exists unless a test puts it there.
    fn probe_in(dir: &Path) -> DockerProbe {
        DockerProbe {
            docker_host: None,
            tls_verify: false,
            default_socket: dir.join("var/run/docker.sock"),
            runtime_dir: Some(dir.join("run")),
            home: Some(dir.join("home")),
            timeout: PING_TIMEOUT,
        }
    }

    async fn guarded<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(GUARD, future)
            .await
            .unwrap_or_else(|_| panic!("{what} took longer than {GUARD:?}"))
    }

    // --- Docker detection -------------------------------------------------------------------

    #[tokio::test]
    async fn no_docker_is_unavailable_and_names_what_was_checked() {
        let dir = tempfile::tempdir().unwrap();
        let probe = probe_in(dir.path());
        let reason = guarded("the probe", probe.check()).await.unwrap_err();
        let d = dir.path().display();
        for expected in [
            "no Docker engine (DOCKER_HOST unset".to_string(),
            format!("no {d}/var/run/docker.sock"),
            format!("no {d}/run/.docker/run/docker.sock"),
            format!("no {d}/home/.docker/run/docker.sock"),
            format!("no {d}/home/.docker/desktop/docker.sock"),
            format!("no {d}/run/docker.sock"),
            format!("); {SKIP_HINT}"),
        ] {
            assert!(
                reason.contains(&expected),
                "{expected:?} missing from {reason:?}"
            );
        }
    }

    #[tokio::test]
    async fn unset_base_directories_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let probe = DockerProbe {
            runtime_dir: None,
            home: None,
            ..probe_in(dir.path())
        };
        let reason = probe.check().await.unwrap_err();
        assert!(reason.contains("XDG_RUNTIME_DIR unset"), "{reason}");
        assert!(reason.contains("HOME unset"), "{reason}");
    }

    #[tokio::test]
    async fn backend_without_docker_is_unavailable_and_never_starts_a_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let backend = KeycloakContainerBackend::new(write_fixture(dir.path()))
            .with_probe(probe_in(dir.path()));
        assert_eq!(backend.name(), "keycloak");
        assert_eq!(backend.capabilities(), &[Capability::RealmAdmin]);

        let error = guarded("availability", backend.availability())
            .await
            .unwrap_err();
        assert_eq!(error.code(), "backend/unavailable");
        let BackendError::Unavailable {
            backend: name,
            reason,
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(*name, "keycloak");
        assert!(
            reason.starts_with("no Docker engine (DOCKER_HOST unset, no "),
            "{reason}"
        );
        assert!(
            error
                .to_string()
                .starts_with("keycloak is not available here: no Docker engine"),
            "{error}"
        );

        let error = guarded("start_scenario", backend.start_scenario(&[]))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "backend/unavailable", "{error}");
    }

    /// The real environment, whatever it is: the answer comes quickly, and a refusal says what
    /// was checked.
    #[tokio::test]
    async fn availability_from_the_environment_answers_quickly() {
        let backend = KeycloakContainerBackend::new(PathBuf::from("/nonexistent/realm.json"));
        match guarded("the probe", backend.probe.check()).await {
            Ok(engine) => eprintln!("Docker found at {}", engine.host),
            Err(reason) => {
                eprintln!("{reason}");
                assert!(
                    reason.starts_with("no Docker engine (") && reason.contains("DOCKER_HOST"),
                    "{reason}"
                );
                assert!(reason.ends_with(SKIP_HINT), "{reason}");
            }
        }
    }

    #[cfg(unix)]
    fn fake_docker_socket(
        path: &Path,
        answer: Option<&'static [u8]>,
    ) -> tokio::task::JoinHandle<()> {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let listener = tokio::net::UnixListener::bind(path).unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                match answer {
                    Some(answer) => {
                        let _ = stream.write_all(answer).await;
                    }
                    None => held.push(stream), // accept, then say nothing
                }
            }
        })
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_socket_that_answers_ping_is_an_engine() {
        let dir = tempfile::tempdir().unwrap();
        let probe = probe_in(dir.path());
        let server = fake_docker_socket(
            &probe.default_socket,
            Some(b"HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nContent-Length: 2\r\n\r\nOK"),
        );
        let engine = guarded("the probe", probe.check()).await.unwrap();
        assert_eq!(
            engine.host,
            format!("unix://{}", probe.default_socket.display())
        );
        server.abort();
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_silent_socket_counts_as_absent_within_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let probe = probe_in(dir.path());
        let server = fake_docker_socket(&probe.default_socket, None);
        let reason = guarded("the probe", probe.check()).await.unwrap_err();
        let expected = format!(
            "{}: did not answer GET /_ping within 2 s",
            probe.default_socket.display()
        );
        assert!(reason.contains(&expected), "{reason}");
        assert!(reason.ends_with(SKIP_HINT), "{reason}");
        server.abort();
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_socket_answering_an_error_or_a_stale_file_counts_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let probe = probe_in(dir.path());
        let server = fake_docker_socket(
            &probe.default_socket,
            Some(b"HTTP/1.1 500 Internal Server Error\r\n\r\n"),
        );
        let reason = probe.check().await.unwrap_err();
        assert!(
            reason.contains("GET /_ping answered \"HTTP/1.1 500 Internal Server Error\""),
            "{reason}"
        );
        server.abort();

        let dir = tempfile::tempdir().unwrap();
        let probe = probe_in(dir.path());
        std::fs::create_dir_all(probe.default_socket.parent().unwrap()).unwrap();
        std::fs::write(&probe.default_socket, "").unwrap();
        let reason = probe.check().await.unwrap_err();
        assert!(
            reason.contains(&format!(
                "{}: cannot connect",
                probe.default_socket.display()
            )),
            "{reason}"
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_rootless_socket_alone_gets_docker_host_advice() {
        let dir = tempfile::tempdir().unwrap();
        let probe = probe_in(dir.path());
        let rootless = dir.path().join("run/docker.sock");
        let server = fake_docker_socket(&rootless, Some(b"HTTP/1.1 200 OK\r\n\r\nOK"));
        let reason = probe.check().await.unwrap_err();
        assert!(
            reason.contains(&format!("set DOCKER_HOST=unix://{}", rootless.display())),
            "{reason}"
        );
        server.abort();
    }

    #[tokio::test]
    async fn docker_host_is_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let with_host = |host: &str| DockerProbe {
            docker_host: Some(host.to_string()),
            ..probe_in(dir.path())
        };

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
                    .await;
            }
        });
        let host = format!("tcp://{address}");
        assert_eq!(
            guarded("tcp", with_host(&host).check()).await.unwrap().host,
            host
        );
        server.abort();

        let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let reason = guarded("tcp", with_host(&format!("tcp://{closed}")).check())
            .await
            .unwrap_err();
        assert!(
            reason.starts_with(&format!(
                "no Docker engine (DOCKER_HOST=tcp://{closed}: cannot connect"
            )),
            "{reason}"
        );

        let missing = dir.path().join("nowhere.sock");
        let reason = with_host(&format!("unix://{}", missing.display()))
            .check()
            .await
            .unwrap_err();
        assert!(
            reason.contains(&format!(
                "DOCKER_HOST=unix://{0}: no {0}",
                missing.display()
            )),
            "{reason}"
        );

        let reason = with_host("ssh://builder@example.test")
            .check()
            .await
            .unwrap_err();
        assert!(
            reason.contains("scheme ssh:// is not one testcontainers understands"),
            "{reason}"
        );
    }

    // --- JSON ------------------------------------------------------------------------------

    #[test]
    fn images_split_into_name_and_tag() {
        let split = |s| split_image(s);
        assert_eq!(
            split(DEFAULT_IMAGE),
            ("quay.io/keycloak/keycloak".into(), "26.0".into())
        );
        assert_eq!(
            split("localhost:5000/keycloak"),
            ("localhost:5000/keycloak".into(), "latest".into())
        );
        assert_eq!(
            split("localhost:5000/kc:nightly"),
            ("localhost:5000/kc".into(), "nightly".into())
        );
        let (name, tag) = split("quay.io/keycloak/keycloak@sha256:abc");
        assert_eq!(
            format!("{name}:{tag}"),
            "quay.io/keycloak/keycloak@sha256:abc"
        );
    }

    #[test]
    fn a_realm_copy_is_renamed_with_fresh_ids_and_loses_nothing() {
        let fixture = test_realm();
        let copy = realm_copy(&fixture, "acme-7");
        assert_eq!(copy["realm"], "acme-7");

        // Ids are new, deterministic, distinct per copy, and references follow them.
        let realm_id = copy["id"].as_str().unwrap();
        assert_ne!(realm_id, "acme");
        assert_eq!(realm_id, copy_id("acme-7", "acme"));
        assert_eq!(copy["roles"]["realm"][0]["containerId"], realm_id);
        let alice = copy["users"][0]["id"].as_str().unwrap();
        assert_ne!(alice, fixture["users"][0]["id"]);
        assert_eq!(copy, realm_copy(&fixture, "acme-7"));
        assert_ne!(realm_copy(&fixture, "acme-8")["users"][0]["id"], alice);

        // Mapping every id back gives the fixture again, save the name: nothing else changed.
        let mut ids = HashMap::new();
        collect_ids(&fixture, "acme-7", &mut ids);
        assert_eq!(ids.len(), 9, "{ids:?}"); // realm, 3 groups, role, 2 users, client, mapper
        let back: HashMap<String, String> = ids.into_iter().map(|(old, new)| (new, old)).collect();
        let mut restored = copy.clone();
        rewrite_ids(&mut restored, &back);
        restored["realm"] = fixture["realm"].clone();
        assert_eq!(restored, fixture);

        // Passwords, group paths and the mapper config are untouched.
        assert_eq!(
            copy["users"][0]["credentials"][0]["value"],
            "alice-password"
        );
        assert_eq!(
            copy["users"][0]["groups"],
            json!(["/engineers", "/engineers/oncall"])
        );
        assert_eq!(
            copy["clients"][0]["protocolMappers"][0]["config"]["full.path"],
            "true"
        );
    }

    #[test]
    fn a_key_component_outranks_every_existing_key() {
        assert_eq!(
            key_component("rotated-1", "realm-uuid", 200),
            json!({
                "name": "rotated-1",
                "providerId": "rsa-generated",
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": "realm-uuid",
                "config": {"priority": ["200"], "enabled": ["true"], "active": ["true"], "algorithm": ["RS256"]},
            })
        );
        let keys = json!({"keys": [
            {"kid": "a", "algorithm": "RS256", "providerPriority": 100},
            {"kid": "h", "algorithm": "HS512", "providerPriority": 150},
        ]});
        assert_eq!(next_priority(&keys), 250);
        assert_eq!(next_priority(&json!({"keys": []})), 200);
        assert_eq!(
            next_priority(&json!({"keys": [{"providerPriority": "300"}]})),
            400
        );
    }

    #[test]
    fn the_new_key_must_be_the_active_one() {
        let keys = |active: &str| {
            json!({"active": {"RS256": active, "HS512": "h"}, "keys": [
                {"kid": "old", "algorithm": "RS256", "providerId": "c-old", "providerPriority": 100},
                {"kid": "new", "algorithm": "RS256", "providerId": "c-new", "providerPriority": 200},
                {"kid": "h", "algorithm": "HS512", "providerId": "c-h", "providerPriority": 100},
            ]})
        };
        assert_eq!(
            new_active_kid(&keys("new"), Some("c-new"), 200),
            Ok("new".into())
        );
        assert_eq!(new_active_kid(&keys("new"), None, 200), Ok("new".into()));
        let err = new_active_kid(&keys("old"), Some("c-new"), 200).unwrap_err();
        assert_eq!(err, "the new key new is not the active RS256 key (old)");
        assert!(new_active_kid(&keys("new"), Some("c-missing"), 200).is_err());
        assert!(new_active_kid(&json!({}), None, 200).is_err());
    }

    #[test]
    fn the_group_mapper_gets_full_path_set_or_removed() {
        let mapper = test_realm()["clients"][0]["protocolMappers"][0].clone();
        let off = with_full_path(&mapper, Some("false"));
        assert_eq!(off["config"]["full.path"], "false");
        let removed = with_full_path(&mapper, None);
        assert!(removed["config"].get("full.path").is_none());
        assert_eq!(removed["config"]["claim.name"], "groups");
        assert_eq!(removed["id"], mapper["id"]);
        assert_eq!(
            with_full_path(&json!({"name": "groups"}), Some("true"))["config"],
            json!({"full.path": "true"})
        );
    }

    // --- The admin API against a fake Keycloak ------------------------------------------------

    #[derive(Debug, Clone)]
    struct Seen {
        method: String,
        target: String,
        auth: Option<String>,
        body: String,
    }

    type Answer = (u16, Vec<(String, String)>, String);

    /// A one-request-per-connection HTTP server; `handler` answers, every request is recorded.
    async fn serve(
        handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static,
    ) -> (String, Arc<StdMutex<Vec<Seen>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(StdMutex::new(Vec::new()));
        let log = seen.clone();
        let handler = Arc::new(handler);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (log, handler) = (log.clone(), handler.clone());
                tokio::spawn(async move {
                    let mut data = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let head_end = loop {
                        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => data.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
                    let header = |name: &str| {
                        head.lines().find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                        })
                    };
                    let length: usize = header("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    while data.len() < head_end + length {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => data.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let mut request_line =
                        head.lines().next().unwrap_or_default().split_whitespace();
                    let seen = Seen {
                        method: request_line.next().unwrap_or_default().to_string(),
                        target: request_line.next().unwrap_or_default().to_string(),
                        auth: header("authorization"),
                        body: String::from_utf8_lossy(&data[head_end..head_end + length])
                            .to_string(),
                    };
                    let (status, headers, body) = handler(&seen);
                    log.lock().unwrap().push(seen);
                    let mut response = format!(
                        "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        response.push_str(&format!("{k}: {v}\r\n"));
                    }
                    response.push_str("\r\n");
                    response.push_str(&body);
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        (base, seen)
    }

    /// Just enough of Keycloak's admin API for the operations above.
    #[derive(Default)]
    struct FakeKeycloak {
        realms: HashMap<String, Value>,
        tokens: usize,
        /// Answer the next admin call with 401, as for a token that expired early.
        reject_next: bool,
        keys: Vec<Value>,
        active: String,
    }

    const ADMIN_PASSWORD: &str = "pw-very-secret";

    fn fake_keycloak(
        state: Arc<StdMutex<FakeKeycloak>>,
    ) -> impl Fn(&Seen) -> Answer + Send + Sync + 'static {
        move |req: &Seen| {
            let mut kc = state.lock().unwrap();
            let ok = |body: Value| (200, vec![], body.to_string());
            if req.target == TOKEN_PATH {
                let expected = format!("password={ADMIN_PASSWORD}");
                if req.method == "POST"
                    && req.body.contains("grant_type=password")
                    && req.body.contains("client_id=admin-cli")
                    && req.body.contains("username=admin")
                    && req.body.contains(&expected)
                {
                    kc.tokens += 1;
                    return ok(
                        json!({"access_token": format!("tok-{}", kc.tokens), "expires_in": 60}),
                    );
                }
                return (401, vec![], r#"{"error":"invalid_grant"}"#.into());
            }
            let current = format!("Bearer tok-{}", kc.tokens);
            if kc.reject_next || req.auth.as_deref() != Some(current.as_str()) {
                kc.reject_next = false;
                return (401, vec![], String::new());
            }
            let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
            let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            match (req.method.as_str(), segments.as_slice()) {
                ("POST", ["admin", "realms"]) => {
                    let rep: Value = serde_json::from_str(&req.body).unwrap();
                    let name = rep["realm"].as_str().unwrap().to_string();
                    if kc.realms.contains_key(&name) {
                        // Keycloak does not echo secrets; this fake does, to test redaction.
                        let message = format!("Conflict detected ({ADMIN_PASSWORD}, {current})");
                        let body = json!({ "errorMessage": message }).to_string();
                        return (409, vec![], body);
                    }
                    kc.realms.insert(name, rep);
                    kc.keys = vec![
                        json!({"kid": "k0", "algorithm": "RS256", "providerId": "c0", "providerPriority": 100}),
                    ];
                    kc.active = "k0".into();
                    (201, vec![], String::new())
                }
                ("GET", ["admin", "realms", realm]) => {
                    ok(json!({"id": kc.realms[*realm]["id"], "realm": realm}))
                }
                ("GET", ["admin", "realms", realm, "users"]) => {
                    assert!(query.contains("exact=true"), "{query}");
                    let users = kc.realms[*realm]["users"].as_array().unwrap();
                    let found: Vec<&Value> = users
                        .iter()
                        .filter(|u| {
                            query.contains(&format!("username={}", u["username"].as_str().unwrap()))
                        })
                        .collect();
                    ok(json!(found))
                }
                ("GET", ["admin", "realms", realm, "users", id]) => {
                    let users = kc.realms[*realm]["users"].as_array().unwrap();
                    ok(users.iter().find(|u| u["id"] == *id).unwrap().clone())
                }
                ("PUT", ["admin", "realms", realm, "users", id]) => {
                    let rep: Value = serde_json::from_str(&req.body).unwrap();
                    let users = kc.realms.get_mut(*realm).unwrap()["users"]
                        .as_array_mut()
                        .unwrap();
                    *users.iter_mut().find(|u| u["id"] == *id).unwrap() = rep;
                    (204, vec![], String::new())
                }
                ("GET", ["admin", "realms", _, "keys"]) => {
                    ok(json!({"active": {"RS256": kc.active, "HS512": "hmac"}, "keys": kc.keys}))
                }
                ("POST", ["admin", "realms", realm, "components"]) => {
                    let rep: Value = serde_json::from_str(&req.body).unwrap();
                    assert_eq!(rep["parentId"], kc.realms[*realm]["id"]);
                    let priority: i64 = rep["config"]["priority"][0]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    let n = kc.keys.len();
                    let (kid, component) = (format!("k{n}"), format!("c{n}"));
                    let highest = kc
                        .keys
                        .iter()
                        .map(|k| k["providerPriority"].as_i64().unwrap())
                        .max()
                        .unwrap();
                    if priority > highest {
                        kc.active = kid.clone();
                    }
                    kc.keys.push(json!({"kid": kid, "algorithm": "RS256",
                                        "providerId": component, "providerPriority": priority}));
                    let location = format!("http://kc/admin/realms/{realm}/components/{component}");
                    (201, vec![("Location".into(), location)], String::new())
                }
                ("GET", ["admin", "realms", realm, "clients"]) => {
                    let clients = kc.realms[*realm]["clients"].as_array().unwrap();
                    let found: Vec<&Value> = clients
                        .iter()
                        .filter(|c| {
                            query == format!("clientId={}", c["clientId"].as_str().unwrap())
                        })
                        .collect();
                    ok(json!(found))
                }
                (
                    "GET",
                    ["admin", "realms", realm, "clients", client, "protocol-mappers", "models"],
                ) => {
                    let clients = kc.realms[*realm]["clients"].as_array().unwrap();
                    ok(
                        clients.iter().find(|c| c["id"] == *client).unwrap()["protocolMappers"]
                            .clone(),
                    )
                }
                (
                    method @ ("PUT" | "DELETE"),
                    ["admin", "realms", realm, "clients", client, "protocol-mappers", "models", id],
                ) => {
                    let clients = kc.realms.get_mut(*realm).unwrap()["clients"]
                        .as_array_mut()
                        .unwrap();
                    let client = clients.iter_mut().find(|c| c["id"] == *client).unwrap();
                    let mappers = client["protocolMappers"].as_array_mut().unwrap();
                    let i = mappers.iter().position(|m| m["id"] == *id).unwrap();
                    if method == "PUT" {
                        mappers[i] = serde_json::from_str(&req.body).unwrap();
                    } else {
                        mappers.remove(i);
                    }
                    (204, vec![], String::new())
                }
                _ => (
                    404,
                    vec![],
                    format!(
                        "{{\"error\":\"no fake for {} {}\"}}",
                        req.method, req.target
                    ),
                ),
            }
        }
    }

    async fn fake_admin() -> (
        Arc<AdminApi>,
        Arc<StdMutex<FakeKeycloak>>,
        Arc<StdMutex<Vec<Seen>>>,
        PathBuf,
        tempfile::TempDir,
    ) {
        let state = Arc::new(StdMutex::new(FakeKeycloak::default()));
        let (base, seen) = serve(fake_keycloak(state.clone())).await;
        let admin = Arc::new(AdminApi::new(
            http_client().unwrap(),
            base,
            Secret::new(ADMIN_PASSWORD),
        ));
        let dir = tempfile::tempdir().unwrap();
        let fixture = write_fixture(dir.path());
        (admin, state, seen, fixture, dir)
    }

    #[tokio::test]
    async fn a_scenario_gets_a_fresh_realm_copy_through_the_admin_api() {
        let (admin, state, seen, fixture, _dir) = fake_admin().await;
        let fixture = RealmFixture::load(&fixture, NAME).unwrap();
        let idp = KeycloakIdp::create(admin.clone(), fixture.clone(), 3)
            .await
            .unwrap();

        assert_eq!(idp.issuer(), format!("{}/realms/acme-3", admin.base));
        assert_eq!(idp.client().client_id, "acme-app");
        assert_eq!(idp.client().secret.unwrap().expose(), "acme-app-secret");
        assert_eq!(idp.password("alice").unwrap().expose(), "alice-password");
        let debug = format!("{idp:?}");
        assert!(
            !debug.contains("alice-password") && !debug.contains("acme-app-secret"),
            "{debug}"
        );
        let alice = idp.user_id("alice").unwrap();
        assert_eq!(
            alice,
            copy_id("acme-3", "11111111-1111-4111-8111-111111111111")
        );
        assert!(idp.user_id("bob").is_some());
        assert_eq!(idp.user_id("mallory"), None);
        assert_eq!(
            state.lock().unwrap().realms["acme-3"],
            realm_copy(&fixture.json, "acme-3")
        );

        let seen = seen.lock().unwrap().clone();
        let calls: Vec<String> = seen
            .iter()
            .map(|s| format!("{} {}", s.method, s.target))
            .collect();
        assert_eq!(
            calls,
            [
                format!("POST {TOKEN_PATH}"),
                "POST /admin/realms".into(),
                "GET /admin/realms/acme-3".into(),
                "GET /admin/realms/acme-3/users?username=alice&exact=true".into(),
                "GET /admin/realms/acme-3/users?username=bob&exact=true".into(),
            ]
        );
        // One token for all of it, sent as a bearer token.
        assert!(seen[1..]
            .iter()
            .all(|s| s.auth.as_deref() == Some("Bearer tok-1")));

        // Another scenario, same fixture, another realm with other ids.
        let other = KeycloakIdp::create(admin, fixture, 4).await.unwrap();
        assert_ne!(other.user_id("alice").unwrap(), alice);
    }

    #[tokio::test]
    async fn realm_admin_operations_use_the_admin_api() {
        let (admin, state, seen, fixture, _dir) = fake_admin().await;
        let idp = KeycloakIdp::create(admin, RealmFixture::load(&fixture, NAME).unwrap(), 1)
            .await
            .unwrap();
        let realm_id = copy_id("acme-1", "acme");
        seen.lock().unwrap().clear();

        assert_eq!(idp.rotate_keys().await.unwrap(), "k1");
        assert_eq!(idp.rotate_keys().await.unwrap(), "k2");
        let components: Vec<Value> = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.method == "POST" && s.target == "/admin/realms/acme-1/components")
            .map(|s| serde_json::from_str(&s.body).unwrap())
            .collect();
        assert_eq!(components[0], key_component("rotated-1", &realm_id, 200));
        assert_eq!(components[1], key_component("rotated-2", &realm_id, 300));

        idp.set_user_enabled("bob", false).await.unwrap();
        let bob = state.lock().unwrap().realms["acme-1"]["users"][1].clone();
        assert_eq!(bob["enabled"], false);
        assert_eq!(bob["email"], "bob@acme.test", "the whole user went back");

        let mapper = |state: &StdMutex<FakeKeycloak>| {
            state.lock().unwrap().realms["acme-1"]["clients"][0]["protocolMappers"].clone()
        };
        idp.set_group_mapper_full_path(None).await.unwrap();
        assert!(mapper(&state)[0]["config"].get("full.path").is_none());
        assert_eq!(mapper(&state)[0]["config"]["claim.name"], "groups");
        idp.set_group_mapper_full_path(Some("true")).await.unwrap();
        assert_eq!(mapper(&state)[0]["config"]["full.path"], "true");
        idp.remove_group_mapper().await.unwrap();
        assert_eq!(mapper(&state), json!([]));

        let error = idp.remove_group_mapper().await.unwrap_err();
        assert_eq!(error.code(), "backend/failed");
        assert_eq!(
            error.to_string(),
            "keycloak: client \"acme-app\" has no protocol mapper named \"groups\""
        );
        let error = idp.set_user_enabled("mallory", true).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "keycloak: no user \"mallory\" in realm acme-1"
        );
        assert_eq!(
            idp.jwks_fetch_count().unwrap_err().code(),
            "backend/unsupported"
        );
    }

    #[tokio::test]
    async fn failures_name_the_request_and_the_answer_but_no_secret() {
        let (admin, state, _seen, fixture, _dir) = fake_admin().await;
        let fixture = RealmFixture::load(&fixture, NAME).unwrap();
        KeycloakIdp::create(admin.clone(), fixture.clone(), 1)
            .await
            .unwrap();
        let error = KeycloakIdp::create(admin.clone(), fixture, 1)
            .await
            .unwrap_err();
        let message = error.to_string();
        assert_eq!(error.code(), "backend/failed");
        assert!(
            message.starts_with("keycloak: POST /admin/realms: 409 Conflict: "),
            "{message}"
        );
        assert!(
            message.contains("Conflict detected ([redacted], Bearer [redacted])"),
            "{message}"
        );
        assert!(
            !message.contains(ADMIN_PASSWORD) && !message.contains("tok-"),
            "{message}"
        );
        assert!(!format!("{admin:?}").contains(ADMIN_PASSWORD));

        // A token refused early is renewed once, then the call goes through.
        state.lock().unwrap().reject_next = true;
        admin.get_json("/admin/realms/acme-1", &[]).await.unwrap();
        assert_eq!(state.lock().unwrap().tokens, 2);

        let wrong = AdminApi::new(
            http_client().unwrap(),
            admin.base.clone(),
            Secret::new("wrong"),
        );
        let message = wrong
            .get_json("/admin/realms", &[])
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            format!(
                "keycloak: POST {TOKEN_PATH}: 401 Unauthorized: {{\"error\":\"invalid_grant\"}}"
            )
        );

        let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let gone = AdminApi::new(
            http_client().unwrap(),
            format!("http://{closed}"),
            Secret::new("x"),
        );
        let message = gone
            .get_json("/admin/realms", &[])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with(&format!("keycloak: POST {TOKEN_PATH}: ")),
            "{message}"
        );
        assert!(message.to_lowercase().contains("refused"), "{message}");
    }

    #[tokio::test]
    async fn readiness_is_polled_until_200_and_gives_up_clearly() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let (base, _) = serve(move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            (
                if n < 2 { 503 } else { 200 },
                vec![],
                r#"{"status": "UP"}"#.into(),
            )
        })
        .await;
        let http = http_client().unwrap();
        let url = format!("{base}/health/ready");
        guarded("readiness", wait_ready(&http, &url, Duration::from_secs(2)))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let url = format!("http://{closed}/health/ready");
        let error = guarded(
            "readiness",
            wait_ready(&http, &url, Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
        assert!(
            error.starts_with(&format!(
                "GET {url} did not answer 200 within 300 ms (last: "
            )),
            "{error}"
        );
    }

    // --- A real Keycloak ---------------------------------------------------------------------

    /// End to end against a real container; skipped, loudly, where there is no Docker.
    #[tokio::test(flavor = "multi_thread")]
    async fn realm_copies_and_admin_operations_requires_docker() {
        let dir = tempfile::tempdir().unwrap();
        let backend = KeycloakContainerBackend::new(write_fixture(dir.path()));
        if let Err(e) = backend.availability().await {
            eprintln!("skipped: no Docker: {e}");
            return;
        }
        let idp = backend.start_scenario(&[]).await.unwrap();
        let http = http_client().unwrap();
        let discovery: Value = http
            .get(format!("{}/.well-known/openid-configuration", idp.issuer()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(discovery["issuer"], idp.issuer().as_str());
        assert!(idp.issuer().ends_with("/realms/acme-1"), "{}", idp.issuer());
        let alice = idp.user_id("alice").unwrap();

        let kid = idp.rotate_keys().await.unwrap();
        let jwks: Value = http
            .get(discovery["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kid"] == kid.as_str()),
            "{kid} not in {jwks}"
        );

        idp.set_user_enabled("bob", false).await.unwrap();
        idp.set_group_mapper_full_path(None).await.unwrap();
        idp.set_group_mapper_full_path(Some("true")).await.unwrap();
        idp.remove_group_mapper().await.unwrap();
        assert_eq!(
            idp.remove_group_mapper().await.unwrap_err().code(),
            "backend/failed"
        );

        let second = backend.start_scenario(&[]).await.unwrap();
        assert!(second.issuer().ends_with("/realms/acme-2"));
        assert_ne!(second.user_id("alice").unwrap(), alice);
    }
}
