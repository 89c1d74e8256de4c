//! The relying party's browser driver (headless Chromium) against node-oidc-provider 8: its
//! development login, then its consent page, through to a validated session. Skipped, and said
//! so, without node, `npm ci` in `scripts/oidc-provider`, or chromium and chromedriver
//! (failed instead under SSOPROOF_REQUIRE_PROBE_TARGETS=1 or SSOPROOF_REQUIRE_CHROMIUM=1).

use ssoproof_rp::{check_browser, BrowserOptions, ClientConfig, LoginDriver, RelyingParty};
use ssoproof_secret::Secret;
use ssoproof_thirdparty::{launch_or_skip, NodeApp};

#[tokio::test]
async fn the_browser_driver_signs_in_at_node_oidc_provider() {
    if let Err(e) = check_browser() {
        assert!(
            std::env::var_os("SSOPROOF_REQUIRE_CHROMIUM").is_none_or(|v| v.is_empty()),
            "SSOPROOF_REQUIRE_CHROMIUM is set but {e}"
        );
        eprintln!("SKIPPED: {e}");
        return;
    }
    let provider = launch_or_skip!(NodeApp::oidc_provider().await);
    let mut config = ClientConfig::new(provider.issuer(), "acme-app", "http://127.0.0.1/callback");
    config.client_secret = Some(Secret::new("acme-app-secret"));
    config.scopes = ["openid", "email", "groups"].map(String::from).to_vec();
    config.role_mappings = vec![("/acme/admins".into(), config.roles.role("admin").unwrap())];
    let rp = RelyingParty::discover(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let driver = LoginDriver::Browser(BrowserOptions {
        screenshots: dir.path().to_path_buf(),
    });
    let session = rp
        .login_with(&driver, "alice", &Secret::new("any-password"))
        .await
        .unwrap_or_else(|e| panic!("[{}] {e}", e.code()));
    assert_eq!(session.outcome.role, "admin");
    assert_eq!(session.outcome.email.as_deref(), Some("alice@example.com"));
}
