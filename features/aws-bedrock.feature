Feature: AWS Bedrock runbook
  runbooks/aws-bedrock.md, executed: every validation-checklist item and every troubleshooting
  row is one of these scenarios. The IdP serves the realm of fixtures/keycloak-realm.json, the
  AWS account is fixtures/cloud/aws.yaml (the IAM OIDC provider and roles of the runbook's
  "AWS-side configuration", trusting this IdP), and the application is configured as its
  "Application-side configuration" says: it signs the user in, then trades her ID token for
  temporary credentials with AssumeRoleWithWebIdentity and signs Bedrock calls with them.

  Background:
    Given the Keycloak realm "acme" from the runbook
    And the application is configured as in the runbook
    And the AWS account from the runbook trusts the IdP

  # Validation checklist

  @assume-role
  Scenario: A signed-in user's ID token buys temporary credentials for the role
    When alice signs in and assumes the role "BedrockUser" with her ID token
    Then STS issues temporary credentials
    And they expire within 3600 seconds

  @short-sessions
  Scenario: The application asks for 15-minute sessions and gets them
    Given the application asks STS for 900-second sessions
    When alice signs in and assumes the role "BedrockUser" with her ID token
    Then STS issues temporary credentials
    And they expire within 900 seconds

  @bedrock-invoke
  Scenario: The credentials call Claude on Bedrock
    When bob signs in and assumes the role "BedrockUser" with his ID token
    And he invokes "anthropic.claude-3-5-sonnet-20240620-v1:0" on Bedrock
    Then Bedrock answers

  @bedrock-stream
  Scenario: The credentials stream Claude's answer with ConverseStream and InvokeModelWithResponseStream
    When bob signs in and assumes the role "BedrockUser" with his ID token
    And he streams "anthropic.claude-3-5-sonnet-20240620-v1:0" from Bedrock with ConverseStream
    Then Bedrock streams an answer
    When he streams "anthropic.claude-3-5-sonnet-20240620-v1:0" from Bedrock with InvokeModelWithResponseStream
    Then Bedrock streams an answer

  @groups-gate-at-the-application
  Scenario: A user whose groups map to no role is stopped by the application, never reaching STS
    When dave signs in
    Then the login is rejected with "groups_unmapped"

  @offboarding @realm-admin
  Scenario: Offboarding: a disabled user mints no new credentials, but minted ones live until they expire
    Given the application asks STS for 900-second sessions
    And alice holds AWS credentials for the role "BedrockUser"
    When alice is disabled in the IdP
    Then refreshing her session fails with "refresh_failed"
    But her AWS credentials still work until they expire
    When 901 seconds pass at AWS
    Then her AWS credentials are refused with "ExpiredTokenException"
    When she assumes the role "BedrockUser" with her ID token
    Then STS refuses with "ExpiredTokenException"

  # Troubleshooting

  @audience-condition
  Scenario: A trust policy whose audience condition is not the client id denies the role
    Given the trust policy of "BedrockUser" requires the audience "other-client"
    When alice signs in and assumes the role "BedrockUser" with her ID token
    Then STS refuses with "AccessDenied"
    And the refusal says "Not authorized to perform sts:AssumeRoleWithWebIdentity"

  @provider-audience
  Scenario: An IAM OIDC provider whose audiences lack the client id refuses the token
    Given the IAM OIDC provider's audiences are only "other-client"
    When alice signs in and assumes the role "BedrockUser" with her ID token
    Then STS refuses with "InvalidIdentityToken"
    And the refusal says "Incorrect token audience"

  @principal-other-host
  Scenario: A trust policy whose Federated principal names another issuer host denies the role
    Given the trust policy of "BedrockUser" trusts the provider "sso.example.com/realms/acme"
    When alice signs in and assumes the role "BedrockUser" with her ID token
    Then STS refuses with "AccessDenied"

  @provider-url-hash
  Scenario: An IAM OIDC provider URL ending in "/#" is refused
    Given the IAM OIDC provider's URL ends in "/#"
    When AWS is set up as in the runbook
    Then the setup is refused, saying "contains `#`"

  @issuer-hash
  Scenario: An application issuer ending in "/#" is refused before anyone signs in
    Given the application's issuer ends in "/#"
    When alice signs in
    Then the login is rejected with "config_invalid"

  @duration-above-maximum
  Scenario: A session duration above the role's maximum is refused
    Given the application asks STS for 7200-second sessions
    When alice signs in and assumes the role "BedrockUser" with her ID token
    Then STS refuses with "ValidationError"
    And the refusal says "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."

  @model-not-covered
  Scenario: A permission policy that does not cover the model denies the Bedrock call
    When alice signs in and assumes the role "HaikuOnly" with her ID token
    And she invokes "anthropic.claude-3-5-sonnet-20240620-v1:0" on Bedrock
    Then Bedrock refuses with "AccessDeniedException"
    And the refusal says "no identity-based policy allows the bedrock:InvokeModel action"

  @lab-issuer
  Scenario: Real STS cannot fetch keys from a loopback or plain-http issuer
    Given AWS fetches the IdP's keys from the internet, as real STS does
    When alice signs in and assumes the role "BedrockUser" with her ID token
    Then STS refuses with "InvalidIdentityToken"
    And the refusal says "Couldn't retrieve verification key from your identity provider"

  @stream-not-allowed
  Scenario: A permission policy without bedrock:InvokeModelWithResponseStream refuses streaming
    When alice signs in and assumes the role "HaikuOnly" with her ID token
    And she streams "anthropic.claude-3-haiku-20240307-v1:0" from Bedrock with ConverseStream
    Then the stream is refused with "AccessDeniedException"
    And the refusal says "no identity-based policy allows the bedrock:InvokeModelWithResponseStream action"
    When she invokes "anthropic.claude-3-haiku-20240307-v1:0" on Bedrock
    Then Bedrock answers
