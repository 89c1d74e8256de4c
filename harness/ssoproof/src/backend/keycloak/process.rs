//! Keycloak as a local process: `kc.sh start` from a distribution on disk, on free loopback
//! ports, with a throwaway home (its own `data/` folder and the realm fixture to import), in a
//! process group of its own that is stopped when the run ends — on drop (normal end, panics),
//! on Ctrl-C/SIGTERM/SIGHUP (a watcher thread), and when the thread that started it dies
//! (`PR_SET_PDEATHSIG`, so even a killed harness leaves nothing behind).
//!
//! The log goes to a file under the run's log folder (`target/keycloak/`) and stays there; its
//! tail, with the admin password redacted, is what a failed start reports.

use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tempfile::TempDir;

use super::admin::{AdminApi, ADMIN_USER};
use super::distribution::{Distribution, Lookup, BUILD_OPTIONS};
use super::http::http_client;
use super::launcher::{wait_ready, Keycloak, Launcher, Server};
use crate::backend::RealmFixture;
use ssoproof_secret::{redact_all, Secret};

/// A cold start on 2 busy cores takes 40–80 s, mostly creating the in-memory database.
const READY_TIMEOUT: Duration = Duration::from_secs(240);
/// How long a stopping Keycloak gets to shut down before the group is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
const LOG_TAIL: usize = 20;

/// Starts Keycloak from the distribution [`Lookup`] finds.
#[derive(Debug)]
pub(super) struct ProcessLauncher {
    lookup: Lookup,
    log_dir: PathBuf,
    ready_timeout: Duration,
}

impl ProcessLauncher {
    pub(super) fn new(lookup: Lookup, log_dir: PathBuf) -> ProcessLauncher {
        ProcessLauncher {
            lookup,
            log_dir,
            ready_timeout: READY_TIMEOUT,
        }
    }

    #[cfg(test)]
    pub(super) fn with_ready_timeout(mut self, limit: Duration) -> ProcessLauncher {
        self.ready_timeout = limit;
        self
    }
}

#[async_trait]
impl Launcher for ProcessLauncher {
    async fn check(&self) -> Result<String, String> {
        Distribution::find(&self.lookup).await.map(|d| d.describe())
    }

    async fn start(&self, fixture: &RealmFixture, password: &Secret) -> Result<Keycloak, String> {
        let distribution = Distribution::find(&self.lookup).await?;
        // A port taken between choosing it and Keycloak binding it costs one retry, not the run.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match start_once(
                &distribution,
                fixture,
                password,
                &self.log_dir,
                self.ready_timeout,
            )
            .await
            {
                Err(Failure::PortTaken(message)) if attempt < 2 => {
                    eprintln!("ssoproof: {message}; starting Keycloak again on other ports");
                }
                Err(Failure::PortTaken(message) | Failure::Other(message)) => return Err(message),
                Ok(keycloak) => return Ok(keycloak),
            }
        }
    }
}

enum Failure {
    PortTaken(String),
    Other(String),
}

async fn start_once(
    distribution: &Distribution,
    fixture: &RealmFixture,
    password: &Secret,
    log_dir: &Path,
    ready_timeout: Duration,
) -> Result<Keycloak, Failure> {
    let other = |m: String| Failure::Other(redact_all(&m, &[password]));
    let home = throwaway_home(distribution, fixture).map_err(other)?;
    let (http_port, management_port) = free_ports().map_err(other)?;
    std::fs::create_dir_all(log_dir).map_err(|e| {
        other(format!(
            "cannot create the log folder {}: {e}",
            log_dir.display()
        ))
    })?;
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let log = log_dir.join(format!("keycloak-{stamp}-{}.log", std::process::id()));
    let mut process = KeycloakProcess::spawn(
        distribution,
        home,
        &log,
        password,
        http_port,
        management_port,
    )
    .map_err(other)?;

    let http = http_client().map_err(other)?;
    let health = format!("http://127.0.0.1:{management_port}/health/ready");
    if let Err(e) = wait_ready(&http, &health, ready_timeout, || process.exited()).await {
        let tail = log_tail(&log);
        drop(process);
        let message = format!(
            "{} is not ready: {e}{}; last log lines ({}):\n{}",
            distribution.describe(),
            diagnosis(&tail),
            log.display(),
            tail.join("\n")
        );
        let message = redact_all(&message, &[password]);
        return Err(
            if tail.iter().any(|l| l.contains("Address already in use")) {
                Failure::PortTaken(message)
            } else {
                Failure::Other(message)
            },
        );
    }
    let admin = AdminApi::new(
        http,
        format!("http://127.0.0.1:{http_port}"),
        password.clone(),
    );
    Ok(Keycloak::new(admin, Server::Process(process)))
}

/// What the log says went wrong, in words a user can act on.
fn diagnosis(tail: &[String]) -> String {
    let has = |needle: &str| tail.iter().any(|l| l.contains(needle));
    if has("Address already in use") {
        " (a port it was given is in use)".into()
    } else if has("Failed to import realm")
        || has("realm name mismatch")
        || has("import") && has("ERROR")
    {
        " (the server refused the realm fixture on import; the ERROR lines below say why)".into()
    } else if has("UnsupportedClassVersionError") {
        " (the Java that ran it is too old: Keycloak 26 needs 21 or later)".into()
    } else {
        String::new()
    }
}

/// `home/` for one run: the distribution's `conf`, `lib`, `providers` and `themes` linked in,
/// and a `data/` folder of its own holding the realm to import (Keycloak wants it named
/// `<realm>-realm.json`). Keycloak takes its data folder from `kc.home.dir`, so this keeps the
/// distribution itself untouched and lets two runs share it.
fn throwaway_home(distribution: &Distribution, fixture: &RealmFixture) -> Result<TempDir, String> {
    let home = tempfile::Builder::new()
        .prefix("ssoproof-keycloak-")
        .tempdir()
        .map_err(|e| format!("cannot create a home for Keycloak: {e}"))?;
    for part in ["conf", "lib", "providers", "themes"] {
        std::os::unix::fs::symlink(distribution.home.join(part), home.path().join(part))
            .map_err(|e| format!("cannot link {part} into {}: {e}", home.path().display()))?;
    }
    let import = home.path().join("data/import");
    std::fs::create_dir_all(&import)
        .map_err(|e| format!("cannot create {}: {e}", import.display()))?;
    let target = import.join(format!("{}-realm.json", fixture.realm_name()));
    std::fs::copy(&fixture.path, &target).map_err(|e| {
        format!(
            "cannot copy {} to {}: {e}",
            fixture.path.display(),
            target.display()
        )
    })?;
    Ok(home)
}

/// Two distinct free loopback ports: both listeners are held until both are chosen.
fn free_ports() -> Result<(u16, u16), String> {
    let bind = || {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| format!("no free loopback port: {e}"))
    };
    let (first, second) = (bind()?, bind()?);
    let port = |l: &TcpListener| l.local_addr().map(|a| a.port()).map_err(|e| e.to_string());
    Ok((port(&first)?, port(&second)?))
}

/// The last [`LOG_TAIL`] lines of the log, and any ERROR line before them (the cause of a
/// failed start is often followed by a screenful of shutdown messages).
fn log_tail(log: &Path) -> Vec<String> {
    let text = std::fs::read(log)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let cut = lines.len().saturating_sub(LOG_TAIL);
    let errors = lines[..cut]
        .iter()
        .filter(|l| l.contains(" ERROR "))
        .take(5);
    errors.chain(&lines[cut..]).map(|l| l.to_string()).collect()
}

/// A running `kc.sh` and its Java, one process group.
pub(super) struct KeycloakProcess {
    child: Child,
    /// Removed after the process is gone.
    home: Option<TempDir>,
    pub(super) log: PathBuf,
}

impl std::fmt::Debug for KeycloakProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeycloakProcess")
            .field("pid", &self.child.id())
            .field("log", &self.log)
            .finish()
    }
}

/// Process groups still running, for the interrupt watcher.
static RUNNING: Mutex<Vec<i32>> = Mutex::new(Vec::new());

impl KeycloakProcess {
    fn spawn(
        distribution: &Distribution,
        home: TempDir,
        log: &Path,
        password: &Secret,
        http_port: u16,
        management_port: u16,
    ) -> Result<KeycloakProcess, String> {
        let log_file =
            File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let stderr = log_file
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let mut command = Command::new(distribution.home.join("bin/kc.sh"));
        // `-D` options go to the JVM after kc.sh's own, so this `kc.home.dir` wins.
        command
            .arg(format!("-Dkc.home.dir={}", home.path().display()))
            .arg("start");
        if distribution.optimized {
            command.arg("--optimized");
        } else {
            command.args(BUILD_OPTIONS);
        }
        command
            .args([
                "--import-realm",
                "--http-enabled=true",
                "--hostname-strict=false",
                "--http-host=127.0.0.1",
                "--cache=local",
            ])
            .arg(format!("--http-port={http_port}"))
            .arg(format!("--http-management-port={management_port}"))
            // The password goes in the environment, never on a command line `ps` shows.
            .env("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN_USER)
            .env("KC_BOOTSTRAP_ADMIN_PASSWORD", password.expose())
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(stderr)
            .process_group(0);
        if let Some(java) = &distribution.java.home {
            command.env("JAVA_HOME", java);
        }
        // SAFETY: prctl is async-signal-safe and touches only the child's own state.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        stop_on_interrupt();
        let child = command.spawn().map_err(|e| {
            format!(
                "cannot run {}: {e}",
                distribution.home.join("bin/kc.sh").display()
            )
        })?;
        let pgid = child.id() as i32;
        RUNNING.lock().unwrap_or_else(|p| p.into_inner()).push(pgid);
        Ok(KeycloakProcess {
            child,
            home: Some(home),
            log: log.to_path_buf(),
        })
    }

    /// `Some(status)` once the process has ended.
    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!("Keycloak exited ({status}) before it was ready")),
            Ok(None) => None,
            Err(e) => Some(format!("cannot watch the Keycloak process: {e}")),
        }
    }

    fn pgid(&self) -> i32 {
        self.child.id() as i32
    }
}

/// SIGTERM to the group, a grace period, then SIGKILL for whatever is left of it.
impl Drop for KeycloakProcess {
    fn drop(&mut self) {
        let pgid = self.pgid();
        stop_group(pgid, || matches!(self.child.try_wait(), Ok(Some(_))));
        let _ = self.child.wait();
        RUNNING
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|&g| g != pgid);
        drop(self.home.take());
    }
}

fn stop_group(pgid: i32, mut ended: impl FnMut() -> bool) {
    // SAFETY: plain syscalls on a process group this module created.
    unsafe { libc::killpg(pgid, libc::SIGTERM) };
    let deadline = Instant::now() + STOP_GRACE;
    while !ended() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // The shell may be gone while its Java is still shutting down; the group outlives both.
    unsafe { libc::killpg(pgid, libc::SIGKILL) };
}

/// On Ctrl-C, SIGTERM or SIGHUP: stop every Keycloak this process started, then exit as the
/// signal would have. A thread with its own small runtime, so it outlives any test's runtime.
fn stop_on_interrupt() {
    static WATCHER: Once = Once::new();
    WATCHER.call_once(|| {
        let watcher = std::thread::Builder::new()
            .name("keycloak-interrupt".into())
            .spawn(|| {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                let status = runtime.block_on(async {
                    use tokio::signal::unix::{signal, SignalKind};
                    let (Ok(mut term), Ok(mut hup)) =
                        (signal(SignalKind::terminate()), signal(SignalKind::hangup()))
                    else {
                        return None;
                    };
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => Some(130),
                        _ = term.recv() => Some(143),
                        _ = hup.recv() => Some(129),
                    }
                });
                let Some(status) = status else { return };
                let groups = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(|p| p.into_inner()));
                for pgid in groups {
                    eprintln!("ssoproof: stopping Keycloak (process group {pgid})");
                    // SAFETY: signal 0 only asks whether the group still exists.
                    stop_group(pgid, || unsafe { libc::killpg(pgid, 0) } == -1);
                }
                std::process::exit(status);
            });
        if let Err(e) = watcher {
            eprintln!("ssoproof: cannot watch for Ctrl-C ({e}); an interrupted run may leave Keycloak running");
        }
    });
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::super::testkit::write_fixture;
    use super::*;

    /// A distribution whose `kc.sh` is `script` and whose Java says it is 21: enough to test
    /// everything around the server without starting one.
    fn fake_distribution(dir: &Path, script: &str) -> Lookup {
        let home = dir.join("keycloak");
        let java = dir.join("jdk21");
        for (path, body) in [
            (home.join("bin/kc.sh"), script.to_string()),
            (
                java.join("bin/java"),
                "#!/bin/sh\necho 'openjdk version \"21.0.8\" 2025-07-15 LTS' >&2\n".into(),
            ),
        ] {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, body).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        for part in ["conf", "lib", "providers", "themes"] {
            std::fs::create_dir_all(home.join(part)).unwrap();
        }
        Lookup {
            home: Some(home),
            cache: None,
            java_homes: vec![("$TEST_JAVA".into(), java)],
        }
    }

    async fn start_fake(script: &str, limit: Duration) -> (String, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let lookup = fake_distribution(dir.path(), script);
        let launcher =
            ProcessLauncher::new(lookup, dir.path().join("logs")).with_ready_timeout(limit);
        launcher.check().await.unwrap();
        let fixture = RealmFixture::load(&write_fixture(dir.path()), "keycloak").unwrap();
        let password = Secret::from("hunter2-admin-password");
        let error =
            tokio::time::timeout(Duration::from_secs(60), launcher.start(&fixture, &password))
                .await
                .expect("a failed start must not hang")
                .map(|_| ())
                .unwrap_err();
        assert!(
            !error.contains("hunter2"),
            "the admin password leaked: {error}"
        );
        (error, dir)
    }

    /// The script records its process id and its arguments, prints the password Keycloak
    /// would log if it were careless, and never becomes ready.
    #[tokio::test]
    async fn a_server_that_never_gets_ready_times_out_with_its_log_and_is_stopped() {
        let script = "#!/bin/sh\necho $$ > \"$(dirname \"$0\")/pid\"\necho \"$@\" > \"$(dirname \"$0\")/args\"\n\
                      echo \"starting with $KC_BOOTSTRAP_ADMIN_PASSWORD\"\necho 'INFO still booting'\nexec sleep 600\n";
        let (error, dir) = start_fake(script, Duration::from_secs(2)).await;
        assert!(
            error.contains("is not ready: GET http://127.0.0.1:"),
            "{error}"
        );
        assert!(error.contains("did not answer 200 within 2 s"), "{error}");
        assert!(error.contains("INFO still booting"), "{error}");
        assert!(error.contains("starting with [redacted]"), "{error}");

        let bin = dir.path().join("keycloak/bin");
        let args = std::fs::read_to_string(bin.join("args")).unwrap();
        assert!(args.starts_with("-Dkc.home.dir="), "{args}");
        for expected in [
            "start --db=dev-mem --health-enabled=true --import-realm",
            "--http-host=127.0.0.1",
            "--cache=local",
        ] {
            assert!(args.contains(expected), "{expected} not in {args}");
        }
        // The whole group is gone: `sleep` replaced the shell, and kill(pid, 0) fails.
        let pid: i32 = std::fs::read_to_string(bin.join("pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(
            unsafe { libc::kill(pid, 0) },
            -1,
            "process {pid} is still running"
        );
        // Its group (the shell's pid) is no longer tracked; other tests' servers may be.
        assert!(!RUNNING.lock().unwrap().contains(&pid));
    }

    #[tokio::test]
    async fn a_realm_the_server_refuses_is_named_as_the_cause() {
        let script = "#!/bin/sh\necho 'ERROR [org.keycloak] ERROR: Failed to start server in (production) mode'\n\
                      echo 'ERROR [org.keycloak] ERROR: Failed to import realm: acme'\nexit 1\n";
        let (error, _dir) = start_fake(script, Duration::from_secs(30)).await;
        assert!(
            error.contains("is not ready: Keycloak exited (exit status: 1) before it was ready"),
            "{error}"
        );
        assert!(
            error.contains("the server refused the realm fixture on import"),
            "{error}"
        );
        assert!(error.contains("Failed to import realm: acme"), "{error}");
    }

    #[tokio::test]
    async fn a_port_in_use_is_retried_once_then_reported() {
        let script = "#!/bin/sh\necho x >> \"$(dirname \"$0\")/starts\"\n\
                      echo 'ERROR Port(s) already bound: 8080: Address already in use'\nexit 1\n";
        let (error, dir) = start_fake(script, Duration::from_secs(30)).await;
        assert!(error.contains("(a port it was given is in use)"), "{error}");
        let starts = std::fs::read_to_string(dir.path().join("keycloak/bin/starts")).unwrap();
        assert_eq!(starts.lines().count(), 2, "one retry");
    }

    #[test]
    fn the_throwaway_home_links_the_distribution_and_holds_the_realm_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let lookup = fake_distribution(dir.path(), "#!/bin/sh\n");
        let distribution = Distribution {
            home: lookup.home.clone().unwrap(),
            version: "26.7.3".into(),
            java: super::super::distribution::Java {
                home: None,
                major: 21,
            },
            optimized: true,
        };
        let fixture = RealmFixture::load(&write_fixture(dir.path()), "keycloak").unwrap();
        let home = throwaway_home(&distribution, &fixture).unwrap();
        assert!(home.path().join("data/import/acme-realm.json").is_file());
        assert_eq!(
            std::fs::read_link(home.path().join("lib")).unwrap(),
            distribution.home.join("lib")
        );
    }
}
