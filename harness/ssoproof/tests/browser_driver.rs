//! The `browser` login driver (headless Chromium through WebDriver) against the emulator: its
//! normal login page, the script-built one (`serve idp --login-page script`), which the form
//! driver cannot read, and two vendor personas. Skipped, and said so, without chromium and
//! chromedriver; failed instead when `SSOPROOF_REQUIRE_CHROMIUM=1`.

use std::path::{Path, PathBuf};

use ssoproof_idp::{Emulator, IdpOptions, LoginPage, Realm};
use ssoproof_rp::{
    check_browser, BrowserOptions, ClientConfig, LoginDriver, RelyingParty, RpError,
};
use ssoproof_secret::Secret;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chromium_or_skip(test: &str) -> bool {
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

/// An emulator of `realm` and a relying party for its first client, signing in users with the
/// lowest role when their groups map to none (the driver, not the mapping, is under test).
async fn start(realm: Realm, login_page: LoginPage) -> (Emulator, RelyingParty) {
    let emulator = Emulator::start(
        realm,
        IdpOptions {
            login_page,
            ..IdpOptions::default()
        },
    )
    .await
    .unwrap();
    let client_id = emulator.client_ids()[0].clone();
    let mut config = ClientConfig::new(emulator.issuer(), &client_id, "http://127.0.0.1/callback");
    config.client_secret = emulator.client_secret(&client_id);
    config.default_role = Some(config.roles.role("viewer").unwrap());
    let rp = RelyingParty::discover(config).await.unwrap();
    (emulator, rp)
}

fn keycloak() -> Realm {
    Realm::from_keycloak_export(root().join("fixtures/keycloak-realm.json")).unwrap()
}

/// Alice's login name and password at `emulator`.
fn alice(emulator: &Emulator) -> (String, Secret) {
    let name = emulator
        .usernames()
        .into_iter()
        .find(|u| u.starts_with("alice"))
        .unwrap();
    let password = emulator.password(&name).unwrap();
    (name, password)
}

fn browser(dir: &tempfile::TempDir) -> LoginDriver {
    LoginDriver::Browser(BrowserOptions {
        screenshots: dir.path().to_path_buf(),
    })
}

#[tokio::test]
async fn the_form_driver_cannot_read_the_script_built_page_and_says_to_use_the_browser() {
    let (emulator, rp) = start(keycloak(), LoginPage::Script).await;
    let (name, password) = alice(&emulator);
    let err = rp.login(&name, &password).await.unwrap_err();
    assert_eq!(err.code(), "login_failed");
    let text = err.to_string();
    assert!(text.contains("driver: browser"), "{text}");
    assert!(text.contains("no form holding a password input"), "{text}");
}

#[tokio::test]
async fn the_browser_driver_signs_in_on_the_script_built_page() {
    if !chromium_or_skip("the_browser_driver_signs_in_on_the_script_built_page") {
        return;
    }
    let (emulator, rp) = start(keycloak(), LoginPage::Script).await;
    let (name, password) = alice(&emulator);
    let dir = tempfile::tempdir().unwrap();
    let session = rp
        .login_with(&browser(&dir), &name, &password)
        .await
        .unwrap();
    assert_eq!(session.outcome.email.as_deref(), Some("alice@example.com"));
}

/// A rejected password on the script-built page is the form driver's rejected login: the
/// page's message, a screenshot, no password in the message.
#[tokio::test]
async fn a_wrong_password_on_the_script_built_page_is_login_failed() {
    if !chromium_or_skip("a_wrong_password_on_the_script_built_page_is_login_failed") {
        return;
    }
    let (emulator, rp) = start(keycloak(), LoginPage::Script).await;
    let (name, _) = alice(&emulator);
    let dir = tempfile::tempdir().unwrap();
    let err = rp
        .login_with(&browser(&dir), &name, &Secret::new("not-her-password"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "login_failed", "{err}");
    let text = err.to_string();
    assert!(text.contains("Invalid username or password."), "{text}");
    assert!(!text.contains("not-her-password"), "{text}");
    let RpError::LoginFailed {
        screenshot: Some(path),
        ..
    } = &err
    else {
        panic!("no screenshot: {err:?}");
    };
    assert!(std::fs::read(path).unwrap().starts_with(b"\x89PNG"));
}

#[tokio::test]
async fn the_browser_driver_signs_in_on_the_normal_page_and_at_personas() {
    if !chromium_or_skip("the_browser_driver_signs_in_on_the_normal_page_and_at_personas") {
        return;
    }
    let realms = [
        ("keycloak", keycloak()),
        (
            "okta",
            Realm::from_persona(root().join("fixtures/idp/okta.yaml")).unwrap(),
        ),
        (
            "entra-id",
            Realm::from_persona(root().join("fixtures/idp/entra-id.yaml")).unwrap(),
        ),
    ];
    for (label, realm) in realms {
        let (emulator, rp) = start(realm, LoginPage::Form).await;
        let (name, password) = alice(&emulator);
        let dir = tempfile::tempdir().unwrap();
        let session = rp
            .login_with(&browser(&dir), &name, &password)
            .await
            .unwrap_or_else(|e| panic!("{label}: [{}] {e}", e.code()));
        assert!(!session.outcome.sub.is_empty(), "{label}");
    }
}

#[tokio::test]
async fn a_persona_refuses_the_script_built_page() {
    let realm = Realm::from_persona(root().join("fixtures/idp/okta.yaml")).unwrap();
    let options = IdpOptions {
        login_page: LoginPage::Script,
        ..IdpOptions::default()
    };
    let Err(err) = Emulator::start(realm, options).await else {
        panic!("a persona served the script-built page");
    };
    assert_eq!(err.code(), "idp/persona-login-page");
    assert!(err.to_string().contains("--login-page script"), "{err}");
}
