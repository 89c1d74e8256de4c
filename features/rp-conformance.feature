Feature: Relying-party conformance
  The OpenID Foundation's relying-party certification cases (Basic, Config and Refresh plans)
  and the failure taxonomy of the shared notes, run against the reference relying party. The
  cases that need a broken token or a misbehaving IdP are `@emulator`: only the embedded
  emulator breaks its tokens on purpose; the others run against a real Keycloak too.

  Background:
    Given the Keycloak realm "acme" from the runbook
    And the application is configured as in the runbook

  @rp-response-type-code @rp-id-token-sig-rs256 @rp-discovery-openid-configuration
  Scenario: rp-response_type-code: a normal code-flow login with token and userinfo requests
    When alice signs in
    Then the login succeeds with role "admin"
    And the application fetched the IdP's JWKS 1 time

  @rp-scope-userinfo-claims
  Scenario: rp-scope-userinfo-claims: profile and email claims are requested and used
    When alice signs in
    Then the email is "alice@example.com"

  @rp-token-endpoint-client-secret-basic
  Scenario: rp-token_endpoint-client_secret_basic: HTTP Basic client authentication
    Given the application authenticates to the token endpoint with client_secret_basic
    When alice signs in
    Then the login succeeds

  @client-secret-post
  Scenario: client_secret_post client authentication
    Given the application authenticates to the token endpoint with client_secret_post
    When alice signs in
    Then the login succeeds

  @rp-id-token-rejections @emulator
  Scenario Outline: <case>: the relying party refuses a broken ID token
    Given the IdP misbehaves: <fault>
    When alice signs in
    Then the login is rejected with "<code>"

    Examples:
      | case                                | fault                          | code                  |
      | rp-id_token-issuer-mismatch         | wrong_issuer                   | issuer_mismatch       |
      | rp-id_token-sub                     | missing_sub                    | sub_missing           |
      | rp-id_token-aud (invalid)           | wrong_audience                 | audience_mismatch     |
      | rp-id_token-aud (missing)           | missing_audience               | audience_mismatch     |
      | rp-id_token-iat                     | missing_iat                    | iat_missing           |
      | rp-id_token-sig-none                | alg_none                       | alg_rejected          |
      | rp-id_token-bad-sig-rs256           | bad_signature                  | signature_invalid     |
      | rp-id_token-bad-sig-hs256           | hs256_client_secret            | alg_rejected          |
      | rp-userinfo-bad-sub-claim           | userinfo_other_sub             | userinfo_sub_mismatch |
      | rp-nonce-invalid                    | wrong_nonce                    | nonce_mismatch        |
      | rp-discovery-issuer-not-matching    | discovery_issuer_mismatch      | issuer_mismatch       |
      | expired ID token                    | expired                        | token_expired         |
      | iat in the future                   | iat_in_future                  | iat_in_future         |
      | nbf in the future                   | not_yet_valid                  | not_yet_valid         |
      | several audiences without azp       | multiple_audiences_without_azp | azp_required          |
      | azp naming another client           | wrong_azp                      | azp_mismatch          |
      | at_hash not matching                | wrong_at_hash                  | at_hash_mismatch      |
      | unknown kid, even after a refetch   | unknown_kid                    | kid_unknown           |
      | JWKS endpoint down                  | jwks_down                      | jwks_unreachable      |

  @rp-id-token-kid-absent-single-jwks @emulator
  Scenario: rp-id_token-kid-absent-single-jwks: no kid and one key, the key is used
    Given the IdP misbehaves: no_kid
    When alice signs in
    Then the login succeeds

  @rp-id-token-kid-absent-multiple-jwks @emulator
  Scenario: rp-id_token-kid-absent-multiple-jwks: no kid and several keys, each key is tried
    Given the IdP misbehaves: no_kid_multiple_keys
    When alice signs in
    Then the login succeeds

  @rp-key-rotation-op-sign-key @realm-admin
  Scenario: rp-key-rotation-op-sign-key: keys rotate after the first ID token, the JWKS is fetched again once
    Given alice has signed in
    When the IdP's signing key is rotated
    And alice signs in
    Then the login succeeds
    And the application fetched the IdP's JWKS 2 times

  @rp-key-rotation-op-sign-key-native @emulator
  Scenario: rp-key-rotation-op-sign-key-native: keys rotate just before signing
    Given the IdP misbehaves: rotate_before_signing
    When alice signs in
    Then the login succeeds

  @jwks-refetch-rate-limit @emulator
  Scenario: A flood of unknown key ids refetches the JWKS only once
    Given alice has signed in
    And the IdP misbehaves: unknown_kid
    When alice signs in
    And alice signs in
    And alice signs in
    Then the login is rejected with "kid_unknown"
    And the application fetched the IdP's JWKS 2 times

  @clock-skew-tolerated @emulator
  Scenario: Clock skew within 60 seconds is tolerated
    Given the IdP's clock runs 30 seconds ahead of the application's
    When alice signs in
    Then the login succeeds

  @oidcc-client-test-refresh-token
  Scenario: oidcc-client-test-refresh-token: refresh, then call userinfo
    Given alice has signed in
    When the application refreshes the session
    Then the login succeeds with role "admin"

  @refresh-invalid-issuer @emulator
  Scenario: oidcc-client-test-refresh-token-invalid-issuer: the refreshed ID token names another issuer
    Given alice has signed in
    And the IdP misbehaves: refresh_wrong_issuer
    When the application refreshes the session
    Then the login is rejected with "issuer_mismatch"

  @refresh-invalid-sub @emulator
  Scenario: oidcc-client-test-refresh-token-invalid-sub: the refreshed ID token names another subject
    Given alice has signed in
    And the IdP misbehaves: refresh_other_sub
    When the application refreshes the session
    Then the login is rejected with "sub_mismatch"
