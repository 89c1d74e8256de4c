Feature: Keycloak runbook
  runbooks/keycloak.md, executed: every validation-checklist item and every troubleshooting row
  is one of these scenarios. The realm is fixtures/keycloak-realm.json, the export the runbook
  tells operators to keep, and the application is configured as its "Application-side
  configuration" section says.

  Background:
    Given the Keycloak realm "acme" from the runbook
    And the application is configured as in the runbook

  # Validation checklist

  @issuer-exact @live
  Scenario: The discovery issuer is byte-equal to the configured issuer
    When the operator fetches the discovery document
    Then its issuer is byte-equal to the application's issuer

  @dedicated-realm
  Scenario: The application's client lives in a dedicated realm
    Then the issuer does not name the "master" realm

  @issuer-trailing-slash
  Scenario: An issuer configured with a trailing slash is refused
    Given the application's issuer has a trailing slash
    When alice signs in
    Then the login is rejected with "issuer_mismatch"

  @pkce-plain
  Scenario: An authorization request with PKCE plain is sent back with invalid_request
    When an authorization request asks for PKCE method "plain"
    Then the IdP redirects back with error "invalid_request"

  @redirect-uri-unregistered
  Scenario: An unregistered redirect URI is refused on the IdP's own page
    When an authorization request names the redirect URI "https://evil.example.com/callback"
    Then the IdP shows "Invalid parameter: redirect_uri" without redirecting

  @wrong-client-secret
  Scenario: A wrong client secret fails the token request with 401 unauthorized_client
    Given the application's client secret is "not-the-secret"
    When alice signs in
    Then the login is rejected with "token_request_failed"
    And the rejection message mentions "answered 401 Unauthorized"
    And the rejection message mentions "unauthorized_client: Invalid client or Invalid client credentials"
    And the rejection message mentions "The client secret or authentication method is wrong"

  @wrong-password @live @login-page
  Scenario: A wrong password is refused by the IdP's login page
    When alice signs in with the password "not-her-password"
    Then the login is rejected with "login_failed"
    And the rejection message mentions "Invalid username or password."

  @admin-role @live
  Scenario: A member of /acme/admins signs in as admin
    When alice signs in
    Then the login succeeds with role "admin"
    And the groups include "/acme/admins"

  @user-role @live
  Scenario: A member of /acme/engineers signs in as user
    When bob signs in
    Then the login succeeds with role "user"

  @highest-role-wins
  Scenario: A member of both groups gets the highest role
    When carol signs in
    Then the login succeeds with role "admin"

  @fail-closed
  Scenario: A user whose groups map to nothing is refused
    When dave signs in
    Then the login is rejected with "groups_unmapped"

  @default-role
  Scenario: With a default role, a user whose groups map to nothing gets it
    Given the application's default role is "viewer"
    When dave signs in
    Then the login succeeds with role "viewer"

  @sub-is-user-id
  Scenario: The sub the application receives is the Keycloak user id
    When alice signs in
    Then the sub is the IdP's user id for alice

  @key-rotation @realm-admin
  Scenario: After a signing-key rotation a fresh login succeeds with the new key
    Given alice has signed in
    When the IdP's signing key is rotated
    And alice signs in
    Then the login succeeds with role "admin"
    And the ID token was signed with the rotated key
    And the application fetched the IdP's JWKS 2 times

  @refresh-token-reuse @live
  Scenario: A refresh token that was already used is refused
    Given alice has signed in
    When the application refreshes the session
    And the previous refresh token is presented again
    Then the IdP refuses it with "invalid_grant"

  # Troubleshooting

  @wrong-realm
  Scenario: A wrong realm name in the issuer fails discovery
    Given the application's issuer names the realm "acme-typo"
    When alice signs in
    Then the login is rejected with "discovery_failed"

  @discovery-issuer-differs @emulator
  Scenario: Discovery announcing another issuer than the configured one is refused
    Given the IdP misbehaves: discovery_issuer_mismatch
    When alice signs in
    Then the login is rejected with "issuer_mismatch"

  @disabled-user
  Scenario: A disabled user cannot sign in
    When erin signs in
    Then the login is rejected with "login_failed"
    And the rejection message mentions "disabled"

  @hs-algorithm
  @emulator
  Scenario: An ID token signed with an HS algorithm is refused
    Given the IdP misbehaves: hs256_client_secret
    When alice signs in
    Then the login is rejected with "alg_rejected"

  @stale-jwks @emulator
  Scenario: An ID token signed with a key the JWKS does not publish is refused
    Given the IdP misbehaves: unknown_kid
    When alice signs in
    Then the login is rejected with "kid_unknown"

  @missing-mapper @realm-admin
  Scenario: Without the group-membership mapper the groups claim is missing
    Given the client has no group-membership mapper
    When alice signs in
    Then the login is rejected with "groups_missing"

  @full-path-absent @realm-admin
  Scenario: A mapper without full.path "true" emits plain names that map to nothing
    Given the client's group mapper has no "full.path" setting
    When alice signs in
    Then the login is rejected with "groups_unmapped"
    And the rejection message mentions "admins"

  @full-path-plain-mappings @realm-admin
  Scenario: Mappings written against plain names work with a plain-name mapper
    Given the client's group mapper has no "full.path" setting
    And the application maps only "admins" to "admin"
    When alice signs in
    Then the login succeeds with role "admin"

  @clock-skew @emulator
  Scenario: An IdP clock ten minutes ahead makes ID tokens issued in the future
    Given the IdP's clock runs 600 seconds ahead of the application's
    When alice signs in
    Then the login is rejected with "iat_in_future"

  @key-rotation-refresh @realm-admin
  Scenario: After a signing-key rotation a session refresh validates the new ID token
    Given alice has signed in
    When the IdP's signing key is rotated
    And the application refreshes the session
    Then the login succeeds with role "admin"
