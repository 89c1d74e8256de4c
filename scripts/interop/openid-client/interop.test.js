// openid-client 6 (an OpenID-certified relying party) against `ssoproof serve idp`: the Keycloak
// realm and every vendor persona (Okta, Auth0, Entra ID, Google, Cognito, authentik). Each case
// runs discovery, the code flow with PKCE and a nonce (the emulator's sign-in form is driven with
// plain HTTP form posts), strict ID-token validation, userinfo, refresh and, where discovery
// advertises one, end-session.
//
// Run from this folder: `npm ci && npm test`. The binary is SSOPROOF_BIN, or the workspace's
// target/debug/ssoproof (build it first with `cargo build --bin ssoproof`).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import * as client from 'openid-client';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = process.env.SSOPROOF_BIN || resolve(root, 'target/debug/ssoproof');
const CALLBACK = 'http://127.0.0.1/callback';
const SIGNED_OUT = 'http://127.0.0.1/signed-out';

/** Servers started by `serve`, stopped after the run. */
const running = [];
after(() => {
  for (const child of running) child.kill('SIGINT');
});

/**
 * Starts `ssoproof serve idp ARGS` on a free loopback port and resolves with its base URL once
 * it says it is serving. A server that exits first fails the test with what it printed.
 */
function serve(args) {
  if (!existsSync(bin)) {
    throw new Error(`${bin} does not exist: run \`cargo build --bin ssoproof\` or set SSOPROOF_BIN`);
  }
  const child = spawn(bin, ['serve', 'idp', '--port', '0', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  return new Promise((ready, fail) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const issuer = out.match(/^ {2}issuer +(\S+)$/m);
      if (issuer && out.includes('Serving until Ctrl-C.')) ready(new URL(issuer[1]).origin);
    });
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('exit', (code) => fail(new Error(`serve idp ${args.join(' ')} exited ${code}:\n${out}${err}`)));
  });
}

/** The attribute of the first tag matching `tag` whose `id` is `id`, HTML entities decoded. */
function formAction(html, id) {
  const form = html.match(new RegExp(`<form[^>]*id="${id}"[^>]*>`));
  assert.ok(form, `no form#${id} in:\n${html}`);
  const action = form[0].match(/action="([^"]*)"/)[1];
  return action.replaceAll('&amp;', '&').replaceAll('&#x3D;', '=').replaceAll('&#61;', '=');
}

/** POSTs a form without following redirects. */
function post(url, fields) {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
}

/**
 * Follows the authorization URL through the sign-in form (identifier first where the page asks
 * for the identifier alone, as Google's does) and returns the redirect back to the callback.
 */
async function signIn(authorizationUrl, vendor) {
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  if (page.status === 302) return new URL(page.headers.get('location'));
  let html = await page.text();
  assert.equal(page.status, 200, html);
  let fields = { [vendor.userField]: vendor.user, [vendor.passwordField]: vendor.password };
  if (!html.includes(`name="${vendor.passwordField}"`)) {
    const identifier = await post(new URL(formAction(html, vendor.formId), authorizationUrl), {
      [vendor.userField]: vendor.user,
    });
    html = await identifier.text();
    fields = { [vendor.passwordField]: vendor.password };
  }
  const answer = await post(new URL(formAction(html, vendor.formId), authorizationUrl), fields);
  const location = answer.headers.get('location');
  assert.equal(answer.status, 302, `no redirect after signing in: ${await answer.text()}`);
  return new URL(location);
}

async function configure(issuer, vendor) {
  return client.discovery(new URL(issuer), vendor.clientId, undefined, client.ClientSecretBasic(vendor.secret), {
    execute: [client.allowInsecureRequests],
  });
}

/** The whole code flow; resolves with the token response and what was checked. */
async function codeFlow(config, vendor) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: vendor.scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...vendor.authParams,
  });
  const callback = await signIn(url, vendor);
  // Strict: state, iss (when advertised), PKCE, and the ID token's signature, iss, aud, exp,
  // iat, nonce and azp are all checked by openid-client before it answers.
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  });
  return tokens;
}

const KEYCLOAK = {
  args: ['--realm', 'fixtures/keycloak-realm.json'],
  issuer: (base) => `${base}/realms/acme`,
  clientId: 'acme-app',
  secret: 'acme-app-secret',
  scope: 'openid email profile',
  formId: 'kc-form-login',
  userField: 'username',
  passwordField: 'password',
  user: 'alice',
  password: 'alice-password',
  postLogout: CALLBACK,
  // Keycloak's logout ends the session: the refresh after it is refused.
  refreshAfterLogout: 'invalid_grant',
};

const OKTA = {
  args: ['--persona', 'fixtures/idp/okta.yaml'],
  issuer: (base) => `${base}/oauth2/default`,
  clientId: '0oa1b2c3d4e5f6g7h8i9',
  secret: 'acme-okta-client-secret',
  scope: 'openid email profile offline_access',
  formId: 'login-form',
  userField: 'identifier',
  passwordField: 'credentials.passcode',
  user: 'alice@example.com',
  password: 'alice-password',
  postLogout: SIGNED_OUT,
  // Okta's /v1/logout ends the browser session only; refresh tokens go through /v1/revoke.
  refreshAfterLogout: 'works',
};

const PERSONAS = {
  'Okta, custom authorization server': OKTA,
  'Okta, org authorization server': { ...OKTA, issuer: (base) => base },
  Auth0: {
    args: ['--persona', 'fixtures/idp/auth0.yaml'],
    issuer: (base) => `${base}/`,
    clientId: '8cA0b1c2d3e4f5g6h7i8j9k0l1m2n3o4',
    secret: 'acme-auth0-client-secret',
    scope: 'openid email profile offline_access',
    formId: 'login-form',
    userField: 'username',
    passwordField: 'password',
    user: 'alice@example.com',
    password: 'alice-password',
    postLogout: SIGNED_OUT,
    // Auth0's logout ends the Auth0 session; refresh tokens go through /oauth/revoke.
    refreshAfterLogout: 'works',
  },
  'Entra ID (tenant v2.0)': {
    args: ['--persona', 'fixtures/idp/entra-id.yaml'],
    issuer: (base) => `${base}/00000000-0000-0000-0000-000000000000/v2.0`,
    clientId: '44444444-4444-4444-4444-444444444444',
    secret: 'acme-entra-client-secret',
    scope: 'openid email profile offline_access',
    formId: 'login-form',
    userField: 'loginfmt',
    passwordField: 'passwd',
    user: 'alice@example.com',
    password: 'alice-password',
    // Entra returns only to one of the app's redirect URIs.
    postLogout: CALLBACK,
    // "Single sign-out on web" leaves refresh tokens alive.
    refreshAfterLogout: 'works',
  },
  Google: {
    args: ['--persona', 'fixtures/idp/google-workspace.yaml'],
    issuer: (base) => base,
    clientId: '123456789012-acmeappdirect.apps.googleusercontent.com',
    secret: 'GOCSPX-acme-app-direct-secret',
    scope: 'openid email profile',
    authParams: { access_type: 'offline' },
    formId: 'login-form',
    userField: 'identifier',
    passwordField: 'Passwd',
    user: 'alice@example.com',
    password: 'alice-password',
    // Google advertises no end_session_endpoint.
    postLogout: null,
  },
  Cognito: {
    args: ['--persona', 'fixtures/idp/cognito.yaml'],
    issuer: (base) => `${base}/us-east-1_AcMe12345`,
    clientId: '4jt4a1b2c3d4e5f6g7h8i9j0k1',
    secret: 'acme-cognito-client-secret',
    // `profile` is not enabled on this app client, and Cognito refuses offline_access.
    scope: 'openid email',
    formId: 'login-form',
    userField: 'username',
    passwordField: 'password',
    user: 'alice',
    password: 'alice-password',
    postLogout: SIGNED_OUT,
    // Cognito's /logout is not RP-Initiated Logout: it reads client_id and logout_uri.
    cognitoLogout: true,
    // /logout clears the hosted-UI cookie; refresh tokens go through /oauth2/revoke.
    refreshAfterLogout: 'works',
  },
  authentik: {
    args: ['--persona', 'fixtures/idp/authentik.yaml'],
    // The issuer is per application and ends in a slash.
    issuer: (base) => `${base}/application/o/acme/`,
    clientId: 'acme-authentik-client',
    secret: 'acme-authentik-client-secret',
    // `groups` comes from the custom scope mapping; refresh tokens only with offline_access.
    scope: 'openid email profile groups offline_access',
    formId: 'login-form',
    userField: 'uid_field',
    passwordField: 'password',
    user: 'alice',
    password: 'alice-password',
    postLogout: SIGNED_OUT,
    // End-session deletes the session's access tokens; refresh tokens outlive the session.
    refreshAfterLogout: 'works',
    // Each refresh marks the refresh token it used as revoked.
    reusedRefresh: 'invalid_grant',
    expectClaims: (claims) => {
      assert.match(claims.sub, /^[0-9a-f]{64}$/, 'hashed user id');
      assert.deepEqual(claims.groups, ['acme-admins']);
      assert.equal(claims.acr, 'goauthentik.io/providers/oauth2/default');
    },
  },
};

/** Signs out the standard way, or Cognito's; resolves with the answer. */
async function endSession(config, vendor, tokens) {
  const state = client.randomState();
  const url = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: vendor.postLogout,
    state,
  });
  const standard = await fetch(url, { redirect: 'manual' });
  if (!vendor.cognitoLogout) {
    assert.equal(standard.status, 302, await standard.text());
    const location = new URL(standard.headers.get('location'));
    assert.equal(`${location.origin}${location.pathname}`, vendor.postLogout);
    return;
  }
  // The RP-initiated request has no logout_uri: Cognito refuses it.
  assert.equal(standard.status, 400);
  const cognito = new URL(config.serverMetadata().end_session_endpoint);
  cognito.searchParams.set('client_id', vendor.clientId);
  cognito.searchParams.set('logout_uri', vendor.postLogout);
  const answer = await fetch(cognito, { redirect: 'manual' });
  assert.equal(answer.status, 302);
  assert.equal(answer.headers.get('location'), vendor.postLogout);
}

async function fullRun(vendor) {
  const base = await serve(vendor.args);
  const config = await configure(vendor.issuer(base), vendor);
  assert.equal(config.serverMetadata().issuer, vendor.issuer(base));
  const tokens = await codeFlow(config, vendor);
  const claims = tokens.claims();
  assert.ok(claims.sub, 'the ID token names its subject');
  if (vendor.expectClaims) vendor.expectClaims(claims);
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(userinfo.sub, claims.sub);
  assert.ok(tokens.refresh_token, 'a refresh token was issued');
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token);
  if (refreshed.id_token) assert.equal(refreshed.claims().sub, claims.sub);
  // A second refresh: rotated tokens where the vendor rotates, the same one where not (Google
  // keeps an offline token working until it is revoked).
  const current = refreshed.refresh_token || tokens.refresh_token;
  if (vendor.reusedRefresh) {
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => {
      assert.equal(e.error, vendor.reusedRefresh);
      return true;
    });
  }
  const again = await client.refreshTokenGrant(config, current);
  const latest = again.refresh_token || current;
  if (!vendor.postLogout) {
    assert.equal(config.serverMetadata().end_session_endpoint, undefined);
    assert.throws(() => client.buildEndSessionUrl(config, {}));
    return;
  }
  await endSession(config, vendor, tokens);
  if (vendor.refreshAfterLogout === 'works') {
    const after = await client.refreshTokenGrant(config, latest);
    assert.ok(after.access_token);
  } else {
    await assert.rejects(client.refreshTokenGrant(config, latest), (e) => {
      assert.equal(e.error, vendor.refreshAfterLogout);
      return true;
    });
  }
}

describe('openid-client 6 against the Keycloak realm', () => {
  test('discovery, code flow with PKCE and nonce, userinfo, refresh, end-session', () => fullRun(KEYCLOAK));
});

describe('openid-client 6 against the personas', () => {
  for (const [name, vendor] of Object.entries(PERSONAS)) {
    test(`${name}: discovery, code flow with PKCE and nonce, userinfo, refresh, end-session`, () =>
      fullRun(vendor));
  }

  test('Okta with --iss-parameter: an error redirect carries iss, so the error reaches the app', async () => {
    const base = await serve([...OKTA.args, '--iss-parameter']);
    const config = await configure(OKTA.issuer(base), OKTA);
    assert.equal(config.serverMetadata().authorization_response_iss_parameter_supported, true);
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid',
      state,
      prompt: 'none',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const callback = await signIn(url, OKTA);
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, { expectedState: state }),
      (e) => {
        // An AuthorizationResponseError, not a refusal of the response for a missing iss.
        assert.equal(e.error, 'login_required', e.message);
        return true;
      },
    );
  });

  test('authentik without offline_access: no refresh token, and a scope no mapping provides is dropped', async () => {
    const vendor = PERSONAS.authentik;
    const base = await serve(vendor.args);
    const config = await configure(vendor.issuer(base), vendor);
    const tokens = await codeFlow(config, { ...vendor, scope: 'openid email unmapped' });
    assert.equal(tokens.refresh_token, undefined);
    assert.equal(tokens.scope, 'openid email');
    // Neither `profile` nor `groups` was asked for: no groups claim.
    assert.equal(tokens.claims().groups, undefined);
  });

  // OpenID Connect Core 10.1 allows HS256 keyed with the client secret, and openid-client
  // verifies it that way when discovery advertises only HS256. The reference relying party
  // (`ssoproof login`) refuses such a provider by policy (`alg_unsupported`), as the runbook says.
  test('authentik with no signing key: HS256 keyed with the client secret, which openid-client verifies', async () => {
    const vendor = PERSONAS.authentik;
    const base = await serve(vendor.args);
    const edit = await fetch(`${base}/_ssoproof/persona`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ edit: 'authentik_signing_key', certificate: null }),
    });
    assert.equal(edit.status, 204, await edit.text());
    const config = await configure(vendor.issuer(base), vendor);
    assert.deepEqual(config.serverMetadata().id_token_signing_alg_values_supported, ['HS256']);
    const tokens = await codeFlow(config, vendor);
    const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url'));
    assert.equal(header.alg, 'HS256');
    assert.deepEqual(tokens.claims().groups, ['acme-admins']);
  });

  // openid-client accepts a discovered issuer that differs from the URL it was asked for only
  // on the origin https://login.microsoftonline.com, where it then substitutes the token's `tid`
  // into `{tenantid}`. Served from loopback, the same documents fall under the strict rule.
  test("Entra /common: the {tenantid} issuer template is refused (Entra's own special case does not apply off login.microsoftonline.com)", async () => {
    const vendor = PERSONAS['Entra ID (tenant v2.0)'];
    const base = await serve(vendor.args);
    const document = await (await fetch(`${base}/common/v2.0/.well-known/openid-configuration`)).json();
    assert.equal(document.issuer, `${base}/{tenantid}/v2.0`);
    await assert.rejects(configure(`${base}/common/v2.0`, vendor), (e) => {
      assert.match(e.message, /issuer does not match/);
      return true;
    });
  });

  test('Entra v1.0: the sts.windows.net issuer is refused (it is not the URL discovery was asked for)', async () => {
    const vendor = PERSONAS['Entra ID (tenant v2.0)'];
    const base = await serve(vendor.args);
    const tenant = `${base}/00000000-0000-0000-0000-000000000000`;
    await assert.rejects(configure(tenant, vendor), (e) => {
      assert.match(e.message, /issuer does not match/);
      assert.equal(e.cause.body.issuer, 'https://sts.windows.net/00000000-0000-0000-0000-000000000000/');
      return true;
    });
  });
});
