@persona:auth0
Feature: Auth0 runbook
  runbooks/auth0.md, executed: every validation-checklist item and every troubleshooting row is
  one of these scenarios. The tenant is fixtures/idp/auth0.yaml (roles, the Post-Login Actions
  `add-groups-claim` and `require-a-role` in the post-login trigger, the Regular Web Application
  `Acme`), and the application is configured as the runbook's "Application-side configuration"
  says.

  Background:
    Given the Auth0 tenant "acme" from the runbook
    And the application is configured as in the runbook
    And the application reads groups from the claim "https://example.com/groups"
    And the application maps groups to roles:
      | acme-admins    | admin |
      | acme-engineers | user  |

  # Validation checklist

  @issuer-exact @live
  Scenario: The discovery issuer keeps Auth0's trailing slash and equals the configured issuer
    When the operator fetches the discovery document
    Then its issuer is byte-equal to the application's issuer
    And it ends in a slash

  @issuer-without-trailing-slash @live
  Scenario: An issuer configured without the trailing slash is refused
    Given the application's issuer lacks the trailing slash
    When alice signs in
    Then the login is rejected with "issuer_mismatch"

  @admin-role @live
  Scenario: A user with the role acme-admins signs in as admin, through the namespaced claim
    When alice signs in
    Then the login succeeds with role "admin"
    And the groups are "acme-admins"
    And the ID token has the claim "https://example.com/groups"

  @user-role @live
  Scenario: A user with the role acme-engineers signs in as user
    When bob signs in
    Then the login succeeds with role "user"

  @fail-closed @live
  Scenario: A user with the role acme-contractors only is refused
    When dave signs in
    Then the login is rejected with "groups_unmapped"

  @sub-shape
  Scenario: A database user's sub carries the auth0 connection prefix
    When alice signs in
    Then the sub matches "^auth0\|[0-9a-f]{24}$"
    And the sub is the IdP's user id for alice

  @reserved-claim-name
  Scenario: An Action that sets the roles as plain "groups" yields no such claim
    Given the post-login Action sets the roles as the claim "groups"
    And the application reads groups from the claim "groups"
    When alice signs in
    Then the login is rejected with "groups_missing"
    And the rejection message mentions "no groups claim at `groups`"

  @action-not-in-trigger
  Scenario: An Action that is not in the post-login trigger never runs
    Given no Action is in the post-login trigger
    When alice signs in
    Then the login is rejected with "groups_missing"

  @hs256
  Scenario: ID tokens signed with HS256 are refused
    Given the application's JWT signature algorithm is HS256 in Auth0
    When alice signs in
    Then the login is rejected with "alg_rejected"

  @redirect-uri-unregistered
  Scenario: An unregistered redirect URI ends on Auth0's "Callback URL mismatch" page
    When an authorization request names the redirect URI "https://evil.example.com/callback"
    Then the IdP shows "Callback URL mismatch." without redirecting

  @wrong-client-secret
  Scenario: A wrong client secret fails the token request with access_denied Unauthorized
    Given the application's client secret is "not-the-secret"
    When alice signs in
    Then the login is rejected with "token_request_failed"
    And the rejection message mentions "answered 401 Unauthorized"
    And the rejection message mentions "access_denied: Unauthorized"

  @wrong-password @live @login-page
  Scenario: A wrong password is refused on the Universal Login page
    When alice signs in with the password "not-her-password"
    Then the login is rejected with "login_failed"
    And the rejection message mentions "Wrong email or password"

  @refresh-token-reuse @live
  Scenario: A rotated refresh token presented again revokes the whole family
    Given the application requests the scopes "openid email profile offline_access"
    And alice has signed in
    When the application refreshes the session
    And the previous refresh token is presented again
    Then the IdP refuses it with "invalid_grant"
    When the newest refresh token is presented
    Then the IdP refuses it with "invalid_grant"

  # Troubleshooting

  @groups-claim-name-differs
  Scenario: A groups_claim that differs from the Action's claim name by one slash finds nothing
    Given the application reads groups from the claim "https://example.com/groups/"
    When alice signs in
    Then the login is rejected with "groups_missing"

  @role-name-case
  Scenario: A mapping whose case differs from the role name maps nothing
    Given the application maps only "Acme-Admins" to "admin"
    When alice signs in
    Then the login is rejected with "groups_unmapped"

  @action-denies
  Scenario: A Post-Login Action that denies access sends access_denied with its message
    When nora signs in
    Then the login is rejected with "idp_error"
    And the rejection message mentions "access_denied"
    And the rejection message mentions "Access to Acme requires a role"

  @blocked-user
  Scenario: A blocked user is sent back with unauthorized "user is blocked"
    When erin signs in
    Then the login is rejected with "idp_error"
    And the rejection message mentions "unauthorized"
    And the rejection message mentions "user is blocked"

  @sign-out-keeps-refresh-tokens
  Scenario: Signing out at Auth0 ends the Auth0 session but revokes no refresh token
    Given the application requests the scopes "openid email profile offline_access"
    And alice has signed in
    When the application signs her out at the IdP, returning to "http://127.0.0.1/signed-out"
    Then the IdP redirects to "http://127.0.0.1/signed-out"
    When the newest refresh token is presented
    Then the IdP accepts it

  @sign-out-uri-unregistered
  Scenario: A sign-out target missing from Allowed Logout URLs gets Auth0's error page
    Given alice has signed in
    When the application signs her out at the IdP, returning to "https://app.example.com/"
    Then the IdP shows "is not defined as a valid URL in &quot;Allowed Logout URLs&quot;" without redirecting
