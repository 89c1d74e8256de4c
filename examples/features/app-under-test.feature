Feature: The team's own application, signed in to through its login page
  A runbook's checklist bound to the application the team ships, not to ssoproof's reference
  relying party. Each scenario starts the application against the scenario's IdP: the start
  command gets the issuer, the client id and secret the runbook registers, and a free port in
  ISSUER, CLIENT_ID, CLIENT_SECRET and PORT. This example is an Express application whose login
  is openid-client 6 (scripts/interop/probe-targets/login-app.js; `npm ci` in that folder first),
  mapping /acme/admins to admin, /acme/engineers to user, and refusing everyone else.

  Background:
    Given the application under test, started with:
      """
      ROLE_MAP='{"/acme/admins":"admin","/acme/engineers":"user"}' exec node scripts/interop/probe-targets/login-app.js
      """
    And its login URL is "/login" and its whoami URL is "/whoami", with the role at "/role"

  @probe-target @app-roles
  Scenario: An administrator signs in as admin
    When alice signs in through the application
    Then the application shows her as admin

  @probe-target @app-roles
  Scenario: An engineer signs in as user
    When bob signs in through the application
    Then the application shows him as user

  @probe-target @app-roles
  Scenario: A user whose groups map to no role is refused
    When dave signs in through the application
    Then the application refuses the login

  @probe-target @app-alg-none @emulator
  Scenario: An unsigned ID token signs nobody in
    When the IdP signs ID tokens with alg none
    And alice signs in through the application
    Then the application refuses the login
