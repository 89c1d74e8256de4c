//! A child process started for a test: in a process group of its own (killed whole when the
//! handle drops), its stdout and stderr collected into one log for error messages, and its
//! start-up awaited with a bound.

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use regex::Regex;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::LaunchError;

/// How long a target may take to say it is ready. Generous: CI runs it on two busy cores.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The most of a target's output kept (its tail), so a chatty target cannot grow the test.
const LOG_CAP: usize = 64 * 1024;

pub(crate) struct Process {
    name: &'static str,
    child: Child,
    log: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

/// Empties `command`'s environment but for `PATH` and `HOME`: a target sees only what its
/// launcher sets, so a variable left in the test's environment (`ISSUER`, `OAUTH2_PROXY_*`, a
/// proxy) cannot change what runs.
pub(crate) fn clean_env(command: &mut Command) {
    command.env_clear();
    for name in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
}

impl Process {
    /// Starts `command` in a new process group, and returns it with a channel carrying each
    /// line it prints on stdout (as well as into the log).
    pub(crate) fn spawn(
        name: &'static str,
        mut command: Command,
    ) -> Result<(Process, mpsc::UnboundedReceiver<String>), LaunchError> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|source| LaunchError::Spawn {
            target: name,
            program: command
                .as_std()
                .get_program()
                .to_string_lossy()
                .into_owned(),
            source,
        })?;
        let log = Arc::new(Mutex::new(String::new()));
        let (lines, stdout_lines) = mpsc::unbounded_channel();
        let readers = vec![
            collect(child.stdout.take(), log.clone(), Some(lines)),
            collect(child.stderr.take(), log.clone(), None),
        ];
        let process = Process {
            name,
            child,
            log,
            readers,
        };
        Ok((process, stdout_lines))
    }

    /// What the target printed so far (the last 64 KiB of stdout and stderr, interleaved).
    pub(crate) fn log(&self) -> String {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }

    /// `Some(status)` once the process has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits for the first stdout line `ready` accepts, and returns what it extracted. Fails
    /// with the log when the process exits first or stays silent past [`READY_TIMEOUT`].
    pub(crate) async fn until_line<T>(
        &mut self,
        lines: &mut mpsc::UnboundedReceiver<String>,
        ready: impl Fn(&str) -> Option<T>,
    ) -> Result<T, LaunchError> {
        let found = tokio::time::timeout(READY_TIMEOUT, async {
            while let Some(line) = lines.recv().await {
                if let Some(found) = ready(&line) {
                    return Some(found);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(found)) => Ok(found),
            // stdout closed: the process is exiting.
            Ok(None) => {
                let status = self.child.wait().await.ok();
                Err(self.exited_error(status).await)
            }
            Err(_) => Err(self.not_ready()),
        }
    }

    /// The error for a process that exited before it was ready, with everything it printed.
    pub(crate) async fn exited_error(&mut self, status: Option<ExitStatus>) -> LaunchError {
        // The readers end at end-of-file, which follows the exit; bounded all the same.
        for reader in self.readers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
        }
        LaunchError::Exited {
            target: self.name,
            status: status.map_or_else(|| "unknown status".to_string(), |s| s.to_string()),
            log: self.log(),
        }
    }

    pub(crate) fn not_ready(&self) -> LaunchError {
        LaunchError::NotReady {
            target: self.name,
            secs: READY_TIMEOUT.as_secs(),
            log: self.log(),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Only a child not yet reaped: its pid (the group's id) cannot have been reused.
        if let (Ok(None), Some(pid)) = (self.child.try_wait(), self.child.id()) {
            if let Ok(pid) = libc::pid_t::try_from(pid) {
                // SAFETY: kill(2) with a negative pid signals that process group and touches
                // no memory of ours.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
        }
    }
}

/// `line` with credentials a target may log replaced: oauth2-proxy's request log shows the
/// callback's authorization `code`, and a JWT may appear in an error. The log ends up in test
/// failure messages.
fn redact(line: &str) -> String {
    static PATTERNS: OnceLock<[(Regex, &str); 2]> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        let regex = |pattern: &str| Regex::new(pattern).expect("a valid pattern");
        [
            (
                regex(r"(?i)\b(code|access_token|id_token|refresh_token|client_secret)=[^&\s]+"),
                "$1=<redacted>",
            ),
            (
                regex(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
                "<redacted JWT>",
            ),
        ]
    });
    let mut line = line.to_string();
    for (pattern, replacement) in patterns {
        line = pattern.replace_all(&line, *replacement).into_owned();
    }
    line
}

/// Appends each line of `stream` to `log` (keeping its tail), and sends it on `lines`.
fn collect(
    stream: Option<impl AsyncRead + Unpin + Send + 'static>,
    log: Arc<Mutex<String>>,
    lines: Option<mpsc::UnboundedSender<String>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let Some(stream) = stream else { return };
        let mut reader = BufReader::new(stream);
        let mut bytes = Vec::new();
        // Bytes, not `lines()`: a line that is not UTF-8 must not stop the draining (a child
        // whose pipe fills up blocks).
        while matches!(reader.read_until(b'\n', &mut bytes).await, Ok(n) if n > 0) {
            let line = redact(String::from_utf8_lossy(&bytes).trim_end_matches(['\n', '\r']));
            bytes.clear();
            if let Ok(mut log) = log.lock() {
                log.push_str(&line);
                log.push('\n');
                if log.len() > LOG_CAP {
                    let mut cut = log.len() - LOG_CAP;
                    while !log.is_char_boundary(cut) {
                        cut += 1;
                    }
                    log.drain(..cut);
                }
            }
            if let Some(lines) = &lines {
                // A closed receiver only means nobody waits for readiness any more.
                let _ = lines.send(line);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("/bin/sh");
        command.arg("-c").arg(script);
        command
    }

    #[tokio::test]
    async fn the_ready_line_is_found_past_lines_that_are_not_utf8() {
        let (mut process, mut lines) =
            Process::spawn("test", sh(r"printf 'x\377\n'; echo 'ready 42'; sleep 60")).unwrap();
        let found = process
            .until_line(&mut lines, |line| {
                line.strip_prefix("ready ").map(str::to_string)
            })
            .await
            .unwrap();
        assert_eq!(found, "42");
        assert!(
            process.log().starts_with("x\u{fffd}\nready 42\n"),
            "{}",
            process.log()
        );
    }

    #[tokio::test]
    async fn a_target_that_exits_first_is_reported_with_its_output() {
        let (mut process, mut lines) =
            Process::spawn("test", sh("echo starting; echo 'no config' >&2; exit 3")).unwrap();
        let error = process
            .until_line(&mut lines, |_| None::<()>)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("test exited before it was ready (exit status: 3)"),
            "{error}"
        );
        assert!(
            error.contains("starting\n") && error.contains("no config\n"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_clean_environment_keeps_only_path_and_home() {
        let mut command = sh("env; echo done");
        clean_env(&mut command);
        let (mut process, mut lines) = Process::spawn("test", command).unwrap();
        process
            .until_line(&mut lines, |line| (line == "done").then_some(()))
            .await
            .unwrap();
        let log = process.log();
        // cargo runs tests with CARGO_* variables set; none reaches the target.
        assert!(std::env::var_os("CARGO_PKG_NAME").is_some());
        assert!(!log.contains("CARGO"), "{log}");
        assert!(log.lines().any(|l| l.starts_with("PATH=")), "{log}");
    }

    #[test]
    fn codes_and_tokens_in_a_targets_output_are_redacted() {
        let line = r#"GET - "/oauth2/callback?state=abc&code=4f1e.9c2&iss=http%3A%2F%2Fx" 302"#;
        assert_eq!(
            redact(line),
            r#"GET - "/oauth2/callback?state=abc&code=<redacted>&iss=http%3A%2F%2Fx" 302"#
        );
        assert_eq!(
            redact("bad token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln here"),
            "bad token <redacted JWT> here"
        );
        assert_eq!(
            redact("listening on http://127.0.0.1:1"),
            "listening on http://127.0.0.1:1"
        );
    }

    /// Whether `pid` is gone or a zombie (dead, not yet reaped by its new parent).
    fn dead(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|s| s.trim_start().starts_with('Z'))
        })
    }

    #[tokio::test]
    async fn dropping_the_handle_kills_the_whole_process_group() {
        // The shell starts a grandchild, which only a kill of the group reaches.
        let (mut process, mut lines) =
            Process::spawn("test", sh("sleep 600 & echo \"child $!\"; wait")).unwrap();
        let grandchild = process
            .until_line(&mut lines, |line| {
                line.strip_prefix("child ").map(str::to_string)
            })
            .await
            .unwrap();
        assert!(!dead(&grandchild));
        drop(process);
        // SIGKILL is delivered asynchronously: wait for it, bounded.
        for _ in 0..200 {
            if dead(&grandchild) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the grandchild {grandchild} outlived the handle");
    }
}
