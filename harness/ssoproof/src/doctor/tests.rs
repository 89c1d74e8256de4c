//! The doctor against in-process emulators — the IdP over HTTPS with a local CA, AWS and Google
//! trusting it — with each hop made to fail in turn. Reports are snapshotted with the per-run
//! values (ports, times, temporary paths) redacted.

use std::path::{Path, PathBuf};

use super::*;
use ssoproof_cloud::aws::{AwsConfig, AwsEmulator, AwsOptions};
use ssoproof_cloud::gcp::{GcpConfig, GcpEmulator, GcpOptions};
use ssoproof_cloud::{fetch_client, placeholders};
use ssoproof_idp::{Emulator, Fault, IdpOptions, Realm};
use ssoproof_server::tls::LocalCa;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fixtures' IdP, AWS account and Google organisation, running.
struct Lab {
    idp: Emulator,
    aws: AwsEmulator,
    gcp: GcpEmulator,
    dir: tempfile::TempDir,
}

impl Lab {
    /// `gcp_edit` changes the organisation file's text before it is loaded.
    async fn start(gcp_edit: impl Fn(String) -> String) -> Lab {
        let ca = LocalCa::generate().unwrap();
        let tls = ca
            .issue_server_cert(&["127.0.0.1"])
            .unwrap()
            .server_config()
            .unwrap();
        let realm =
            Realm::from_keycloak_export(root().join("fixtures/keycloak-realm.json")).unwrap();
        let idp = Emulator::start(
            realm,
            IdpOptions {
                tls: Some(tls),
                ..IdpOptions::default()
            },
        )
        .await
        .unwrap();
        let issuer = placeholders::idp_issuer(&idp.issuer());
        let fetch = fetch_client(&[ca.root_certificate().unwrap()]);
        let aws_config =
            AwsConfig::load_with(&root().join("fixtures/cloud/aws.yaml"), &issuer).unwrap();
        let aws = AwsEmulator::start(
            aws_config,
            AwsOptions {
                http: fetch.clone(),
                ..AwsOptions::default()
            },
        )
        .await
        .unwrap();
        let gcp_path = root().join("fixtures/cloud/gcp.yaml");
        let mut variables = issuer.to_vec();
        variables.push((
            placeholders::GOOGLE_ISSUER,
            "https://accounts.example.test/google".into(),
        ));
        let text = gcp_edit(std::fs::read_to_string(&gcp_path).unwrap());
        let gcp_config = GcpConfig::parse(&text, &gcp_path, &variables).unwrap();
        let gcp = GcpEmulator::start(
            gcp_config,
            GcpOptions {
                http: fetch,
                ..GcpOptions::default()
            },
        )
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.cert_pem()).unwrap();
        Lab { idp, aws, gcp, dir }
    }

    async fn fixtures() -> Lab {
        Lab::start(|text| text).await
    }

    /// The profile of a healthy setup, then `edit`ed.
    fn profile_text(&self, edit: impl Fn(String) -> String) -> String {
        let root = root();
        edit(format!(
            "idp:
  issuer: {issuer}
  client_id: acme-app
  client_secret_env: CLIENT_SECRET
  redirect_uri: http://127.0.0.1/callback
  username: alice
  password_env: PASSWORD
  role_mappings: {{/acme/admins: admin, /acme/engineers: user}}
  ca_file: ca.pem
aws:
  sts_endpoint: {aws}
  region: us-east-1
  role_arn: arn:aws:iam::123456789012:role/BedrockUser
  duration_seconds: 900
  bedrock_endpoint: {aws}
  model: anthropic.claude-3-5-sonnet-20240620-v1:0
gcp:
  sts_endpoint: {sts}
  audience: //iam.googleapis.com/locations/global/workforcePools/acme-workforce/providers/acme-idp
  project: acme-ai
  vertex_endpoint: {vertex}
  location: us-central1
  model: gemini-2.0-flash-001
runbooks:
  - {root}/runbooks/aws-bedrock.md
  - {root}/runbooks/gcp-vertex.md
  - {root}/runbooks/keycloak.md
",
            issuer = self.idp.issuer(),
            aws = self.aws.sts_endpoint(),
            sts = self.gcp.sts_url(),
            vertex = self.gcp.vertex_url(),
            root = root.display(),
        ))
    }

    fn profile(&self, edit: impl Fn(String) -> String) -> Profile {
        let text = self.profile_text(edit);
        let path = self.dir.path().join("doctor.yaml");
        let env = |name: &str| match name {
            "CLIENT_SECRET" => Some("acme-app-secret".to_string()),
            "PASSWORD" => Some("alice-password".to_string()),
            "DAVE_PASSWORD" => Some("dave-password".to_string()),
            "WRONG_PASSWORD" => Some("not-her-password".to_string()),
            _ => None,
        };
        Profile::parse(&text, &path, &env).unwrap()
    }

    async fn diagnose(&self, edit: impl Fn(String) -> String) -> Report {
        diagnose(&self.profile(edit)).await.unwrap()
    }

    /// Per-run values out: ports, times and lifetimes (which depend on the second the token
    /// was issued in), the temporary folder, the repository root.
    fn redact(&self, text: &str) -> String {
        let root = root().display().to_string();
        let text = text
            .replace(&self.dir.path().display().to_string(), "<tmp>")
            .replace(&root, "<root>");
        let port = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
        let time = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z").unwrap();
        let lifetime = regex::Regex::new(r"expires in \d+ s").unwrap();
        let text = port.replace_all(&text, "127.0.0.1:PORT");
        let text = time.replace_all(&text, "<time>");
        lifetime.replace_all(&text, "expires in <n> s").into_owned()
    }
}

fn failed_hops(report: &Report) -> Vec<(Hop, String)> {
    report
        .hops
        .iter()
        .filter_map(|h| match &h.outcome {
            Outcome::Failed { failure } => Some((h.hop, failure.code.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_healthy_setup_passes_every_hop() {
    let lab = Lab::fixtures().await;
    let report = lab.diagnose(|p| p).await;
    assert!(report.ok, "{}", report::human(&report));
    assert_eq!(report.hops.len(), 8);
    insta::assert_snapshot!("all_ok_human", lab.redact(&report::human(&report)));
    insta::assert_snapshot!("all_ok_json", lab.redact(&report::json(&report)));
}

#[tokio::test]
async fn each_idp_hop_fails_in_turn() {
    let lab = Lab::fixtures().await;
    let report = lab
        .diagnose(|p| p.replace("/realms/acme\n", "/realms/acme-typo\n"))
        .await;
    assert_eq!(
        failed_hops(&report),
        [(Hop::IdpDiscovery, "discovery_failed".into())]
    );
    insta::assert_snapshot!("discovery_failed", lab.redact(&report::human(&report)));

    lab.idp.inject(Fault::JwksDown);
    let report = lab.diagnose(|p| p).await;
    lab.idp.clear_faults();
    assert_eq!(
        failed_hops(&report),
        [(Hop::Jwks, "jwks_unreachable".into())]
    );
    insta::assert_snapshot!("jwks_unreachable", lab.redact(&report::human(&report)));

    let report = lab
        .diagnose(|p| p.replace("password_env: PASSWORD", "password_env: WRONG_PASSWORD"))
        .await;
    assert_eq!(failed_hops(&report), [(Hop::SignIn, "login_failed".into())]);
    insta::assert_snapshot!("login_failed", lab.redact(&report::human(&report)));

    let report = lab
        .diagnose(|p| {
            p.replace("username: alice", "username: dave")
                .replace("password_env: PASSWORD", "password_env: DAVE_PASSWORD")
        })
        .await;
    assert_eq!(
        failed_hops(&report),
        [(Hop::TokenValidation, "groups_unmapped".into())]
    );
    insta::assert_snapshot!("groups_unmapped", lab.redact(&report::human(&report)));
    insta::assert_snapshot!("groups_unmapped_json", lab.redact(&report::json(&report)));
}

#[tokio::test]
async fn each_cloud_hop_fails_in_turn() {
    let lab = Lab::fixtures().await;
    let report = lab
        .diagnose(|p| p.replace("duration_seconds: 900", "duration_seconds: 7200"))
        .await;
    assert_eq!(
        failed_hops(&report),
        [(Hop::AwsSts, "ValidationError".into())]
    );
    insta::assert_snapshot!(
        "aws_sts_validation_error",
        lab.redact(&report::human(&report))
    );

    let report = lab
        .diagnose(|p| p.replace("role/BedrockUser", "role/HaikuOnly"))
        .await;
    assert_eq!(
        failed_hops(&report),
        [(Hop::Bedrock, "AccessDeniedException".into())]
    );
    insta::assert_snapshot!("bedrock_access_denied", lab.redact(&report::human(&report)));

    let report = lab
        .diagnose(|p| p.replace("project: acme-ai", "project: acme-sandbox"))
        .await;
    assert_eq!(
        failed_hops(&report),
        [(Hop::Vertex, "SERVICE_DISABLED".into())]
    );
    insta::assert_snapshot!(
        "vertex_service_disabled",
        lab.redact(&report::human(&report))
    );

    let lab =
        Lab::start(|text| text.replace("client_id: acme-app", "client_id: other-client")).await;
    let report = lab.diagnose(|p| p).await;
    assert_eq!(
        failed_hops(&report),
        [(Hop::GoogleSts, "invalid_grant".into())]
    );
    insta::assert_snapshot!("google_sts_audience", lab.redact(&report::human(&report)));
}

#[tokio::test]
async fn the_next_run_refreshes_silently_and_offboarding_shows_at_the_refresh() {
    let lab = Lab::fixtures().await;
    let with_store = |p: String| {
        p.replace(
            "  ca_file: ca.pem\n",
            "  ca_file: ca.pem\n  token_store: alice.refresh\n",
        )
    };
    let first = lab.diagnose(with_store).await;
    assert!(first.ok);
    let Outcome::Ok { detail } = &first.hops[2].outcome else {
        panic!("{:?}", first.hops[2])
    };
    assert!(detail.contains("refresh token saved to"), "{detail}");

    let second = lab.diagnose(with_store).await;
    let Outcome::Ok { detail } = &second.hops[2].outcome else {
        panic!("{:?}", second.hops[2])
    };
    assert!(detail.contains("refreshed silently"), "{detail}");

    lab.idp.set_user_enabled("alice", false).unwrap();
    let third = lab.diagnose(with_store).await;
    assert_eq!(
        failed_hops(&third),
        [(Hop::SignIn, "refresh_failed".into())]
    );
    insta::assert_snapshot!(
        "offboarded_refresh_failed",
        lab.redact(&report::human(&third))
    );
}

#[tokio::test]
async fn secrets_never_reach_the_report() {
    let lab = Lab::fixtures().await;
    let profile =
        lab.profile(|p| p.replace("password_env: PASSWORD", "password_env: WRONG_PASSWORD"));
    let failing = diagnose(&profile).await.unwrap();
    let passing = lab.diagnose(|p| p).await;
    for report in [failing, passing] {
        for text in [report::human(&report), report::json(&report)] {
            for secret in [
                "acme-app-secret",
                "alice-password",
                "not-her-password",
                "eyJ",
            ] {
                assert!(!text.contains(secret), "{secret} in\n{text}");
            }
        }
    }
}

#[tokio::test]
async fn an_unreadable_runbook_is_an_error_before_any_hop() {
    let lab = Lab::fixtures().await;
    let mut profile = lab.profile(|p| p);
    profile.runbooks.push(lab.dir.path().join("gone.md"));
    let err = diagnose(&profile).await.unwrap_err();
    assert_eq!(err.code(), "doctor/runbook-read");
}
