@persona:google-workspace
Feature: Google Workspace runbook (brokered through Keycloak)
  runbooks/google-workspace.md, executed: every validation-checklist item and every
  troubleshooting row is one of these scenarios (one is marked manual in the runbook). Google is
  fixtures/idp/google-workspace.yaml (the Workspace domain example.com, an outside gmail.com
  account, the project's Internal consent screen and Keycloak's OAuth client); Keycloak is
  fixtures/keycloak-google-broker.json (the identity provider `google` with hosted domain
  example.com, its Hardcoded Group mapper `engineers` in sync mode FORCE, the default group
  /acme/members, and a local user linda@example.com). The application talks to Keycloak only and
  asks it to go straight to Google with `kc_idp_hint=google`.

  Background:
    Given the Keycloak realm "acme" brokering Google Workspace from the runbook
    And the application is configured as in the runbook
    And the application sends the authorization parameter "kc_idp_hint=google"

  # Validation checklist

  @issuer-is-keycloak
  Scenario: The application's issuer is Keycloak's realm, not Google
    When the operator fetches the discovery document
    Then its issuer is byte-equal to the application's issuer
    And the issuer is not the IdP's "google" issuer

  @google-redirect-uri
  Scenario: Keycloak's Google client accepts only the broker endpoint as redirect URI
    Given the application's issuer is the IdP's "google" issuer
    And the application's client is "123456789012-keycloakbroker.apps.googleusercontent.com"
    When an authorization request names the redirect URI "http://127.0.0.1/callback"
    Then the IdP shows "Error 400: redirect_uri_mismatch" without redirecting
    When an authorization request names the redirect URI "https://sso.example.com/realms/acme/broker/google/endpoint"
    Then the IdP shows its sign-in page

  @google-login
  Scenario: A Workspace user signs in through Google and gets the mapper's group
    When alice signs in
    Then the login succeeds with role "user"
    And the groups include "/acme/engineers"

  @sub-is-keycloak-id
  Scenario: The sub is Keycloak's own user id, not Google's
    When alice signs in
    Then the sub matches "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    And the sub is the IdP's user id for alice
    And the sub is not the upstream IdP's id for alice

  @iss-is-keycloak
  Scenario: The ID token's issuer is Keycloak's
    When alice signs in
    Then the claim "iss" is the application's issuer
    And the ID token lacks the claim "hd"

  @promote-to-admin
  Scenario: Adding the brokered user to /acme/admins in Keycloak takes effect at the next login
    Given alice has signed in
    When the administrator adds alice to the group "/acme/admins"
    And alice signs in
    Then the login succeeds with role "admin"

  @outside-account-internal
  Scenario: With an Internal consent screen, Google stops an account outside the organisation
    When mallory signs in
    Then the login is rejected with "login_failed"
    And the rejection message mentions "Error 403: org_internal"

  @outside-account-hd
  Scenario: With an External consent screen, Keycloak refuses a token without the hosted domain
    Given the Google OAuth consent screen's user type is external
    When mallory signs in
    Then the login is rejected with "login_failed"
    And the rejection message mentions "Unexpected error when authenticating with identity provider"
    And the rejection message mentions "hosted domain"

  @no-mapped-group
  Scenario: A brokered user without a mapped Keycloak group is refused
    Given the identity provider "google" has no mapper "engineers"
    When dave signs in
    Then the login is rejected with "groups_unmapped"
    And the rejection message mentions "/acme/members"

  @google-direct
  Scenario: The application pointed at Google directly never sees a groups claim
    Given the application's issuer is the IdP's "google" issuer
    And the application's client is "123456789012-acmeappdirect.apps.googleusercontent.com"
    And the application sends no extra authorization parameters
    When alice signs in
    Then the login is rejected with "groups_missing"

  @existing-local-user
  Scenario: A first Google login whose e-mail a local user already has stops at account linking
    When linda signs in
    Then the login is rejected with "login_failed"
    And the rejection message mentions "Account already exists"

  # Troubleshooting

  @wrong-google-secret
  Scenario: A Google client secret that no longer matches Keycloak's fails the broker login
    Given the Google OAuth client "123456789012-keycloakbroker.apps.googleusercontent.com" has a new secret
    When alice signs in
    Then the login is rejected with "login_failed"
    And the rejection message mentions "Unexpected error when authenticating with identity provider"

  @import-sync-mode
  Scenario: With sync mode IMPORT a mapper added later never reaches existing users; FORCE does
    Given the identity provider "google" has no mapper "engineers"
    When bob signs in
    Then the login is rejected with "groups_unmapped"
    When the mapper "engineers" of the identity provider "google" is added with sync mode IMPORT
    And bob signs in
    Then the login is rejected with "groups_unmapped"
    When the mapper "engineers" of the identity provider "google" is added with sync mode FORCE
    And bob signs in
    Then the login succeeds with role "user"

  @issuer-trailing-slash
  Scenario: An issuer configured with a trailing slash is refused
    Given the application's issuer has a trailing slash
    When alice signs in
    Then the login is rejected with "issuer_mismatch"

  @recreated-user
  Scenario: A brokered user deleted in Keycloak comes back with a new sub
    Given alice has signed in
    When the administrator deletes the user alice
    And alice signs in
    Then the login succeeds with role "user"
    And the sub differs from the previous sign-in's
