"""google-auth against the emulated Google Cloud of fixtures/cloud/gcp.yaml, as
runbooks/gcp-vertex.md uses it: an `identity_pool` credential file (workforce identity
federation, the ID token read from a file) → Google STS token exchange → Vertex AI
`generateContent` and `rawPredict` through google-auth's AuthorizedSession; and the refusals the
runbook names, by error code.

The runbook's `SERVICE_DISABLED` "requires a quota project" refusal is for a Google account's own
token sent without `x-goog-user-project`; google-auth's identity_pool credentials always carry
their workforce pool user project, so it cannot arise here (the feature and the cloud crate's
tests cover it)."""

import json

import pytest
from google.auth import identity_pool
from google.auth.exceptions import OAuthError
from google.auth.transport.requests import AuthorizedSession

POOL_AUDIENCE = "//iam.googleapis.com/locations/global/workforcePools/acme-workforce/providers/acme-idp"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
GEMINI = {"contents": [{"role": "user", "parts": [{"text": "Say hello"}]}]}


def credentials(lab, sts, user, user_project="acme-ai", **extra):
    """google-auth credentials from a credential file as the runbook writes it."""
    token_file = lab.tmp / f"id_token-{user}"
    token_file.write_text(lab.id_token(user))
    document = {
        "type": "external_account",
        "audience": POOL_AUDIENCE,
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "token_url": sts,
        "workforce_pool_user_project": user_project,
        "credential_source": {"file": str(token_file)},
        **extra,
    }
    path = lab.tmp / f"credential-{user}-{user_project}-{len(extra)}.json"
    path.write_text(json.dumps(document))
    # The type-specific loader: the generic one would also look the project up at Google.
    return identity_pool.Credentials.from_file(str(path), scopes=[CLOUD_PLATFORM])


def model_url(vertex, project, model, publisher="google", location="us-central1", method="generateContent"):
    return (f"{vertex}/v1/projects/{project}/locations/{location}/publishers/{publisher}"
            f"/models/{model}:{method}")


def reason(response):
    assert response.status_code == 403, response.text
    return response.json()["error"]["details"][0]["reason"]


@pytest.fixture(scope="module")
def gcp(lab):
    return lab.clouds


def test_generate_content_bills_the_workforce_pool_user_project(lab, gcp):
    session = AuthorizedSession(credentials(lab, gcp.google_sts, "bob"))
    answer = session.post(model_url(gcp.vertex, "acme-ai", "gemini-2.0-flash-001"), json=GEMINI)
    assert answer.status_code == 200, answer.text
    assert answer.json()["candidates"][0]["content"]["parts"][0]["text"]
    # google-auth sends the workforce pool user project only to STS: no quota header here.
    assert "x-goog-user-project" not in {k.lower() for k in answer.request.headers}
    assert answer.request.headers["authorization"].startswith("Bearer ya29.")


def test_raw_predict_claude(lab, gcp):
    session = AuthorizedSession(credentials(lab, gcp.google_sts, "alice"))
    body = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 64,
            "messages": [{"role": "user", "content": "Say hello"}]}
    url = model_url(gcp.vertex, "acme-ai", "claude-sonnet-4@20250514", publisher="anthropic",
                    location="us-east5", method="rawPredict")
    answer = session.post(url, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["type"] == "message"


# The runbook's refusals, each by its code.

def test_contractors_are_refused_by_the_attribute_condition(lab, gcp):
    session = AuthorizedSession(credentials(lab, gcp.google_sts, "dave"))
    with pytest.raises(OAuthError) as excinfo:
        session.post(model_url(gcp.vertex, "acme-ai", "gemini-2.0-flash-001"), json=GEMINI)
    assert "unauthorized_client" in str(excinfo.value)
    assert "The given credential is rejected by the attribute condition." in str(excinfo.value)


def test_a_user_project_nobody_may_bill_is_user_project_denied(lab, gcp):
    session = AuthorizedSession(credentials(lab, gcp.google_sts, "alice", user_project="acme-finance"))
    answer = session.post(model_url(gcp.vertex, "acme-ai", "gemini-2.0-flash-001"), json=GEMINI)
    assert reason(answer) == "USER_PROJECT_DENIED"


def test_quota_project_id_overrides_the_user_project(lab, gcp):
    # google-auth sends `quota_project_id` as x-goog-user-project, which Vertex bills instead.
    loaded = credentials(lab, gcp.google_sts, "alice", quota_project_id="acme-finance")
    answer = AuthorizedSession(loaded).post(model_url(gcp.vertex, "acme-ai", "gemini-2.0-flash-001"), json=GEMINI)
    assert answer.request.headers["x-goog-user-project"] == "acme-finance"
    assert reason(answer) == "USER_PROJECT_DENIED"


def test_vertex_api_disabled_is_service_disabled(lab, gcp):
    session = AuthorizedSession(credentials(lab, gcp.google_sts, "alice", user_project="acme-sandbox"))
    answer = session.post(model_url(gcp.vertex, "acme-sandbox", "gemini-2.0-flash-001"), json=GEMINI)
    assert reason(answer) == "SERVICE_DISABLED"
    assert "has not been used in project acme-sandbox" in answer.json()["error"]["message"]


def test_no_vertex_permission_is_iam_permission_denied(lab, gcp):
    session = AuthorizedSession(credentials(lab, gcp.google_sts, "alice"))
    answer = session.post(model_url(gcp.vertex, "acme-finance", "gemini-2.0-flash-001"), json=GEMINI)
    assert reason(answer) == "IAM_PERMISSION_DENIED"


def test_groups_full_path_is_iam_permission_denied(lab):
    mapping = "google.groups: \"has(assertion.groups) ? assertion.groups.map(g, g.extract('/acme/{group}')) : []\""
    organisation = lab.changed_fixture("gcp.yaml", mapping, "google.groups: assertion.groups")
    clouds = lab.start_clouds(gcp=organisation)
    session = AuthorizedSession(credentials(lab, clouds.google_sts, "bob"))
    answer = session.post(model_url(clouds.vertex, "acme-ai", "gemini-2.0-flash-001"), json=GEMINI)
    assert reason(answer) == "IAM_PERMISSION_DENIED"


def test_provider_client_id_is_invalid_grant(lab):
    organisation = lab.changed_fixture("gcp.yaml", "client_id: acme-app", "client_id: other-client")
    clouds = lab.start_clouds(gcp=organisation)
    with pytest.raises(OAuthError) as excinfo:
        AuthorizedSession(credentials(lab, clouds.google_sts, "alice")).post(
            model_url(clouds.vertex, "acme-ai", "gemini-2.0-flash-001"), json=GEMINI)
    assert "invalid_grant" in str(excinfo.value)
    assert "does not match the expected audience" in str(excinfo.value)
