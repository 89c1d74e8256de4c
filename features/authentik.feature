@persona:authentik
Feature: authentik runbook
  runbooks/authentik.md, executed: every validation-checklist item and every troubleshooting row
  is one of these scenarios. The instance is fixtures/idp/authentik.yaml (the application `acme`
  bound to the groups acme-admins, acme-engineers and acme-contractors; its OAuth2/OpenID
  provider with the default openid, email, profile and offline_access scope mappings plus the
  custom `groups` mapping, hashed subject mode, and the RSA key "authentik Self-signed
  Certificate"), and the application is configured as the runbook's "Application-side
  configuration" says.

  Background:
    Given the authentik application "acme" from the runbook
    And the application is configured as in the runbook
    And the application requests the scopes "openid email profile groups offline_access"
    And the application maps groups to roles:
      | acme-admins    | admin |
      | acme-engineers | user  |

  # Validation checklist

  @issuer-exact @live
  Scenario: The discovery issuer is byte-equal to the configured issuer, trailing slash included
    When the operator fetches the discovery document
    Then its issuer is byte-equal to the application's issuer
    And it ends in a slash

  @issuer-without-slash @live
  Scenario: An issuer configured without its trailing slash is refused
    Given the application's issuer lacks the trailing slash
    When alice signs in
    Then the login is rejected with "issuer_mismatch"

  @admin-role @live
  Scenario: A member of acme-admins signs in as admin, the groups as plain names
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

  @groups-scope
  Scenario: The groups scope alone brings the groups claim, through the custom scope mapping
    Given the application requests the scopes "openid email groups"
    When alice signs in
    Then the login succeeds with role "admin"
    And the groups are "acme-admins"

  @sub-hashed
  Scenario: In the default subject mode the sub is the hashed user id, 64 hexadecimal characters
    When alice signs in
    Then the sub matches "^[0-9a-f]{64}$"
    And the sub is the IdP's user id for alice
    And the claim "preferred_username" is "alice"

  @offline-access-refresh
  Scenario: With offline_access the session refreshes
    Given alice has signed in
    When the application refreshes the session
    Then the login succeeds with role "admin"

  @refresh-token-rotation @live
  Scenario: A refresh rotates the refresh token: the used one is refused, the new one works
    Given alice has signed in
    When the application refreshes the session
    And the previous refresh token is presented again
    Then the IdP refuses it with "invalid_grant"
    When the newest refresh token is presented
    Then the IdP accepts it

  @key-rotation
  Scenario: After the signing key changes, a fresh login succeeds with one more JWKS fetch
    Given alice has signed in
    When the IdP's signing key is rotated
    And alice signs in
    Then the login succeeds with role "admin"
    And the ID token was signed with the rotated key
    And the application fetched the IdP's JWKS 2 times

  @signing-key-replaced
  Scenario: Selecting another certificate-key pair takes the old key out of the JWKS at once
    Given alice has signed in
    When the provider's signing key becomes "acme-signing-2026"
    Then the IdP's JWKS no longer lists the key of her ID token
    When alice signs in
    Then the login succeeds with role "admin"
    And the application fetched the IdP's JWKS 2 times

  @redirect-uri-unregistered
  Scenario: An unregistered redirect URI ends on authentik's "Redirect URI Error" page
    When an authorization request names the redirect URI "https://evil.example.com/callback"
    Then the IdP shows "Redirect URI Error" without redirecting

  @wrong-client-secret
  Scenario: A wrong client secret fails the token request with invalid_client
    Given the application's client secret is "not-the-secret"
    When alice signs in
    Then the login is rejected with "token_request_failed"
    And the rejection message mentions "invalid_client"

  @wrong-password @live @login-page
  Scenario: A wrong password is refused on authentik's login page
    When alice signs in with the password "not-her-password"
    Then the login is rejected with "login_failed"
    And the rejection message mentions "Invalid password"

  @sign-out
  Scenario: End-session with the ID token as hint returns to a registered URI; refresh tokens live on
    Given alice has signed in
    When the application signs her out at the IdP, returning to "http://127.0.0.1/signed-out"
    Then the IdP redirects to "http://127.0.0.1/signed-out"
    When the newest refresh token is presented
    Then the IdP accepts it

  # Troubleshooting

  @no-offline-access
  Scenario: Without offline_access authentik issues no refresh token
    Given the application requests the scopes "openid email profile groups"
    And alice has signed in
    When the application refreshes the session
    Then the login is rejected with "refresh_failed"
    And the rejection message mentions "holds no refresh token"

  @groups-from-profile
  Scenario: The default profile mapping carries the groups too, without the groups scope
    Given the application requests the scopes "openid email profile"
    When alice signs in
    Then the login succeeds with role "admin"

  @scope-not-mapped
  Scenario: A scope the provider maps nothing to is dropped silently, and the groups go with it
    Given the provider's scope mappings provide only "openid email offline_access"
    When alice signs in
    Then the login is rejected with "groups_missing"

  @claims-not-in-id-token
  Scenario: With "Include claims in id_token" off, the ID token has no groups
    Given the provider does not include claims in the ID token
    When alice signs in
    Then the login is rejected with "groups_missing"

  @sub-mode-changed
  Scenario: Changing the subject mode changes every user's sub
    Given alice has signed in
    And the provider's subject mode is user_email
    When alice signs in
    Then the sub differs from the previous sign-in's
    And the sub matches "^alice@example\.com$"

  @no-signing-key
  Scenario: A provider without a signing key advertises and signs only HS256, which is refused
    Given the provider has no signing key
    When alice signs in
    Then the login is rejected with "alg_unsupported"
    And the rejection message mentions "HS256"

  @stale-jwks @emulator
  Scenario: An ID token signed with a key the JWKS does not publish is refused
    Given the IdP misbehaves: unknown_kid
    When alice signs in
    Then the login is rejected with "kid_unknown"

  @unbound-user
  Scenario: A user in no group bound to the application is stopped by authentik
    When uma signs in
    Then the login is rejected with "login_failed"
    And the rejection message mentions "Permission denied"

  @group-name-case
  Scenario: A mapping whose case differs from the group name maps nothing
    Given the application maps only "ACME-admins" to "admin"
    When alice signs in
    Then the login is rejected with "groups_unmapped"

  @inactive-user
  Scenario: A deactivated user cannot sign in
    When erin signs in
    Then the login is rejected with "login_failed"
    And the rejection message mentions "Invalid password"

  @sign-out-without-hint
  Scenario: A post_logout_redirect_uri without id_token_hint is refused
    Given alice has signed in
    When the application signs her out without a hint, returning to "http://127.0.0.1/signed-out"
    Then the IdP shows "The request is otherwise malformed" without redirecting

  @sign-out-uri-unregistered
  Scenario: A sign-out target that is not a registered post-logout redirect URI is refused
    Given alice has signed in
    When the application signs her out at the IdP, returning to "https://app.example.com/"
    Then the IdP shows "The request is otherwise malformed" without redirecting
