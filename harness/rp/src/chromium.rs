//! The `browser` login driver: a real headless Chromium driven through WebDriver.
//!
//! It starts `chromedriver` (from `SSOPROOF_CHROMEDRIVER`, else `chromedriver` on `PATH`) on a
//! free loopback port in a process group of its own, opens the authorization URL in Chromium
//! (from `SSOPROOF_CHROMIUM`, else `chromium`, `chromium-browser` or `google-chrome` on `PATH`),
//! and then, until the browser's URL is the redirect URI, acts on whatever the page shows:
//! a visible username or email input (typed into, then submitted: identifier-first pages work,
//! since the password input may appear on a later page or state), a visible password input, a
//! consent button. Pages whose form only exists after their scripts run are what it is for.
//! Nothing listens on the redirect URI: Chromium shows its own error page there but still
//! reports the URL, which is all the relying party needs. A failure names the page, what was
//! looked for, and a screenshot taken after every password value on the page was cleared.
//! chromedriver and Chromium are killed (the whole process group) on every exit path.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde::Deserialize;
use serde_json::json;
use url::Url;

use super::browser::{display_url, is_callback, Callback};
use super::RpError;
use ssoproof_secret::{redact_all, Secret};

/// Where screenshots of failed sign-ins go unless the caller names a directory.
pub const DEFAULT_SCREENSHOT_DIR: &str = "target/ssoproof-screenshots";
/// How often the page is looked at again while it changes by itself (scripts, navigation).
const POLL: Duration = Duration::from_millis(100);
/// Consent screens accepted before giving up (one is usual; a second may ask for more scopes).
const MAX_CONSENTS: usize = 2;
/// Longest wait for the browser after the sign-in's deadline: the failure report (page URL,
/// screenshot) and closing the session.
const REPORT_LIMIT: Duration = Duration::from_secs(5);
/// What the driver looks for, for messages.
const LOOKED_FOR: &str = "a visible username or email input, a visible password input, a \
    consent button that accepts, or the redirect URI";

/// The browser driver's settings.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// Where a failed sign-in leaves its screenshot (created when needed).
    pub screenshots: PathBuf,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        BrowserOptions {
            screenshots: PathBuf::from(DEFAULT_SCREENSHOT_DIR),
        }
    }
}

/// What to do when the browser or its driver is missing.
const INSTALL: &str = "install Debian's chromium and chromium-driver (`apt-get install chromium \
    chromium-driver`), or set SSOPROOF_CHROMEDRIVER (and SSOPROOF_CHROMIUM) to their paths";

fn unavailable(problem: String) -> RpError {
    RpError::BrowserUnavailable { problem }
}

/// The executable `name` on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The program named by the environment variable `var`, else the first of `names` on `PATH`.
fn program(var: &str, names: &[&str], what: &str) -> Result<PathBuf, RpError> {
    if let Some(path) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(unavailable(format!(
                "{var} names `{}`, which is not a file; {INSTALL}",
                path.display()
            )))
        };
    }
    names.iter().find_map(|n| on_path(n)).ok_or_else(|| {
        unavailable(format!(
            "no {what} was found ({var} is unset and none of {} is on PATH); {INSTALL}",
            names.join(", ")
        ))
    })
}

/// chromedriver and everything it started (Chromium and its helpers), killed together when
/// dropped: also when the sign-in is abandoned at an outer deadline.
struct ProcessGroup(Child);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        let Ok(pid) = i32::try_from(self.0.id()) else {
            return;
        };
        // SAFETY: kill(2) with a negative pid signals the process group this driver created
        // for chromedriver; it touches no memory.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

/// A free loopback port: bound, read and released; chromedriver binds it right after.
fn free_port() -> Result<u16, RpError> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| unavailable(format!("no free loopback port for chromedriver: {e}")))
}

/// Starts chromedriver and a Chromium session in it.
async fn start(deadline: Instant) -> Result<(ProcessGroup, Client), RpError> {
    let (driver, chromium) = programs()?;
    let port = free_port()?;
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| {
            unavailable(format!(
                "cannot start `{}`: {e}; {INSTALL}",
                driver.display()
            ))
        })?;
    let mut group = ProcessGroup(child);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        if let Ok(Some(status)) = group.0.try_wait() {
            return Err(unavailable(format!(
                "`{}` exited ({status}) before listening on port {port}; {INSTALL}",
                driver.display()
            )));
        }
        if Instant::now() >= deadline {
            return Err(unavailable(format!(
                "`{}` did not listen on port {port} within the sign-in's time limit",
                driver.display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            // Root in a container needs --no-sandbox; the rest keeps Chromium off the network
            // except for the pages the sign-in opens.
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--disable-dev-shm-usage",
                     "--window-size=1024,768"],
        }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .map_err(|e| {
            unavailable(format!(
                "chromedriver `{}` could not start Chromium `{}`: {e}; {INSTALL}",
                driver.display(),
                chromium.display()
            ))
        })?;
    Ok((group, client))
}

/// What the page shows, as [`INSPECT`] reports it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageState {
    /// A visible username input, marked `data-ssoproof="username"`.
    username: bool,
    username_value: String,
    /// A visible password input, marked `data-ssoproof="password"`.
    password: bool,
    password_filled: bool,
    /// Visible password inputs: more than one is a new-password form.
    password_count: usize,
    /// A control that submits the marked inputs, marked `data-ssoproof="submit"`.
    submit: bool,
    /// A control that accepts a consent prompt, marked `data-ssoproof="accept"`.
    accept: bool,
    error: Option<String>,
    title: Option<String>,
    heading: Option<String>,
}

impl PageState {
    fn describe(&self, secrets: &[&Secret]) -> String {
        let quote = |t: &str| format!("\u{201c}{}\u{201d}", redact_all(t, secrets));
        let mut parts = Vec::new();
        if let Some(title) = &self.title {
            parts.push(format!("page {}", quote(title)));
        }
        if let Some(heading) = self
            .heading
            .as_ref()
            .filter(|h| Some(*h) != self.title.as_ref())
        {
            parts.push(format!("heading {}", quote(heading)));
        }
        if let Some(error) = &self.error {
            parts.push(format!("message {}", quote(error)));
        }
        if parts.is_empty() {
            "an untitled page".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// Looks at the page, marks the elements to act on, and reports a [`PageState`]. Words of the
/// same lists as the form driver's (accepting, refusing, error selectors).
const INSPECT: &str = r#"
const visible = e => { if (!e || !e.isConnected) return false; const r = e.getBoundingClientRect();
  const s = getComputedStyle(e); return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'
  && s.display !== 'none' && !e.disabled; };
const words = e => [e.innerText, e.value, e.getAttribute('aria-label'), e.id, e.name, e.title]
  .filter(Boolean).join(' ').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
const has = (w, list) => w.some(x => list.includes(x));
const ACCEPT = ['accept','allow','yes','approve','consent','continue','authorize','authorise',
  'confirm','grant','agree','ok'];
const DENY = ['deny','cancel','no','reject','decline','abort','refuse','disagree','back','forgot'];
document.querySelectorAll('[data-ssoproof]').forEach(e => e.removeAttribute('data-ssoproof'));
const inputs = [...document.querySelectorAll('input')].filter(visible);
const passwords = inputs.filter(i => i.type === 'password');
const texts = inputs.filter(i => ['text', 'email', 'tel'].includes(i.type));
const named = texts.find(i => /user|mail|login|identifier|account/.test(
  [i.name, i.id, i.autocomplete, i.getAttribute('aria-label')].join(' ').toLowerCase()));
const username = named || (passwords.length || texts.length === 1 ? texts[0] : undefined);
const field = passwords[0] || username;
const buttons = root => [...root.querySelectorAll(
  'button, input[type=submit], input[type=button], input[type=image], [role=button]')]
  .filter(visible).filter(b => !has(words(b), DENY));
let submit;
if (field) {
  if (field.form) submit = buttons(field.form).find(b => (b.type || '') === 'submit')
    || buttons(field.form)[0];
  for (let c = field.parentElement; !submit && c; c = c.parentElement) submit = buttons(c)[0];
}
const accept = field ? undefined
  : buttons(document).find(b => has(words(b), ACCEPT));
const mark = (e, name) => { if (e) e.setAttribute('data-ssoproof', name); };
mark(username, 'username'); mark(passwords[0], 'password'); mark(submit, 'submit');
mark(accept, 'accept');
const SELECTORS = ['#input-error', '[id^=input-error]', '#kc-error-message', '.alert-error',
  '.alert-danger', '.pf-m-danger', '.kc-feedback-text', '[role=alert]', '.error', '.alert',
  '[aria-live]'];
let error = null;
for (const s of SELECTORS) {
  const e = [...document.querySelectorAll(s)].find(e => visible(e) && e.innerText.trim());
  if (e) { error = e.innerText.trim().replace(/\s+/g, ' ').slice(0, 200); break; }
}
const heading = document.querySelector('h1, h2');
return { username: !!username, usernameValue: username ? username.value : '',
  password: passwords.length > 0, passwordFilled: passwords.length > 0 && passwords[0].value !== '',
  passwordCount: passwords.length, submit: !!submit, accept: !!accept, error,
  title: document.title.trim() || null,
  heading: heading && heading.innerText.trim() ? heading.innerText.trim().slice(0, 200) : null };
"#;

/// Whether the page has reacted to an action on the element marked `arguments[0]`: it is gone
/// or hidden (a new page or step), or the error message changed from `arguments[1]`.
const SETTLED: &str = r#"
const e = document.querySelector('[data-ssoproof="' + arguments[0] + '"]');
const visible = e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
if (!e || !visible(e)) return true;
const err = document.querySelector('#input-error, [id^=input-error], #kc-error-message, .alert-error, .alert-danger, .pf-m-danger, .kc-feedback-text, [role=alert], .error, .alert');
const text = err && err.innerText.trim() ? err.innerText.trim().replace(/\s+/g, ' ').slice(0, 200) : null;
return text !== arguments[1];
"#;

/// Empties every password input, and every input holding the password, before a screenshot.
const CLEAR: &str = r#"
for (const i of document.querySelectorAll('input')) {
  if (i.type === 'password' || i.value === arguments[0]) i.value = '';
}
"#;

/// One sign-in in a fresh browser: the page actions and the failure report.
struct Session<'a> {
    client: Client,
    redirect_uri: &'a str,
    password: &'a Secret,
    secrets: &'a [&'a Secret],
    options: &'a BrowserOptions,
    deadline: Instant,
    timeout: Duration,
}

/// A failure of the page steps: the reason, and whether a screenshot makes sense.
struct StepFailure {
    reason: String,
    screenshot: bool,
}

impl From<fantoccini::error::CmdError> for StepFailure {
    fn from(e: fantoccini::error::CmdError) -> Self {
        StepFailure {
            reason: format!("the WebDriver session failed: {e}"),
            screenshot: false,
        }
    }
}

fn fail(reason: String) -> StepFailure {
    StepFailure {
        reason,
        screenshot: true,
    }
}

impl Session<'_> {
    async fn inspect(&self) -> Result<PageState, StepFailure> {
        let value = self.client.execute(INSPECT, Vec::new()).await?;
        serde_json::from_value(value)
            .map_err(|e| fail(format!("the page inspection answered unexpectedly: {e}")))
    }

    async fn marked(&self, name: &str) -> Result<Element, StepFailure> {
        Ok(self
            .client
            .find(Locator::Css(&format!("[data-ssoproof=\"{name}\"]")))
            .await?)
    }

    /// Submits the marked inputs: the marked submit control, else Enter in `field`.
    async fn submit(&self, state: &PageState, field: &Element) -> Result<(), StepFailure> {
        if state.submit {
            self.marked("submit").await?.click().await?;
        } else {
            field
                .send_keys(&char::from(fantoccini::key::Key::Enter).to_string())
                .await?;
        }
        Ok(())
    }

    /// Waits until the page reacts to the action on the `marked` element (see [`SETTLED`]) or
    /// reaches the redirect URI.
    async fn settle(
        &self,
        marked: &str,
        error: &Option<String>,
        did: &str,
    ) -> Result<(), StepFailure> {
        loop {
            if self.at_redirect_uri().await?.is_some() {
                return Ok(());
            }
            let settled = self
                .client
                .execute(SETTLED, vec![json!(marked), json!(error)])
                .await
                // A page unloading mid-script is a page that reacted.
                .map_or(true, |v| v.as_bool().unwrap_or(true));
            if settled {
                return Ok(());
            }
            if Instant::now() >= self.deadline {
                return Err(fail(format!(
                    "the page did not react within {} s after the driver {did}",
                    self.timeout.as_secs_f64()
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn at_redirect_uri(&self) -> Result<Option<Url>, StepFailure> {
        let url = self.client.current_url().await?;
        Ok(is_callback(url.as_str(), &url, self.redirect_uri).then_some(url))
    }

    /// Acts on each page until the browser reaches the redirect URI.
    async fn walk(&self, start: &Url, username: &str) -> Result<Url, StepFailure> {
        self.client.goto(start.as_str()).await?;
        let (mut sent_username, mut sent_password, mut consents) = (false, false, 0usize);
        loop {
            if let Some(url) = self.at_redirect_uri().await? {
                return Ok(url);
            }
            let state = self.inspect().await?;
            let shown = state.describe(self.secrets);
            if state.password_count > 1 {
                return Err(fail(
                    "the page asks for a new password (an expired password or a required \
                     action); complete it once in a real browser, then retry"
                        .to_string(),
                ));
            }
            if state.password && sent_password {
                // The same wording as the form driver's, so a rejected login reads the same.
                if let Some(error) = &state.error {
                    return Err(fail(format!(
                        "the login form came back after the password was submitted, saying \
                         \u{201c}{}\u{201d}; check the username and password, and that the user \
                         is enabled",
                        redact_all(error, self.secrets)
                    )));
                }
                if !state.password_filled {
                    return Err(fail(format!(
                        "the login form came back after the password was submitted ({shown}) \
                         without an error message; check the username and password"
                    )));
                }
            } else if state.password {
                if state.username && state.username_value != username {
                    let input = self.marked("username").await?;
                    input.clear().await?;
                    input.send_keys(username).await?;
                }
                let input = self.marked("password").await?;
                input.clear().await?;
                input.send_keys(self.password.expose()).await?;
                self.submit(&state, &input).await?;
                sent_password = true;
                self.settle("password", &state.error, "submitted the password")
                    .await?;
                continue;
            } else if state.username && state.username_value.is_empty() && sent_username {
                return Err(fail(format!(
                    "the username form came back after the username was submitted ({shown}); \
                     check the username"
                )));
            } else if state.username && state.username_value != username {
                let input = self.marked("username").await?;
                input.clear().await?;
                input.send_keys(username).await?;
                self.submit(&state, &input).await?;
                sent_username = true;
                self.settle("username", &state.error, "submitted the username")
                    .await?;
                continue;
            } else if state.accept && !state.username {
                consents += 1;
                if consents > MAX_CONSENTS {
                    return Err(fail(format!(
                        "the consent prompt keeps coming back ({shown})"
                    )));
                }
                self.marked("accept").await?.click().await?;
                self.settle("accept", &state.error, "accepted the consent prompt")
                    .await?;
                continue;
            }
            if Instant::now() >= self.deadline {
                return Err(fail(format!(
                    "{shown}: waited {} s for {LOOKED_FOR}; the page shows none the driver \
                     understands (an unusual login page, or the IdP refused the authorization \
                     request: check the client id, redirect URI and scopes)",
                    self.timeout.as_secs_f64()
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clears every password value on the page, checks through WebDriver that none is left,
    /// and saves a screenshot in the options' directory.
    async fn screenshot(&self) -> Result<PathBuf, String> {
        self.client
            .execute(CLEAR, vec![json!(self.password.expose())])
            .await
            .map_err(|e| format!("clearing the password inputs failed: {e}"))?;
        if secret_left(&self.client, self.password).await? {
            return Err("a password value could not be cleared, so no screenshot was taken".into());
        }
        let png = self
            .client
            .screenshot()
            .await
            .map_err(|e| format!("the screenshot failed: {e}"))?;
        let dir = &self.options.screenshots;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        let path = dir.join(format!("sign-in-{}.png", uuid::Uuid::new_v4()));
        std::fs::write(&path, png)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        Ok(path)
    }

    /// The page URL for a message: without query or fragment, redacted.
    async fn page(&self, fallback: &Url) -> String {
        let url = self
            .client
            .current_url()
            .await
            .unwrap_or_else(|_| fallback.clone());
        redact_all(&display_url(&url), self.secrets)
    }
}

/// Whether any input on the page still holds the password, or any password input a value, read
/// back through WebDriver rather than trusted from the clearing script.
async fn secret_left(client: &Client, password: &Secret) -> Result<bool, String> {
    let inputs = client
        .find_all(Locator::Css("input"))
        .await
        .map_err(|e| format!("reading the inputs back failed: {e}"))?;
    for input in inputs {
        let value = input.prop("value").await.ok().flatten().unwrap_or_default();
        let kind = input.attr("type").await.ok().flatten().unwrap_or_default();
        if value == password.expose()
            || (kind.eq_ignore_ascii_case("password") && !value.is_empty())
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Signs `username` in at `start` in a fresh headless Chromium and returns the redirect back,
/// read as [`Callback`]. The whole of it, browser start included, is bounded by `timeout`.
pub(crate) async fn sign_in(
    start: &Url,
    redirect_uri: &str,
    username: &str,
    password: &Secret,
    timeout: Duration,
    options: &BrowserOptions,
    secrets: &[&Secret],
) -> Result<Callback, RpError> {
    let deadline = Instant::now() + timeout;
    let (group, client) = start_before(deadline, timeout).await?;
    let session = Session {
        client,
        redirect_uri,
        password,
        secrets,
        options,
        deadline,
        timeout,
    };
    // A WebDriver command can wait without end (a page that never loads), so the steps are
    // bounded as a whole, not only between polls.
    let left = deadline.saturating_duration_since(Instant::now());
    let outcome = tokio::time::timeout(left, session.walk(start, username))
        .await
        .unwrap_or_else(|_| {
            Err(fail(format!(
                "the sign-in did not reach the redirect URI within {} s (a page that does not \
                 finish loading, or one that keeps changing); looked for {LOOKED_FOR}",
                timeout.as_secs_f64()
            )))
        });
    let result = match outcome {
        Ok(url) => Callback::from_url(&url).map_err(|reason| RpError::LoginFailed {
            page: redact_all(&display_url(&url), secrets),
            reason,
            screenshot: None,
        }),
        Err(failure) => {
            let page = tokio::time::timeout(REPORT_LIMIT, session.page(start))
                .await
                .unwrap_or_else(|_| redact_all(&display_url(start), secrets));
            let (screenshot, note) = if failure.screenshot {
                match tokio::time::timeout(REPORT_LIMIT, session.screenshot()).await {
                    Ok(Ok(path)) => (Some(path), String::new()),
                    Ok(Err(why)) => (None, format!(" (no screenshot: {why})")),
                    Err(_) => (
                        None,
                        " (no screenshot: the browser did not answer)".to_string(),
                    ),
                }
            } else {
                (None, String::new())
            };
            Err(RpError::LoginFailed {
                page,
                reason: format!("{}{note}", failure.reason),
                screenshot,
            })
        }
    };
    // Ends the session politely (Chromium's profile removed); the group is killed regardless.
    let _ = tokio::time::timeout(REPORT_LIMIT, session.client.close()).await;
    drop(group);
    result
}

/// [`start`] within the deadline.
async fn start_before(
    deadline: Instant,
    timeout: Duration,
) -> Result<(ProcessGroup, Client), RpError> {
    tokio::time::timeout(timeout, start(deadline))
        .await
        .unwrap_or_else(|_| {
            Err(unavailable(format!(
                "Chromium did not start within the sign-in's limit of {} s",
                timeout.as_secs_f64()
            )))
        })
}

/// Whether the driver can run here: chromedriver and Chromium are found (`browser_unavailable`
/// saying what to install otherwise), before any scenario tries to sign in.
pub fn check_browser() -> Result<(), RpError> {
    programs().map(|_| ())
}

/// chromedriver and Chromium, as [`start`] runs them.
fn programs() -> Result<(PathBuf, PathBuf), RpError> {
    let driver = program("SSOPROOF_CHROMEDRIVER", &["chromedriver"], "chromedriver")?;
    let chromium = program(
        "SSOPROOF_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
        "Chromium",
    )?;
    Ok((driver, chromium))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Whether a browser test may run: skipped (said on stderr) without Chromium, failed
    /// instead when `SSOPROOF_REQUIRE_CHROMIUM=1`.
    pub(crate) fn chromium_or_skip(test: &str) -> bool {
        if check_browser().is_ok() {
            return true;
        }
        assert!(
            std::env::var_os("SSOPROOF_REQUIRE_CHROMIUM").is_none_or(|v| v.is_empty()),
            "{test}: SSOPROOF_REQUIRE_CHROMIUM is set but chromium or chromedriver is missing"
        );
        eprintln!("SKIPPED {test}: chromium or chromedriver is not installed");
        false
    }

    #[test]
    fn a_missing_chromedriver_says_what_to_install() {
        let err = program(
            "SSOPROOF_TEST_UNSET_VAR",
            &["no-such-chromedriver-here"],
            "chromedriver",
        )
        .unwrap_err();
        assert_eq!(err.code(), "browser_unavailable");
        let text = err.to_string();
        assert!(
            text.contains("install Debian's chromium and chromium-driver"),
            "{text}"
        );
        assert!(text.contains("SSOPROOF_CHROMEDRIVER"), "{text}");
    }

    #[tokio::test]
    async fn the_screenshot_never_holds_the_password() {
        if !chromium_or_skip("the_screenshot_never_holds_the_password") {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let (group, client) = start(deadline).await.unwrap();
        let password = Secret::new("hunter2-typed");
        let page = "data:text/html,<input id=u value='hunter2-typed'><input id=p type=password>";
        client.goto(page).await.unwrap();
        client
            .find(Locator::Css("#p"))
            .await
            .unwrap()
            .send_keys(password.expose())
            .await
            .unwrap();
        assert!(secret_left(&client, &password).await.unwrap());
        let dir = tempfile::tempdir().unwrap();
        let options = BrowserOptions {
            screenshots: dir.path().to_path_buf(),
        };
        let session = Session {
            client: client.clone(),
            redirect_uri: "http://127.0.0.1:9/callback",
            password: &password,
            secrets: &[],
            options: &options,
            deadline,
            timeout: Duration::from_secs(30),
        };
        let path = session.screenshot().await.unwrap();
        // Read back at screenshot time through WebDriver: nothing holds the password any more.
        assert!(!secret_left(&client, &password).await.unwrap());
        let png = std::fs::read(&path).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{}", path.display());
        let _ = client.close().await;
        drop(group);
    }
}
