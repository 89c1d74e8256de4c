Feature: Google Cloud Vertex AI runbook
  runbooks/gcp-vertex.md, executed: every validation-checklist item and every troubleshooting
  row is one of these scenarios. The IdP serves the realm of fixtures/keycloak-realm.json (over
  HTTPS with a local CA where the scenario is tagged @https: Google refuses plain-http issuers),
  the Google Cloud organisation is fixtures/cloud/gcp.yaml (the workforce pool, provider and
  projects of the runbook's "Google Cloud-side configuration", trusting this IdP), and the
  application is configured as its "Application-side configuration" says: it signs the user in,
  exchanges her ID token at Google STS and calls Vertex AI with the federated access token.

  Background:
    Given the Keycloak realm "acme" from the runbook
    And the application is configured as in the runbook
    And the Google workforce provider trusts the IdP

  # Validation checklist

  @https @federated-gemini
  Scenario: An engineer's ID token is exchanged at Google STS and calls Gemini
    When bob signs in and exchanges his ID token at Google STS for project "acme-ai"
    Then Google STS issues an access token
    When he calls "gemini-2.0-flash-001" on Vertex in project "acme-ai"
    Then Vertex answers

  @https @federated-claude
  Scenario: An admin's federated token calls Claude on Vertex
    When alice signs in and exchanges her ID token at Google STS for project "acme-ai"
    And she calls "claude-sonnet-4@20250514" on Vertex in project "acme-ai"
    Then Vertex answers

  @https @workforce-user-project
  Scenario: A federated token without x-goog-user-project bills its workforce pool user project
    When bob signs in and exchanges his ID token at Google STS for project "acme-ai"
    And he calls "gemini-2.0-flash-001" on Vertex in project "acme-ai" without a quota project
    Then Vertex answers
    And Vertex bills the call to project "acme-ai"

  @https @condition-keeps-contractors-out
  Scenario: The attribute condition refuses a user outside engineers and admins
    Given the application's default role is "viewer"
    When dave signs in and exchanges his ID token at Google STS for project "acme-ai"
    Then Google STS refuses with "unauthorized_client"
    And the refusal says "The given credential is rejected by the attribute condition."

  @https @google-direct
  Scenario: A Google account's own OAuth token with the cloud-platform scope calls Vertex directly
    Given the Google account "alice@example.com" holds an OAuth token with the cloud-platform scope
    When she calls "gemini-2.0-flash-001" on Vertex in project "acme-ai"
    Then Vertex answers

  @https @offboarding @realm-admin
  Scenario: Offboarding: a disabled user gets no fresh ID token, but her federated token lives until it expires
    When alice signs in and exchanges her ID token at Google STS for project "acme-ai"
    And alice is disabled in the IdP
    Then refreshing her session fails with "refresh_failed"
    But her federated access token still works until it expires

  # Troubleshooting

  @plain-http-issuer
  Scenario: A plain-http issuer is refused when the provider is created
    When Google Cloud is set up as in the runbook
    Then the setup is refused, saying "Invalid OIDC issuer URI. The scheme must be https."

  @https @provider-client-id
  Scenario: A provider whose client id is not the ID token's audience refuses the exchange
    Given the workforce provider's client id is "other-client"
    When alice signs in and exchanges her ID token at Google STS for project "acme-ai"
    Then Google STS refuses with "invalid_grant"
    And the refusal says "does not match the expected audience"

  @https @missing-quota-project
  Scenario: A Google account's token without a quota project is refused
    Given the Google account "alice@example.com" holds an OAuth token with the cloud-platform scope
    When she calls "gemini-2.0-flash-001" on Vertex in project "acme-ai" without a quota project
    Then Vertex refuses with "SERVICE_DISABLED"
    And the refusal says "requires a quota project"

  @https @vertex-api-disabled
  Scenario: A project where the Vertex AI API is not enabled refuses the call
    When alice signs in and exchanges her ID token at Google STS for project "acme-sandbox"
    And she calls "gemini-2.0-flash-001" on Vertex in project "acme-sandbox"
    Then Vertex refuses with "SERVICE_DISABLED"
    And the refusal says "Vertex AI API has not been used in project acme-sandbox before or it is disabled"

  @https @quota-project-denied
  Scenario: A quota project the user may not bill refuses the call
    When alice signs in and exchanges her ID token at Google STS for project "acme-finance"
    And she calls "gemini-2.0-flash-001" on Vertex in project "acme-finance"
    Then Vertex refuses with "USER_PROJECT_DENIED"

  @https @no-vertex-permission
  Scenario: A project that grants the user no Vertex permission refuses the call
    When alice signs in and exchanges her ID token at Google STS for project "acme-ai"
    And she calls "gemini-2.0-flash-001" on Vertex in project "acme-finance" billed to "acme-ai"
    Then Vertex refuses with "IAM_PERMISSION_DENIED"

  @https @groups-full-path
  Scenario: Keycloak's full group paths passed unchanged match no group binding
    Given the workforce provider passes the groups claim to google.groups unchanged
    When bob signs in and exchanges his ID token at Google STS for project "acme-ai"
    And he calls "gemini-2.0-flash-001" on Vertex in project "acme-ai"
    Then Vertex refuses with "IAM_PERMISSION_DENIED"

  @google-not-a-workforce-provider
  Scenario: Google accounts cannot be a workforce pool provider
    Given the workforce provider's issuer is "https://accounts.google.com"
    When Google Cloud is set up as in the runbook
    Then the setup is refused, saying "Google accounts cannot be a workforce pool identity provider"

  @https @google-scope
  Scenario: A Google account token without the cloud-platform scope is refused by Vertex
    Given the Google account "alice@example.com" holds an OAuth token without the cloud-platform scope
    When she calls "gemini-2.0-flash-001" on Vertex in project "acme-ai"
    Then Vertex refuses with "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
