Feature: SAML 2.0 runbook
  runbooks/saml.md, executed: every validation-checklist item and every troubleshooting row is
  one of these scenarios. The IdP is the Keycloak realm of fixtures/keycloak-realm.json with its
  SAML client https://sp.acme.test/saml, and the service provider is ssoproof's reference SP
  (`ssoproof login --saml`) configured as the runbook's "Application-side configuration" says.

  Background:
    Given the Keycloak realm "acme" from the runbook
    And the application is configured as in the runbook
    And the service provider is configured as in the SAML runbook

  # Validation checklist

  @saml-admin-role
  Scenario: An administrator signs in over SAML with her groups mapped to admin
    When alice signs in over SAML
    Then the SAML login succeeds with role "admin"
    And the SAML groups include "/acme/admins"

  @saml-user-role
  Scenario: An engineer signs in over SAML as user
    When bob signs in over SAML
    Then the SAML login succeeds with role "user"

  @saml-fail-closed
  Scenario: A user whose groups map to nothing is refused
    When dave signs in over SAML
    Then the SAML login is rejected with "groups_unmapped"

  @nameid-email
  Scenario: The NameID is the user's e-mail address in the email format
    When alice signs in over SAML
    Then the NameID is "alice@example.com" in the emailAddress format

  @saml-unsigned @emulator
  Scenario: An unsigned Response signs nobody in
    Given the IdP sends SAML Responses unsigned
    When alice signs in over SAML
    Then the SAML login is rejected with "saml/unsigned"

  @saml-sha1 @emulator
  Scenario: A Response signed with SHA-1 is refused
    Given the IdP signs SAML Responses with RSA-SHA1
    When alice signs in over SAML
    Then the SAML login is rejected with "saml/weak-algorithm"

  @saml-wrapping @emulator
  Scenario: A signature-wrapped Response is refused
    Given an attacker wraps the signed assertion with one of their own
    When alice signs in over SAML
    Then the SAML login is rejected with "saml/assertion-count"

  # Troubleshooting

  @clock-skew-ahead @emulator
  Scenario: An IdP clock ten minutes ahead makes assertions not yet valid
    Given the IdP's clock runs ten minutes ahead of the service provider's
    When alice signs in over SAML
    Then the SAML login is rejected with "saml/not-yet-valid"

  @clock-skew-behind @emulator
  Scenario: An IdP clock ten minutes behind makes assertions expired on arrival
    Given the IdP's clock runs ten minutes behind the service provider's
    When alice signs in over SAML
    Then the SAML login is rejected with "saml/expired"

  @certificate-rollover @emulator
  Scenario: After the IdP rolls its signing certificate, stale metadata refuses its Responses
    Given the IdP signs with a new certificate the service provider's metadata does not have yet
    When alice signs in over SAML
    Then the SAML login is rejected with "saml/untrusted-certificate"

  @entity-id-unknown
  Scenario: A service provider entity ID the IdP does not know is refused on the IdP's page
    Given the service provider's entity ID is "https://app.example.com/saml"
    When alice signs in over SAML
    Then the SAML login is rejected with "login_failed"

  @audience-mismatch @emulator
  Scenario: Assertions addressed to another entity ID are refused
    Given the IdP addresses its assertions to another service provider's entity ID
    When alice signs in over SAML
    Then the SAML login is rejected with "saml/audience"

  @nameid-format
  Scenario: Asking for a persistent NameID gives an opaque identifier, not the e-mail address
    Given the service provider asks for a persistent NameID
    When alice signs in over SAML
    Then the NameID is an opaque identifier, not the user's e-mail address
