//! `probe scim` against servers that misbehave: an answer that is not JSON, one too large to
//! read, one that never comes, a 500. Each must end the run with `ERROR` or `BROKEN` rows
//! naming the request, never a panic or a hang.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::any;
use futures::StreamExt;
use ssoproof_probe::scim::{self, ScimTarget};
use ssoproof_probe::{Observed, ProbeReport, Verdict};
use ssoproof_secret::Secret;
use ssoproof_server::ServerHandle;
use url::Url;

const TOKEN: &str = "hostile-test-token-0123456789";

async fn serve(router: axum::Router) -> ServerHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ServerHandle::spawn(listener, router).unwrap()
}

async fn probe(server: &ServerHandle, max_body: usize) -> ProbeReport {
    let base = Url::parse(&format!("http://{}/scim/v2", server.local_addr())).unwrap();
    let mut target = ScimTarget::new(base, Secret::new(TOKEN), false).unwrap();
    target.timeout = Duration::from_secs(1);
    target.max_body = max_body;
    scim::run(&target).await.unwrap()
}

/// The first case's error: the request it names and its message.
fn first_error(report: &ProbeReport) -> (&str, &str) {
    match &report.cases[0].observed {
        Observed::Error { hop, message } => (hop, message),
        other => panic!("{other:?}"),
    }
}

/// Every case fails but the cleanup, which had nothing to delete.
fn no_case_passes(report: &ProbeReport) {
    let (cleanup, cases) = report.cases.split_last().unwrap();
    assert_eq!(cleanup.id, "cleanup");
    assert_eq!(cleanup.verdict(), Verdict::Pass);
    for case in cases {
        assert_ne!(case.verdict(), Verdict::Pass, "{}", case.id);
    }
}

#[tokio::test]
async fn a_server_answering_html_is_an_error_naming_the_request() {
    let server = serve(axum::Router::new().fallback(any(|| async {
        (
            [("content-type", "text/html")],
            "<html><body>Sign in</body></html>",
        )
    })))
    .await;
    let report = probe(&server, 1 << 20).await;
    no_case_passes(&report);
    let (hop, message) = first_error(&report);
    assert_eq!(hop, "GET /scim/v2/ServiceProviderConfig");
    assert!(
        message.starts_with("answered 200 with a body that is not JSON"),
        "{message}"
    );
    assert!(message.contains("<html><body>Sign in"), "{message}");
}

#[tokio::test]
async fn an_oversized_answer_is_cut_at_the_cap_and_named() {
    let server = serve(
        axum::Router::new().fallback(any(|| async { format!("[{}1]", "1,".repeat(64 * 1024)) })),
    )
    .await;
    let report = probe(&server, 16 * 1024).await;
    no_case_passes(&report);
    let (hop, message) = first_error(&report);
    assert_eq!(hop, "GET /scim/v2/ServiceProviderConfig");
    assert!(message.contains("a body over 16384 bytes"), "{message}");
}

#[tokio::test]
async fn a_hanging_server_costs_one_timeout_and_every_later_case_names_it() {
    let server = serve(axum::Router::new().fallback(any(std::future::pending::<String>))).await;
    let report = probe(&server, 1 << 20).await;
    no_case_passes(&report);
    let (hop, message) = first_error(&report);
    assert_eq!(hop, "GET /scim/v2/ServiceProviderConfig");
    assert_eq!(message, "no answer within 1 s (--timeout)");
    let Observed::Error { hop, message } = &report.cases[1].observed else {
        panic!("{:?}", report.cases[1].observed)
    };
    assert_eq!(hop, "GET /scim/v2/Schemas");
    assert!(
        message.starts_with("not sent: the server did not answer an earlier request (GET /scim/v2/ServiceProviderConfig"),
        "{message}"
    );
}

#[tokio::test]
async fn a_body_that_stops_halfway_costs_one_timeout() {
    // Headers and the first bytes of a JSON body, then nothing.
    let server = serve(axum::Router::new().fallback(any(|| async {
        let first = futures::stream::once(async {
            Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{\"schemas\": ["))
        });
        axum::body::Body::from_stream(first.chain(futures::stream::pending()))
    })))
    .await;
    let report = probe(&server, 1 << 20).await;
    no_case_passes(&report);
    let (hop, message) = first_error(&report);
    assert_eq!(hop, "GET /scim/v2/ServiceProviderConfig");
    assert_eq!(
        message,
        "answered 200 but did not finish its body within 1 s (--timeout)"
    );
    let Observed::Error { message, .. } = &report.cases[1].observed else {
        panic!("{:?}", report.cases[1].observed)
    };
    assert!(message.starts_with("not sent: "), "{message}");
}

#[tokio::test]
async fn a_server_error_is_broken_with_what_was_expected_and_what_came_back() {
    // Echoes the token back, as a careless error page might: the report must not.
    let server = serve(axum::Router::new().fallback(any(
        |headers: axum::http::HeaderMap| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                    "status": "500", "detail": format!("database down ({auth})"),
                })),
            )
                .into_response()
        },
    )))
    .await;
    let report = probe(&server, 1 << 20).await;
    no_case_passes(&report);
    let spc = &report.cases[0];
    assert_eq!(spc.verdict(), Verdict::Broken);
    let Observed::Refused { status, detail } = &spc.observed else {
        panic!("{:?}", spc.observed)
    };
    assert_eq!(*status, Some(500));
    assert!(
        detail.starts_with("GET /scim/v2/ServiceProviderConfig: expected 200 with the ServiceProviderConfig schema"),
        "{detail}"
    );
    assert!(detail.contains("got 500"), "{detail}");
    for format in [
        ssoproof_probe::report::Format::Table,
        ssoproof_probe::report::Format::Json,
        ssoproof_probe::report::Format::Junit,
        ssoproof_probe::report::Format::Sarif,
    ] {
        let text = ssoproof_probe::report::render(&report, format, true);
        assert!(!text.contains(TOKEN), "{format:?}: {text}");
    }
    // The read-only case writes back what the server announced; with nothing read, it does not
    // write at all.
    let read_only = report
        .cases
        .iter()
        .find(|c| c.id == "discovery-read-only")
        .unwrap();
    let Observed::Error { message, .. } = &read_only.observed else {
        panic!("{:?}", read_only.observed)
    };
    assert_eq!(
        message,
        "not run: the ServiceProviderConfig was not read, see case service-provider-config"
    );
    // Cases whose User was never created say so instead of guessing.
    let read = report.cases.iter().find(|c| c.id == "user-read").unwrap();
    let Observed::Error { message, .. } = &read.observed else {
        panic!("{:?}", read.observed)
    };
    assert_eq!(
        message,
        "not run: the first User was not created, see case user-create"
    );
}
