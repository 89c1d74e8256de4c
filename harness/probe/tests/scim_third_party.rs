//! `probe scim` against real software: scim2-server 0.8.3 (PyPI), started per test by
//! `ssoproof-thirdparty`, in each dialect; and scim2-tester 0.5.2, an RFC compliance checker,
//! run on the same server to check that every area it covers is covered by a `probe scim`
//! case. Each test states what scim2-server does with every case, findings included.
//!
//! Skips (printing `SKIPPED: …`) when the venv is not installed, unless
//! `SSOPROOF_REQUIRE_PROBE_TARGETS=1`.

use std::collections::{BTreeMap, BTreeSet};

use ssoproof_probe::report::{render, Format};
use ssoproof_probe::scim::{self, Dialect, ScimTarget};
use ssoproof_probe::{ProbeReport, Verdict};
use ssoproof_secret::Secret;
use ssoproof_thirdparty::{launch_or_skip, Scim2Server};

fn token() -> Secret {
    Secret::new(format!("scim-token-{}", uuid::Uuid::new_v4().simple()))
}

async fn probe(base: &url::Url, token: &Secret, dialect: Dialect) -> ProbeReport {
    let mut target = ScimTarget::new(base.clone(), token.clone(), false).unwrap();
    target.dialect = dialect;
    scim::run(&target).await.unwrap()
}

fn verdicts(report: &ProbeReport) -> BTreeMap<String, Verdict> {
    report
        .cases
        .iter()
        .map(|c| (c.id.clone(), c.verdict()))
        .collect()
}

#[tokio::test]
async fn scim2_server_passes_the_rfc_and_okta_cases_and_breaks_on_entras_member_removal() {
    let token = token();
    let server = launch_or_skip!(Scim2Server::start(&token).await);
    for dialect in [Dialect::Rfc, Dialect::Okta, Dialect::EntraId] {
        let report = probe(server.base_url(), &token, dialect).await;
        let table = render(&report, Format::Table, false);
        assert!(!table.contains(token.expose()), "{table}");
        assert_eq!(
            report
                .cases
                .iter()
                .map(|c| c.id.clone())
                .collect::<Vec<_>>(),
            scim::cases::ids(dialect)
        );
        let failed: Vec<_> = verdicts(&report)
            .into_iter()
            .filter(|(_, v)| *v != Verdict::Pass)
            .collect();
        // Finding: scim2-server 0.8.3 refuses Entra ID's member removal (`Remove`, path
        // `members`, the members to remove as a value list) with 400 invalidValue ("a remove
        // operation carries no value, a filter in the path selects what to remove"): RFC 7644
        // §3.5.2.2 has no value on remove, Entra ID's client sends one. Everything else it
        // does as the RFC and both dialects ask, mixed-case ops and "False" included.
        let expected: Vec<(String, Verdict)> = match dialect {
            Dialect::EntraId => vec![("entra-id-remove-member".into(), Verdict::Broken)],
            _ => Vec::new(),
        };
        assert_eq!(failed, expected, "{table}\n{}", server.log());
        if dialect == Dialect::EntraId {
            let case = report
                .cases
                .iter()
                .find(|c| c.id == "entra-id-remove-member")
                .unwrap();
            let detail = serde_json::to_string(&case.observed).unwrap();
            assert!(detail.contains("PATCH /v2/Groups/"), "{detail}");
            assert!(detail.contains("invalidValue"), "{detail}");
        }
    }
}

/// What each scim2-tester checker exercises, as the `probe scim` cases that exercise the same
/// (RFC dialect). Written down so that a checker a new scim2-tester adds fails this test until
/// it is mapped, or a case is added for it.
const TESTER_TO_CASES: &[(&str, &[&str])] = &[
    (
        "service_provider_config_endpoint",
        &["service-provider-config"],
    ),
    // scim2-tester sends POST, PUT, PATCH and DELETE to each discovery endpoint; the probe
    // sends PUT to /ServiceProviderConfig only.
    (
        "service_provider_config_endpoint_methods",
        &["discovery-read-only"],
    ),
    ("resource_types_endpoint_methods", &["discovery-read-only"]),
    ("schemas_endpoint_methods", &["discovery-read-only"]),
    ("query_all_resource_types", &["resource-types"]),
    ("query_resource_type_by_id", &["resource-types"]),
    (
        "resource_types_schema_validation",
        &["resource-types", "schemas"],
    ),
    ("access_invalid_resource_type", &["discovery-unknown-id"]),
    ("query_all_schemas", &["schemas"]),
    ("access_schema_by_id", &["schemas"]),
    ("core_schemas_validation", &["schemas"]),
    ("access_invalid_schema", &["discovery-unknown-id"]),
    ("random_url", &["unknown-endpoint"]),
    ("object_creation", &["user-create", "group-create"]),
    ("object_query", &["user-read", "group-read"]),
    ("object_query_without_id", &["filter-eq", "group-filter"]),
    // scim2-tester also asks lists and .search for few attributes; the probe asks one User.
    ("object_query_with_attributes", &["attributes"]),
    ("object_list_with_attributes", &["attributes"]),
    ("search_with_attributes", &["search-post", "attributes"]),
    ("object_replacement", &["user-replace", "group-replace"]),
    ("object_deletion", &["deprovision-delete", "cleanup"]),
    // scim2-tester patches every attribute of the schema; the probe the ones IdPs send.
    ("check_add_attribute", &["patch-add", "group-add-member"]),
    (
        "check_remove_attribute",
        &[
            "patch-remove-attribute",
            "patch-remove-filter",
            "group-remove-member",
        ],
    ),
    (
        "check_replace_attribute",
        &[
            "patch-replace-path",
            "patch-replace-no-path",
            "patch-replace-filter",
        ],
    ),
];

#[tokio::test]
async fn every_area_scim2_tester_checks_is_covered_by_a_probe_case() {
    let token = token();
    let server = launch_or_skip!(Scim2Server::start(&token).await);
    let output = server
        .run_tester(server.base_url(), &token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let checks: Vec<serde_json::Value> = output
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let checkers: BTreeSet<&str> = checks
        .iter()
        .map(|c| c["checker"].as_str().unwrap())
        .collect();
    let ours: BTreeSet<String> = scim::cases::ids(Dialect::Rfc).into_iter().collect();
    let mapping: BTreeMap<&str, &[&str]> = TESTER_TO_CASES.iter().copied().collect();
    let mut covered_by = BTreeSet::new();
    for checker in &checkers {
        let cases = mapping.get(checker).unwrap_or_else(|| {
            panic!("scim2-tester's checker {checker} is not in TESTER_TO_CASES")
        });
        for case in *cases {
            assert!(
                ours.contains(*case),
                "{checker} maps to {case}, which is no case"
            );
            covered_by.insert(*case);
        }
    }
    // On this server scim2-tester, like the probe in the RFC dialect, finds nothing.
    let failed: Vec<_> = checks.iter().filter(|c| c["status"] != "SUCCESS").collect();
    assert!(failed.is_empty(), "{failed:?}");
    // The probe's cases that no scim2-tester checker exercises: what it adds.
    let beyond: Vec<&String> = ours
        .iter()
        .filter(|id| !covered_by.contains(id.as_str()))
        .collect();
    eprintln!(
        "scim2-tester: {} checks from {} checkers, all mapped onto {} of the probe's {} RFC \
         cases; the probe's cases no checker exercises: {}",
        checks.len(),
        checkers.len(),
        covered_by.len(),
        ours.len(),
        beyond.len()
    );
    for case in [
        "no-token",
        "user-conflict",
        "filter-co",
        "filter-invalid",
        "pagination",
        "deprovision-deactivate",
    ] {
        assert!(
            beyond.iter().any(|id| *id == case),
            "{case} is expected beyond scim2-tester"
        );
    }
}
