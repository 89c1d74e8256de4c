// A web application with an OIDC login, built the way openid-client 6 (an OpenID-certified
// relying-party library) documents it: the code flow with PKCE S256, state and nonce, every
// check left to openid-client, userinfo fetched with the ID token's `sub` expected, and a
// server-side session behind a cookie. `ssoproof probe app` tests it as a team's own app.
//
// Configuration (environment):
//   ISSUER         the OpenID provider's issuer (discovery is fetched on the first /login and
//                  retried until it succeeds, so the app starts before its IdP answers)
//   CLIENT_ID, CLIENT_SECRET   a confidential client (client_secret_basic)
//   PORT           default 0: an ephemeral port; the app prints `listening on <base URL>`
//   SCOPE          default `openid email profile`
//   GROUPS_CLAIM   the ID-token claim holding the user's groups, default `groups`
//   ROLE_MAP       JSON object group → role, e.g. {"/acme/admins":"admin"}; the first entry
//                  naming one of the user's groups gives the role
//   DEFAULT_ROLE   the role of a user whose groups map to nothing; unset: such a login is refused
//
// Routes: /login starts a login, /callback completes it (4xx and no session on any error),
// /whoami answers {"sub","email","role"} when signed in and 401 otherwise, /logout ends it.

import { randomBytes } from 'node:crypto';

import express from 'express';
import session from 'express-session';
import * as client from 'openid-client';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`login-app: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

function roleMap() {
  const text = process.env.ROLE_MAP || '{}';
  let map;
  try {
    map = JSON.parse(text);
  } catch (e) {
    console.error(`login-app: ROLE_MAP is not JSON: ${e.message}`);
    process.exit(2);
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    console.error('login-app: ROLE_MAP must be a JSON object of group → role');
    process.exit(2);
  }
  return Object.entries(map);
}

const issuer = new URL(required('ISSUER'));
const clientId = required('CLIENT_ID');
const clientSecret = required('CLIENT_SECRET');
const scope = process.env.SCOPE || 'openid email profile';
const groupsClaim = process.env.GROUPS_CLAIM || 'groups';
const roles = roleMap();
const defaultRole = process.env.DEFAULT_ROLE || null;

let config = null;
async function configuration() {
  if (config === null) {
    // The IdP under test is a loopback emulator served over plain HTTP.
    config = await client.discovery(issuer, clientId, undefined, client.ClientSecretBasic(clientSecret), {
      execute: [client.allowInsecureRequests],
    });
  }
  return config;
}

function groupsOf(claims) {
  const value = claims[groupsClaim];
  if (Array.isArray(value)) return value.filter((g) => typeof g === 'string');
  return typeof value === 'string' ? [value] : [];
}

function roleOf(groups) {
  const entry = roles.find(([group]) => groups.includes(group));
  return entry ? entry[1] : defaultRole;
}

const app = express();
app.use(
  session({
    name: 'login-app.sid',
    secret: randomBytes(32).toString('hex'),
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: false },
  }),
);

let base;
const redirectUri = () => `${base}/callback`;

app.get('/login', async (req, res) => {
  let cfg;
  try {
    cfg = await configuration();
  } catch (e) {
    res.status(502).type('text').send(`login-app: discovery at ${issuer} failed: ${e.message}\n`);
    return;
  }
  const pending = {
    verifier: client.randomPKCECodeVerifier(),
    state: client.randomState(),
    nonce: client.randomNonce(),
  };
  req.session.pending = pending;
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: redirectUri(),
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
  });
  req.session.save(() => res.redirect(url.href));
});

app.get('/callback', async (req, res) => {
  // Single use: whatever happens next, this login attempt is spent.
  const pending = req.session.pending;
  delete req.session.pending;
  const refuse = (status, message) => {
    req.session.destroy(() => res.status(status).type('text').send(`login failed: ${message}\n`));
  };
  if (!pending) {
    refuse(400, 'no login in progress in this browser');
    return;
  }
  try {
    const cfg = await configuration();
    const tokens = await client.authorizationCodeGrant(cfg, new URL(req.originalUrl, base), {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    const userinfo = await client.fetchUserInfo(cfg, tokens.access_token, claims.sub);
    const role = roleOf(groupsOf(claims));
    if (role === null) {
      refuse(403, 'none of your groups maps to a role');
      return;
    }
    const user = { sub: claims.sub, email: claims.email ?? userinfo.email ?? null, role };
    // A fresh session id after login (no session fixation).
    req.session.regenerate((err) => {
      if (err) {
        res.status(500).type('text').send('login failed: the session could not be created\n');
        return;
      }
      req.session.user = user;
      req.session.save(() => res.redirect('/'));
    });
  } catch (e) {
    refuse(401, `${e.code ?? e.name}: ${e.message}`);
  }
});

app.get('/whoami', (req, res) => {
  if (!req.session.user) {
    res.status(401).json({ error: 'not signed in' });
    return;
  }
  res.json(req.session.user);
});

app.get('/', (req, res) => {
  const user = req.session.user;
  res.type('text').send(user ? `signed in as ${user.email ?? user.sub} (${user.role})\n` : 'not signed in: /login\n');
});

app.get('/logout', (req, res) => {
  req.session.destroy(() => res.redirect('/'));
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  console.log(`listening on ${base}`);
});
server.on('error', (e) => {
  console.error(`login-app: cannot listen: ${e.message}`);
  process.exit(1);
});
