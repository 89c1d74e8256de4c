Feature: SCIM provisioning runbook: the deprovisioning drill
  runbooks/scim.md, executed: its deprovisioning drill on the IdP side. The IdP serves the
  realm of fixtures/keycloak-realm.json and the application is configured as the Keycloak
  runbook's "Application-side configuration" says. Deprovisioning disables the user in the IdP
  (what the IdP does before it sends `active: false` to the application's SCIM server); the
  SCIM server's own behaviour is checked by `ssoproof probe scim`.

  Background:
    Given the Keycloak realm "acme" from the runbook
    And the application is configured as in the runbook

  # Validation checklist

  @deprovisioned-refresh-fails @realm-admin
  Scenario: A deprovisioned user's refresh is refused, and the application ends her session
    Given alice has signed in
    When alice is disabled in the IdP
    And the application refreshes the session
    Then the login is rejected with "refresh_failed"
    And the rejection message mentions "invalid_grant"
    And the application has ended the session

  @deprovisioned-sign-in-fails @realm-admin
  Scenario: A deprovisioned user cannot sign in again
    Given alice has signed in
    When alice is disabled in the IdP
    And alice signs in
    Then the login is rejected with "login_failed"

  @active-session-refreshes
  Scenario: Until deprovisioning, the same session refreshes
    Given alice has signed in
    When the application refreshes the session
    Then the login succeeds with role "admin"
