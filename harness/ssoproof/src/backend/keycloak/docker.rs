//! Finding a Docker engine the way testcontainers will, and asking it `GET /_ping`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{secs, PING_TIMEOUT};

/// Where a Docker engine could be, in the order testcontainers itself looks: `DOCKER_HOST`,
/// `/var/run/docker.sock`, `$XDG_RUNTIME_DIR/.docker/run/docker.sock`,
/// `~/.docker/run/docker.sock`, `~/.docker/desktop/docker.sock`. The rootless daemon's own
/// socket `$XDG_RUNTIME_DIR/docker.sock` is checked last: testcontainers does not find it
/// without `DOCKER_HOST`, so finding it only yields that advice.
///
/// Every field is injectable so the logic is testable on machines without Docker.
#[derive(Debug, Clone)]
pub(super) struct DockerProbe {
    docker_host: Option<String>,
    tls_verify: bool,
    default_socket: PathBuf,
    runtime_dir: Option<PathBuf>,
    home: Option<PathBuf>,
    timeout: Duration,
}

/// A Docker engine that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DockerEngine {
    /// As testcontainers will reach it: `unix:///var/run/docker.sock`, `tcp://host:2375`.
    pub(super) host: String,
}

impl DockerProbe {
    pub(super) fn from_env() -> DockerProbe {
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

    /// A probe that looks only inside `dir`, where nothing exists unless a test puts it there.
    #[cfg(test)]
    pub(super) fn confined_to(dir: &Path) -> DockerProbe {
        DockerProbe {
            docker_host: None,
            tls_verify: false,
            default_socket: dir.join("var/run/docker.sock"),
            runtime_dir: Some(dir.join("run")),
            home: Some(dir.join("home")),
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
    pub(super) async fn check(&self) -> Result<DockerEngine, String> {
        let unavailable = |checked: &str| format!("no Docker engine ({checked})");
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::super::testkit::{closed_address, guarded};
    use super::*;

    #[tokio::test]
    async fn no_docker_is_unavailable_and_names_what_was_checked() {
        let dir = tempfile::tempdir().unwrap();
        let probe = DockerProbe::confined_to(dir.path());
        let reason = guarded("the probe", probe.check()).await.unwrap_err();
        let d = dir.path().display();
        for expected in [
            "no Docker engine (DOCKER_HOST unset".to_string(),
            format!("no {d}/var/run/docker.sock"),
            format!("no {d}/run/.docker/run/docker.sock"),
            format!("no {d}/home/.docker/run/docker.sock"),
            format!("no {d}/home/.docker/desktop/docker.sock"),
            format!("no {d}/run/docker.sock"),
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
            ..DockerProbe::confined_to(dir.path())
        };
        let reason = probe.check().await.unwrap_err();
        assert!(reason.contains("XDG_RUNTIME_DIR unset"), "{reason}");
        assert!(reason.contains("HOME unset"), "{reason}");
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
        let probe = DockerProbe::confined_to(dir.path());
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
        let probe = DockerProbe::confined_to(dir.path());
        let server = fake_docker_socket(&probe.default_socket, None);
        let reason = guarded("the probe", probe.check()).await.unwrap_err();
        let expected = format!(
            "{}: did not answer GET /_ping within 2 s",
            probe.default_socket.display()
        );
        assert!(reason.contains(&expected), "{reason}");
        assert!(reason.ends_with(')'), "{reason}");
        server.abort();
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_socket_answering_an_error_or_a_stale_file_counts_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let probe = DockerProbe::confined_to(dir.path());
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
        let probe = DockerProbe::confined_to(dir.path());
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
        let probe = DockerProbe::confined_to(dir.path());
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
            ..DockerProbe::confined_to(dir.path())
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

        let closed = closed_address().await;
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
}
