// An OpenID provider for the tests, configured like ID-porten: the certified `oidc-provider` package with one
// confidential client (client_secret_basic), PKCE required, the acr values idporten-loa-low/substantial/high and
// the national identity number in the ID token's `pid` claim. tests/oidc_support.py starts it.
//
// Its own pages, for Python's requests and for Chromium alike:
//   GET  /interaction/:uid        a form with the fields pid and acr
//   POST /interaction/:uid        finishes the login as that person at that level (consent is automatic)
//   POST /__test/tamper           test-only: the NEXT token response carries an ID token re-made with changes,
//                                 e.g. {"aud": "other"}, {"iss": "x"}, {"exp": -60} (seconds from now),
//                                 {"nonce": "x"}, {"alg": "none"} (unsigned), {"foreign_key": true} (signed with
//                                 another key under the provider's kid), {"drop": ["pid"]}
//
// Settings from the environment: PORT (required), CLIENT_ID, CLIENT_SECRET, and JWT_CLIENT_ID with JWT_CLIENT_JWKS
// (the public keys of a second client that authenticates with private_key_jwt, as HelseID requires).

import { createHash } from 'node:crypto';
import http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const clientId = process.env.CLIENT_ID || 'privacy-service';
const clientSecret = process.env.CLIENT_SECRET || 'a-test-secret-that-is-long-enough-for-hs256-0123456789';
const ACR_VALUES = ['idporten-loa-low', 'idporten-loa-substantial', 'idporten-loa-high'];
const KID = 'test-signing-key';

const signing = await jose.generateKeyPair('RS256', { extractable: true });
const foreign = await jose.generateKeyPair('RS256', { extractable: true });
const privateJwk = { ...(await jose.exportJWK(signing.privateKey)), kid: KID, alg: 'RS256', use: 'sig' };

// ID-porten's `sub` is a pseudonym per client; the pid is a claim of its own.
const people = new Map();
const subFor = (pid) => createHash('sha256').update(`sub:${pid}`).digest('base64url');

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: ['http://localhost:5000/me/callback'],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }, ...(process.env.JWT_CLIENT_JWKS ? [{
    client_id: process.env.JWT_CLIENT_ID || 'privacy-service-jwt',
    redirect_uris: ['http://localhost:5000/me/callback'],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    jwks: JSON.parse(process.env.JWT_CLIENT_JWKS),
  }] : [])],
  jwks: { keys: [privateJwk] },
  cookies: { keys: ['test-cookie-signing-key'] },
  pkce: { required: () => true },
  acrValues: ACR_VALUES,
  claims: { openid: ['sub', 'pid'] },
  conformIdTokenClaims: false, // the scope's claims (pid) go in the ID token, as ID-porten's do
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const pid = people.get(sub);
    if (!pid) return undefined;
    return { accountId: sub, claims: async () => ({ sub, pid }) };
  },
  // Consent is given by the test person's login: every login gets a grant for openid and pid.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid');
    grant.addOIDCClaims(['sub', 'pid']);
    await grant.save();
    return grant;
  },
};

const provider = new Provider(issuer, configuration);

// The app under test listens on loopback ports chosen at run time: any loopback address with the callback path
// is this client's (test-only; ID-porten registers each redirect URI exactly).
const allowed = provider.Client.prototype.redirectUriAllowed;
provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(value) {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(url.hostname)
        && url.pathname === '/me/callback' && !url.search) {
      return true;
    }
  } catch {
    return false;
  }
  return allowed.call(this, value);
};

let tamper = null;

function b64(obj) {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

async function remake(idToken, changes) {
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  for (const [name, value] of Object.entries(changes)) {
    if (name === 'alg' || name === 'foreign_key' || name === 'drop') continue;
    claims[name] = name === 'exp' ? now + value : value;
  }
  if (changes.exp !== undefined) claims.iat = Math.min(claims.iat, claims.exp - 60);
  for (const name of changes.drop || []) delete claims[name];
  if (changes.alg === 'none') return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
  const key = changes.foreign_key ? foreign.privateKey : signing.privateKey;
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' }).sign(key);
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route === 'token' && tamper && ctx.body?.id_token) {
    const changes = tamper;
    tamper = null;
    ctx.body = { ...ctx.body, id_token: await remake(ctx.body.id_token, changes) };
  }
});

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') {
    const requested = details.params.acr_values || 'idporten-loa-substantial';
    const options = ACR_VALUES.map((v) => `<option${v === requested ? ' selected' : ''}>${v}</option>`).join('');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Test ID-porten</title><h1>Test ID-porten</h1>
<form method="post" action="/interaction/${escape(uid)}">
<label>pid <input name="pid" autocomplete="off"></label>
<label>acr <select name="acr">${options}</select></label>
<button type="submit">Log in</button></form>`);
    return;
  }
  const form = await readForm(req);
  const pid = form.get('pid') || '';
  const sub = subFor(pid);
  people.set(sub, pid);
  if (details.prompt.name === 'login') {
    await provider.interactionFinished(req, res, {
      login: { accountId: sub, acr: form.get('acr') || 'idporten-loa-substantial', amr: ['TestID'] },
    }, { mergeWithLastSubmission: false });
  } else {
    const grant = new provider.Grant({ clientId: details.params.client_id, accountId: details.session.accountId });
    grant.addOIDCScope('openid');
    grant.addOIDCClaims(['sub', 'pid']);
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, {
      mergeWithLastSubmission: true,
    });
  }
}

const handler = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    const { pathname } = new URL(req.url, issuer);
    const match = pathname.match(/^\/interaction\/([\w-]+)$/);
    if (match) {
      await interaction(req, res, match[1]);
    } else if (pathname === '/__test/tamper' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      tamper = JSON.parse(body || '{}');
      res.writeHead(204);
      res.end();
    } else {
      handler(req, res);
    }
  } catch (err) {
    res.writeHead(400, { 'Content-Type': 'text/plain' });
    res.end(`test provider: ${err.message}`);
  }
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening on ${issuer}\n`);
});
