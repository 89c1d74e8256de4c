Feature: SCIM provisioning runbook: the deprovisioning drill
  runbooks/scim.md, executed: its deprovisioning drill on the IdP side. The IdP serves the
  realm of fixtures/keycloak-realm.json and the application is configured as the Keycloak
  runbook's "Application-side configuration" says. Deprovisioning disables the user in the IdP,
  by its admin API or, on the emulator, over its SCIM endpoint with `active: false` in the
  request shape of Entra ID's or Okta's provisioning client; the application's own SCIM server
  is checked by `ssoproof probe scim`.

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

  @scim-deactivation-entra-id @emulator
  Scenario: Deactivated over SCIM as Entra ID sends it ("Replace", "False"), her refresh fails and the session ends
    Given alice has signed in
    When alice is deprovisioned over SCIM as entra-id sends it
    And the application refreshes the session
    Then the login is rejected with "refresh_failed"
    And the application has ended the session

  @scim-deactivation-okta @emulator
  Scenario: Deactivated over SCIM as Okta sends it (a path-less replace), her refresh fails and the session ends
    Given alice has signed in
    When alice is deprovisioned over SCIM as okta sends it
    And the application refreshes the session
    Then the login is rejected with "refresh_failed"
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
