@persona:cognito
Feature: Amazon Cognito runbook
  runbooks/cognito.md, executed: every validation-checklist item and every troubleshooting row is
  one of these scenarios. The user pool is fixtures/idp/cognito.yaml (groups with precedence, the
  app client `acme-app` allowing the scopes openid and email, managed login on the pool's
  domain), and the application is configured as the runbook's "Application-side configuration"
  says.

  Background:
    Given the Cognito user pool "acme" from the runbook
    And the application is configured as in the runbook
    And the application requests the scopes "openid email"
    And the application reads groups from the claim "cognito:groups"
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
  Scenario: A member of acme-admins signs in as admin through cognito:groups
    When alice signs in
    Then the login succeeds with role "admin"
    And the groups are "acme-admins"

  @user-role @live
  Scenario: A member of acme-engineers signs in as user
    When bob signs in
    Then the login succeeds with role "user"

  @highest-role-wins @live
  Scenario: A member of both groups gets the highest role
    When carol signs in
    Then the login succeeds with role "admin"

  @fail-closed @live
  Scenario: A member of acme-contractors only is refused
    When dave signs in
    Then the login is rejected with "groups_unmapped"

  @sub-is-uuid
  Scenario: The sub is the user's Cognito sub attribute, a UUID
    When alice signs in
    Then the sub matches "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
    And the sub is the IdP's user id for alice
    And the claim "cognito:username" is "alice"

  @offline-access-refused
  Scenario: Requesting offline_access is refused with invalid_scope
    Given the application requests the scopes "openid email offline_access"
    When alice signs in
    Then the login is rejected with "idp_error"
    And the rejection message mentions "invalid_request"
    And the rejection message mentions "invalid_scope"

  @profile-not-enabled
  Scenario: Requesting profile, not enabled on the app client, is refused with invalid_scope
    Given the application requests the scopes "openid email profile"
    When alice signs in
    Then the login is rejected with "idp_error"
    And the rejection message mentions "invalid_scope"

  @profile-enabled
  Scenario: Once the app client allows profile, requesting it works
    Given the app client allows the scopes "openid email profile"
    And the application requests the scopes "openid email profile"
    When alice signs in
    Then the login succeeds with role "admin"

  @refresh-without-offline-access @live
  Scenario: A refresh token comes with the code exchange, without offline_access
    Given alice has signed in
    When the application refreshes the session
    Then the login succeeds with role "admin"

  @redirect-uri-unregistered
  Scenario: An unregistered redirect URI ends on managed login's redirect_mismatch page
    When an authorization request names the redirect URI "https://evil.example.com/callback"
    Then the IdP shows "redirect_mismatch" without redirecting

  @wrong-client-secret
  Scenario: A wrong client secret fails the token request with invalid_client
    Given the application's client secret is "not-the-secret"
    When alice signs in
    Then the login is rejected with "token_request_failed"
    And the rejection message mentions "invalid_client"

  @wrong-password @live @login-page
  Scenario: A wrong password is refused on the managed login page
    When alice signs in with the password "not-her-password"
    Then the login is rejected with "login_failed"
    And the rejection message mentions "Incorrect username or password."

  # Troubleshooting

  @wrong-groups-claim
  Scenario: Reading groups from "groups" finds nothing: Cognito's claim is cognito:groups
    Given the application reads groups from the claim "groups"
    When alice signs in
    Then the login is rejected with "groups_missing"

  @no-group
  Scenario: A user in no group gets no cognito:groups claim at all
    When gus signs in
    Then the login is rejected with "groups_missing"

  @group-name-case
  Scenario: A mapping whose case differs from the group name maps nothing
    Given the application maps only "ACME-admins" to "admin"
    When alice signs in
    Then the login is rejected with "groups_unmapped"

  @disabled-user
  Scenario: A disabled user cannot sign in
    When erin signs in
    Then the login is rejected with "login_failed"
    And the rejection message mentions "User is disabled."

  @sign-out-keeps-refresh-tokens
  Scenario: Cognito signs out with client_id and logout_uri, and revokes no refresh token
    Given alice has signed in
    When the application signs her out Cognito's way, returning to "http://127.0.0.1/signed-out"
    Then the IdP redirects to "http://127.0.0.1/signed-out"
    When the newest refresh token is presented
    Then the IdP accepts it

  @sign-out-rp-initiated
  Scenario: An RP-initiated sign-out request is refused: Cognito reads no post_logout_redirect_uri
    Given alice has signed in
    When the application signs her out at the IdP, returning to "http://127.0.0.1/signed-out"
    Then the IdP shows "An error was encountered with the requested page" without redirecting
