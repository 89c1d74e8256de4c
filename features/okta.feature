@persona:okta
Feature: Okta runbook
  runbooks/okta.md, executed: every validation-checklist item and every troubleshooting row is
  one of these scenarios. The org is fixtures/idp/okta.yaml (the custom authorization server
  `default` with a `groups` claim filtered on `acme-`, the app `Acme` with its assignments and
  refresh-token rotation), and the application is configured as the runbook's
  "Application-side configuration" says.

  Background:
    Given the Okta org "acme" from the runbook
    And the application is configured as in the runbook
    And the application maps groups to roles:
      | acme-admins    | admin |
      | acme-engineers | user  |

  # Validation checklist

  @issuer-exact @live
  Scenario: The discovery issuer is byte-equal to the configured issuer, without a trailing slash
    When the operator fetches the discovery document
    Then its issuer is byte-equal to the application's issuer
    And it does not end in a slash

  @issuer-trailing-slash @live
  Scenario: An issuer configured with a trailing slash is refused
    Given the application's issuer has a trailing slash
    When alice signs in
    Then the login is rejected with "issuer_mismatch"

  @admin-role @live
  Scenario: A member of acme-admins signs in as admin
    When alice signs in
    Then the login succeeds with role "admin"

  @user-role @live
  Scenario: A member of acme-engineers signs in as user
    When bob signs in
    Then the login succeeds with role "user"

  @fail-closed @live
  Scenario: A member of acme-contractors only is refused
    When dave signs in
    Then the login is rejected with "groups_unmapped"

  @filter-keeps-acme-groups @live
  Scenario: The groups claim holds only the groups that pass the filter
    When alice signs in
    Then the groups are "acme-admins"

  @org-server-needs-groups-scope
  Scenario: On the org server, a login without the groups scope has no groups claim
    Given the application's issuer is the IdP's "org" issuer
    When alice signs in
    Then the login is rejected with "groups_missing"

  @org-server-groups-scope
  Scenario: On the org server, the groups scope brings the app's groups claim
    Given the application's issuer is the IdP's "org" issuer
    And the application requests the scopes "openid email profile groups"
    When alice signs in
    Then the login succeeds with role "admin"
    And the groups are "acme-admins"

  @sub-shape
  Scenario: The sub is the Okta user id: 20 characters beginning 00u
    When alice signs in
    Then the sub matches "^00u[0-9A-Za-z]{17}$"
    And the sub is the IdP's user id for alice

  @unassigned-user
  Scenario: A user assigned to the app neither directly nor through a group is stopped by Okta
    When uma signs in
    Then the login is rejected with "idp_error"
    And the rejection message mentions "access_denied"
    And the rejection message mentions "User is not assigned to the client application."

  @redirect-uri-unregistered
  Scenario: An unregistered redirect URI gets Okta's error page, not a redirect
    When an authorization request names the redirect URI "https://evil.example.com/callback"
    Then the IdP shows "must be a Login redirect URI in the client app settings" without redirecting

  @wrong-client-secret
  Scenario: A wrong client secret fails the token request with invalid_client
    Given the application's client secret is "not-the-secret"
    When alice signs in
    Then the login is rejected with "token_request_failed"
    And the rejection message mentions "answered 401 Unauthorized"
    And the rejection message mentions "invalid_client: The client secret supplied for a confidential client is invalid."

  @refresh-token-grace @live
  Scenario: Within the grace period a rotated refresh token still works once more
    Given the application requests the scopes "openid email profile offline_access"
    And alice has signed in
    When the application refreshes the session
    And the previous refresh token is presented again
    Then the IdP accepts it

  @refresh-token-replay
  Scenario: A rotated refresh token presented after the grace period revokes the newest one too
    Given the application requests the scopes "openid email profile offline_access"
    And alice has signed in
    When the application refreshes the session
    And 31 seconds pass
    And the previous refresh token is presented again
    Then the IdP refuses it with "invalid_grant"
    When the newest refresh token is presented
    Then the IdP refuses it with "invalid_grant"

  @key-rotation
  Scenario: After an Okta key rotation a fresh login succeeds with one more JWKS fetch
    Given alice has signed in
    When the IdP's signing key is rotated
    And alice signs in
    Then the login succeeds with role "admin"
    And the ID token was signed with the rotated key
    And the application fetched the IdP's JWKS 2 times

  # Troubleshooting

  @groups-scope-on-custom-server
  Scenario: Requesting the groups scope from a custom server that does not define it
    Given the application requests the scopes "openid email profile groups"
    When alice signs in
    Then the login is rejected with "idp_error"
    And the rejection message mentions "invalid_scope"
    And the rejection message mentions "One or more scopes are not configured for the authorization server resource."

  @claim-on-other-server
  Scenario: A groups claim defined only on the custom server is absent from org-server tokens
    Given the application's issuer is the IdP's "org" issuer
    And the application requests the scopes "openid email profile groups"
    And the app has no groups claim on the org authorization server
    When alice signs in
    Then the login is rejected with "groups_missing"

  @no-groups-claim
  Scenario: Without a groups claim on the authorization server Okta sends no groups
    Given the "default" authorization server has no groups claim
    When alice signs in
    Then the login is rejected with "groups_missing"

  @filter-excludes-app-groups
  Scenario: A filter that does not match the application's groups drops them silently
    Given the "default" authorization server's groups claim filters with REGEX "app-.*"
    When alice signs in
    Then the login is rejected with "groups_unmapped"
    And the rejection message mentions "app-wiki"

  @filter-excludes-every-group
  Scenario: A filter that matches none of the user's groups leaves the claim out
    Given the "default" authorization server's groups claim filters with REGEX "app-.*"
    When bob signs in
    Then the login is rejected with "groups_missing"

  @group-name-case
  Scenario: A mapping whose case differs from the Okta group name maps nothing
    Given the application maps only "ACME-Admins" to "admin"
    When alice signs in
    Then the login is rejected with "groups_unmapped"

  @stale-jwks @emulator
  Scenario: An ID token signed with a key the JWKS does not publish is refused
    Given the IdP misbehaves: unknown_kid
    When alice signs in
    Then the login is rejected with "kid_unknown"

  @wrong-password @live @login-page
  Scenario: A wrong password is refused on Okta's sign-in page
    When alice signs in with the password "not-her-password"
    Then the login is rejected with "login_failed"
    And the rejection message mentions "Unable to sign in"

  @suspended-user
  Scenario: A suspended user cannot sign in
    When erin signs in
    Then the login is rejected with "login_failed"
    And the rejection message mentions "Unable to sign in"

  @sign-out-keeps-refresh-tokens
  Scenario: Signing out at Okta ends the Okta session but revokes no refresh token
    Given the application requests the scopes "openid email profile offline_access"
    And alice has signed in
    When the application signs her out at the IdP, returning to "http://127.0.0.1/signed-out"
    Then the IdP redirects to "http://127.0.0.1/signed-out"
    When the newest refresh token is presented
    Then the IdP accepts it

  @sign-out-uri-unregistered
  Scenario: A sign-out target that is not a Sign-out redirect URI gets Okta's error page
    Given alice has signed in
    When the application signs her out at the IdP, returning to "https://app.example.com/"
    Then the IdP shows "must be a Logout redirect URI in the client app settings" without redirecting
