// A resource server that validates bearer tokens with jose (panva's JOSE library), the way
// many APIs do it: the issuer's JWKS through createRemoteJWKSet, then jwtVerify with the
// expected issuer, audience and algorithms. On success it reports the caller's identity in an
// `X-Attach-User` header and the body; access to a model can require a group.
// `ssoproof probe api` tests it as a team's own API.
//
// Configuration (environment):
//   ISSUER         the issuer tokens must carry; the JWKS comes from its discovery document
//                  (fetched on the first request, retried until it succeeds) unless JWKS_URI
//                  names it
//   AUDIENCE       the audience tokens must carry
//   ALGORITHMS     comma-separated allow-list, default RS256,ES256
//   CLOCK_TOLERANCE  seconds of clock skew accepted for exp/nbf, default 60
//   JWKS_COOLDOWN  seconds after a JWKS fetch before a token with an unknown `kid` may cause
//                  another, default jose's 30 (so a key rotation within 30 s of the last fetch
//                  is refused until then)
//   GROUPS_CLAIM   the claim holding the caller's groups, default `groups`
//   MODEL_GROUPS   JSON object model → the group that may call it, e.g. {"gpt-4":"AI-Power-Users"};
//                  the key `*` covers every other model; a model covered by neither is 404
//   PORT           default 0: an ephemeral port; the app prints `listening on <base URL>`
//
// Routes: GET /v1/me and POST /v1/models/{model} answer 200 with `X-Attach-User` (the email, or
// `sub` without one) and {"sub","email","groups"} (plus "model"); a missing or invalid token is
// 401, a caller outside the model's group 403.

import express from 'express';
import * as jose from 'jose';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`bearer-api: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

function modelGroups() {
  try {
    const map = JSON.parse(process.env.MODEL_GROUPS || '{}');
    if (typeof map === 'object' && map !== null && !Array.isArray(map)) return map;
  } catch (e) {
    console.error(`bearer-api: MODEL_GROUPS is not JSON: ${e.message}`);
    process.exit(2);
  }
  console.error('bearer-api: MODEL_GROUPS must be a JSON object of model → group');
  process.exit(2);
}

const issuer = required('ISSUER');
const audience = required('AUDIENCE');
const algorithms = (process.env.ALGORITHMS || 'RS256,ES256').split(',').map((a) => a.trim());
const clockTolerance = Number(process.env.CLOCK_TOLERANCE ?? 60);
const groupsClaim = process.env.GROUPS_CLAIM || 'groups';
const cooldown = process.env.JWKS_COOLDOWN;
const models = modelGroups();

let jwks = null;
async function keySet() {
  if (jwks === null) {
    let uri = process.env.JWKS_URI;
    if (!uri) {
      const discovery = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const answer = await fetch(discovery, { signal: AbortSignal.timeout(5000) });
      if (!answer.ok) throw new Error(`${discovery} answered ${answer.status}`);
      uri = (await answer.json()).jwks_uri;
      if (typeof uri !== 'string') throw new Error(`${discovery} names no jwks_uri`);
    }
    jwks = jose.createRemoteJWKSet(new URL(uri), cooldown ? { cooldownDuration: Number(cooldown) * 1000 } : {});
  }
  return jwks;
}

/** The verified claims of the request's bearer token; answers 401 itself and resolves null otherwise. */
async function authenticate(req, res) {
  const match = /^Bearer ([^\s]+)$/i.exec(req.get('authorization') || '');
  const refuse = (description) => {
    res.set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${description}"`);
    res.status(401).json({ error: 'invalid_token', error_description: description });
    return null;
  };
  if (!match) return refuse('no bearer token');
  let keys;
  try {
    keys = await keySet();
  } catch (e) {
    res.status(502).json({ error: 'jwks_unavailable', error_description: e.message });
    return null;
  }
  try {
    const { payload } = await jose.jwtVerify(match[1], keys, { issuer, audience, algorithms, clockTolerance });
    return payload;
  } catch (e) {
    return refuse(e.code || e.name);
  }
}

function identify(res, claims) {
  const groups = Array.isArray(claims[groupsClaim]) ? claims[groupsClaim] : [];
  const email = typeof claims.email === 'string' ? claims.email : null;
  res.set('X-Attach-User', email ?? claims.sub ?? '');
  return { sub: claims.sub ?? null, email, groups };
}

const app = express();

app.get('/v1/me', async (req, res) => {
  const claims = await authenticate(req, res);
  if (claims) res.json(identify(res, claims));
});

app.post('/v1/models/:model', async (req, res) => {
  const claims = await authenticate(req, res);
  if (!claims) return;
  const { model } = req.params;
  const group = Object.hasOwn(models, model) ? models[model] : models['*'];
  if (group === undefined) {
    res.status(404).json({ error: 'unknown_model', model });
    return;
  }
  const identity = identify(res, claims);
  if (!identity.groups.includes(group)) {
    res.status(403).json({ error: 'forbidden', error_description: `${model} needs group ${group}`, ...identity });
    return;
  }
  res.json({ ...identity, model });
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
server.on('error', (e) => {
  console.error(`bearer-api: cannot listen: ${e.message}`);
  process.exit(1);
});
