//! The team's own application under test: started for each scenario against the scenario's
//! IdP, signed in to through its own login URL by the probe's browser (`ssoproof probe app`'s
//! session), and asked who is signed in.
//!
//! The start command runs under `sh -c` in the project root with the IdP's coordinates in its
//! environment: `ISSUER`, `CLIENT_ID`, `CLIENT_SECRET` (the realm's client, the one the runbook
//! configures) and `PORT`, a free loopback port the application must listen on. It is killed,
//! with every process it started, when the scenario ends.

use std::os::unix::process::CommandExt as _;
use std::process::Stdio;
use std::time::Duration;

use cucumber::{gherkin::Step, given, then, when};
use ssoproof_idp::Fault;
use ssoproof_probe::app::session::{HopError, Session, SignedIn, Target, Whoami};
use tokio::io::AsyncReadExt as _;
use url::Url;

use super::StepResult;
use crate::scenario::world::RunbookWorld;

/// How long the application may take to listen.
const READY: Duration = Duration::from_secs(20);
/// Every request of a sign-in through the application.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A running application under test; killed with its process group when dropped.
pub struct AppUnderTest {
    child: tokio::process::Child,
    base: Url,
    login: Option<Url>,
    whoami: Option<Url>,
    role_pointer: String,
}

impl Drop for AppUnderTest {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            // The command runs in a process group of its own (`sh` and whatever it started);
            // the whole group goes, not only `sh`.
            // SAFETY: killpg only sends a signal.
            unsafe {
                libc::killpg(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

fn app(world: &mut RunbookWorld) -> Result<&mut AppUnderTest, String> {
    world
        .app_under_test
        .as_mut()
        .ok_or_else(|| "no application under test: start it with \"Given the application under test, started with:\"".into())
}

#[given("the application under test, started with:")]
async fn started_with(world: &mut RunbookWorld, step: &Step) -> StepResult {
    let command = step
        .docstring
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or("give the start command as the step's doc string")?
        .to_string();
    let idp = world.idp().clone();
    let client = idp.client();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free loopback port for the application: {e}"))?
        .port();
    let mut command_line = std::process::Command::new("/bin/sh");
    command_line
        .arg("-c")
        .arg(&command)
        .current_dir(&world.root)
        .env("ISSUER", idp.issuer())
        .env("CLIENT_ID", &client.client_id)
        .env(
            "CLIENT_SECRET",
            client
                .secret
                .as_ref()
                .map(|s| s.expose())
                .unwrap_or_default(),
        )
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = tokio::process::Command::from(command_line)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start `{command}`: {e}"))?;
    let base = Url::parse(&format!("http://127.0.0.1:{port}/")).expect("a valid URL");
    let deadline = tokio::time::Instant::now() + READY;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr).await;
            }
            return Err(format!(
                "the application under test exited ({status}) before it listened on port {port}: {}",
                stderr.trim()
            ));
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "the application under test did not listen on port {port} (from $PORT) within {} s",
                READY.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    world.app_under_test = Some(AppUnderTest {
        child,
        base,
        login: None,
        whoami: None,
        role_pointer: String::new(),
    });
    Ok(())
}

#[given(
    expr = "its login URL is {string} and its whoami URL is {string}, with the role at {string}"
)]
fn urls(world: &mut RunbookWorld, login: String, whoami: String, pointer: String) -> StepResult {
    let app = app(world)?;
    let join = |path: &str| {
        app.base
            .join(path)
            .map_err(|e| format!("`{path}` is not a path of the application: {e}"))
    };
    app.login = Some(join(&login)?);
    app.whoami = Some(join(&whoami)?);
    if !pointer.starts_with('/') {
        return Err(format!(
            "`{pointer}` is not a JSON pointer; they start with `/`"
        ));
    }
    app.role_pointer = pointer;
    Ok(())
}

#[when(expr = "{word} signs in through the application")]
async fn sign_in(world: &mut RunbookWorld, user: String) -> StepResult {
    let idp = world.idp().clone();
    let password = idp
        .password(&user)
        .ok_or_else(|| format!("the IdP has no user `{user}` with a password"))?;
    let issuer = idp.issuer();
    let app = app(world)?;
    let (Some(login_url), Some(whoami_url)) = (app.login.clone(), app.whoami.clone()) else {
        return Err("name the application's URLs first: \"its login URL is … and its whoami URL is …, with the role at …\"".into());
    };
    let target = Target {
        login_url,
        whoami_url,
        signed_in: SignedIn::Pointer(app.role_pointer.clone()),
        idp_origin: Url::parse(&issuer)
            .map_err(|e| format!("the issuer `{issuer}` is not a URL: {e}"))?
            .origin(),
        timeout: TIMEOUT,
    };
    let outcome = async {
        let session = Session::new(&target)?;
        session.login(&idp.login_name(&user), &password).await
    }
    .await;
    world.app_login = Some(outcome.map(|login| login.whoami));
    Ok(())
}

fn last(world: &RunbookWorld) -> Result<&Result<Whoami, HopError>, String> {
    world
        .app_login
        .as_ref()
        .ok_or_else(|| "no sign-in through the application yet".into())
}

#[then(expr = "the application shows her/him as {word}")]
fn shows_as(world: &mut RunbookWorld, role: String) -> StepResult {
    match last(world)? {
        Ok(Whoami::SignedIn {
            identity: Some(identity),
            ..
        }) if *identity == role => Ok(()),
        Ok(Whoami::SignedIn { identity, .. }) => Err(format!(
            "the application signed the user in as {}, not {role}",
            identity.as_deref().unwrap_or("(no role)")
        )),
        Ok(Whoami::SignedOut { status, detail }) => Err(format!(
            "the application did not sign the user in ({status}: {detail})"
        )),
        Err(e) => Err(format!(
            "the sign-in failed at the {}: {}",
            e.hop, e.message
        )),
    }
}

#[then("the application refuses the login")]
fn refuses(world: &mut RunbookWorld) -> StepResult {
    match last(world)? {
        Ok(Whoami::SignedOut { .. }) => Ok(()),
        // The IdP itself refused (the user's assignment, a disabled user): no session either.
        Err(e) if e.hop == ssoproof_probe::app::HOP_IDP => Ok(()),
        Ok(Whoami::SignedIn { identity, .. }) => Err(format!(
            "the application created a session{} although it must refuse the login",
            identity
                .as_deref()
                .map(|i| format!(" (as {i})"))
                .unwrap_or_default()
        )),
        Err(e) => Err(format!(
            "the sign-in failed at the {}: {}",
            e.hop, e.message
        )),
    }
}

#[given("the IdP signs ID tokens with alg none")]
#[when("the IdP signs ID tokens with alg none")]
fn alg_none(world: &mut RunbookWorld) -> StepResult {
    world
        .idp()
        .inject(Fault::AlgNone)
        .map_err(|e| e.to_string())
}
