//! `probe scim` against the emulator's own minimal SCIM endpoint (`/_ssoproof/scim/v2`, the
//! deprovisioning drill's): it serves discovery of its configuration, user lookup and `active`,
//! nothing else, and the report says exactly that.

use std::collections::BTreeMap;

use ssoproof_idp::{Emulator, IdpOptions, Realm};
use ssoproof_probe::scim::{self, Dialect, ScimTarget};
use ssoproof_probe::Verdict;
use ssoproof_secret::Secret;
use url::Url;

#[tokio::test]
async fn the_emulators_scim_endpoint_is_reported_for_what_it_serves() {
    let emulator = Emulator::start(Realm::builtin_keycloak(), IdpOptions::default())
        .await
        .unwrap();
    let base = Url::parse(&format!("{}/_ssoproof/scim/v2", emulator.base_url())).unwrap();
    let mut target = ScimTarget::new(base, Secret::new("unused-by-the-emulator"), false).unwrap();
    target.dialect = Dialect::EntraId;
    let report = scim::run(&target).await.unwrap();
    let verdicts: BTreeMap<&str, Verdict> = report
        .cases
        .iter()
        .map(|c| (c.id.as_str(), c.verdict()))
        .collect();
    let table =
        ssoproof_probe::report::render(&report, ssoproof_probe::report::Format::Table, false);
    for (case, verdict) in [
        ("service-provider-config", Verdict::Pass),
        // Loopback-only like the admin API, it asks for no token.
        ("no-token", Verdict::Vulnerable),
        ("user-create", Verdict::Broken),
        ("cleanup", Verdict::Pass),
    ] {
        assert_eq!(verdicts[case], verdict, "{case}\n{table}");
    }
    // Every case that needs a User the probe creates says so.
    assert_eq!(
        verdicts["deprovision-deactivate"],
        Verdict::Error,
        "{table}"
    );
    assert_eq!(verdicts["entra-id-deactivate"], Verdict::Error, "{table}");
    assert!(!report.passed());
}
