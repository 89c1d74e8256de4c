@persona:entra-id
Feature: Microsoft Entra ID runbook
  runbooks/entra-id.md, executed: every validation-checklist item and every troubleshooting row
  is one of these scenarios. The tenant is fixtures/idp/entra-id.yaml (security groups with
  object ids, a user in 251 groups, the app registration `Acme` emitting "Groups assigned to the
  application" and the `email` optional claim, with assignment required), and the application is
  configured as the runbook's "Application-side configuration" says: role mappings by object id.

  Background:
    Given the Entra ID tenant "acme" from the runbook
    And the application is configured as in the runbook
    And the application maps groups to roles:
      | 11111111-1111-1111-1111-111111111111 | admin |
      | 22222222-2222-2222-2222-222222222222 | user  |

  # Validation checklist

  @issuer-exact @live
  Scenario: The tenant's v2.0 discovery issuer is byte-equal to the configured issuer
    When the operator fetches the discovery document
    Then its issuer is byte-equal to the application's issuer
    And it does not end in a slash

  @common-issuer
  Scenario: The /common issuer is a template that never equals a configured issuer
    Given the application's issuer is the IdP's "common" issuer
    When alice signs in
    Then the login is rejected with "issuer_mismatch"
    And the rejection message mentions "{tenantid}"

  @tid-and-ver @live
  Scenario: The ID token names the tenant and is a v2.0 token
    When alice signs in
    Then the login succeeds
    And the claim "tid" is "00000000-0000-0000-0000-000000000000"
    And the claim "ver" is "2.0"

  @access-token-version-1
  Scenario: requestedAccessTokenVersion 1 does not change the ID token the application validates
    Given the app registration's requestedAccessTokenVersion is 1
    When alice signs in
    Then the login succeeds with role "admin"
    And the claim "ver" is "2.0"

  @admin-role @live
  Scenario: A member of acme-admins signs in as admin; groups are object ids
    When alice signs in
    Then the login succeeds with role "admin"
    And the groups are "11111111-1111-1111-1111-111111111111"

  @user-role @live
  Scenario: A member of acme-engineers signs in as user
    When bob signs in
    Then the login succeeds with role "user"

  @fail-closed @live
  Scenario: A member of acme-contractors only is refused
    When dave signs in
    Then the login is rejected with "groups_unmapped"

  @groups-overage
  Scenario: With "Security groups", a user in more than 200 groups gets the overage marker
    Given the app registration emits SecurityGroup groups claims
    When olga signs in
    Then the login is rejected with "groups_overage"
    And the rejection message mentions "_claim_names.groups"

  @assigned-groups-only
  Scenario: With "Groups assigned to the application", the same user gets only the assigned groups
    When olga signs in
    Then the login succeeds with role "user"
    And the groups are "22222222-2222-2222-2222-222222222222"

  @email-present @live
  Scenario: The email optional claim is in the ID token
    When alice signs in
    Then the email is "alice@example.com"
    And the ID token has the claim "email"

  @stable-sub-and-oid @live
  Scenario: sub and oid are the same at every login of the same user
    Given alice has signed in
    When alice signs in
    Then the sub and the claim "oid" are those of the previous sign-in

  @pairwise-sub
  Scenario: Another app registration sees another sub for the same user, and the same oid
    Given alice has signed in
    And the application's client is "55555555-5555-5555-5555-555555555555"
    When alice signs in
    Then the sub differs from the previous sign-in's but the claim "oid" does not

  @unassigned-user
  Scenario: A user in no assigned group is stopped by Entra with AADSTS50105
    When uma signs in
    Then the login is rejected with "login_failed"
    And the rejection message mentions "AADSTS50105"

  @redirect-uri-unregistered
  Scenario: An unregistered redirect URI is stopped with AADSTS50011
    When an authorization request names the redirect URI "https://evil.example.com/callback"
    Then the IdP shows "AADSTS50011" without redirecting

  @wrong-client-secret
  Scenario: A wrong client secret fails the token request with AADSTS7000215
    Given the application's client secret is "not-the-secret"
    When alice signs in
    Then the login is rejected with "token_request_failed"
    And the rejection message mentions "invalid_client"
    And the rejection message mentions "AADSTS7000215"

  # Troubleshooting

  @v1-issuer
  Scenario: An issuer without /v2.0 is the v1.0 document, whose issuer is on sts.windows.net
    Given the application's issuer drops the suffix "/v2.0"
    When alice signs in
    Then the login is rejected with "issuer_mismatch"
    And the rejection message mentions "https://sts.windows.net/00000000-0000-0000-0000-000000000000/"

  @external-account
  Scenario: An account of another directory is stopped with AADSTS50020
    When pat signs in
    Then the login is rejected with "login_failed"
    And the rejection message mentions "AADSTS50020"

  @expired-client-secret
  Scenario: An expired client secret fails the token request with AADSTS7000222
    Given the application's client secret is "acme-entra-expired-secret"
    When alice signs in
    Then the login is rejected with "token_request_failed"
    And the rejection message mentions "AADSTS7000222"

  @no-groups-claim
  Scenario: Without a groups claim in Token configuration there are no groups
    Given the app registration emits None groups claims
    When alice signs in
    Then the login is rejected with "groups_missing"

  @mappings-by-name
  Scenario: Role mappings written with display names match none of the object ids
    Given the application maps only "acme-admins" to "admin"
    When alice signs in
    Then the login is rejected with "groups_unmapped"
    And the rejection message mentions "11111111-1111-1111-1111-111111111111"

  @claims-mapping-policy
  Scenario: A claims-mapping policy makes Entra sign with a key the tenant JWKS does not list
    Given a claims-mapping policy is assigned to the app registration
    When alice signs in
    Then the login is rejected with "kid_unknown"

  @no-email-optional-claim
  Scenario: Without the email optional claim the ID token has no email; userinfo still has it
    Given the app registration has no email optional claim
    When alice signs in
    Then the login succeeds with role "admin"
    And the ID token lacks the claim "email"
    And the email is "alice@example.com"

  @no-mail-attribute
  Scenario: A user without a mail attribute has no email at all
    When nick signs in
    Then the login succeeds with role "user"
    And the email is absent

  @sign-out-keeps-refresh-tokens
  Scenario: Signing out at Entra clears the browser session but leaves refresh tokens alive
    Given the application requests the scopes "openid email profile offline_access"
    And alice has signed in
    When the application signs her out at the IdP, returning to "http://127.0.0.1/callback"
    Then the IdP redirects to "http://127.0.0.1/callback"
    When the newest refresh token is presented
    Then the IdP accepts it

  @sign-out-uri-unregistered
  Scenario: A sign-out target that is not a redirect URI of the app leaves the user on Entra's page
    Given alice has signed in
    When the application signs her out at the IdP, returning to "https://app.example.com/"
    Then the IdP shows "You signed out of your account" without redirecting
