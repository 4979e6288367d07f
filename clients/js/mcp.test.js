// The official TypeScript MCP SDK (@modelcontextprotocol/sdk, unmodified)
// as a real MCP client of a Behalf gateway, knowing nothing but its URL:
//  - connect → 401 → the SDK's auth(): RFC 9728 metadata from the 401's
//    WWW-Authenticate, the pool's RFC 8414 metadata, RFC 7591 dynamic
//    registration, the authorization URL with PKCE S256 and the resource,
//    handed to redirectToAuthorization; the user signs in (the Go test
//    drives headless Chromium), the browser comes back to this script's
//    loopback redirect URI, and transport.finishAuth exchanges the code;
//  - tools/list, tools/call of an API-key tool;
//  - tools/call of a tool that acts for the user: UrlElicitationRequiredError
//    (-32042) with a URL; the user consents (the Go test), the call again
//    returns the user's own files — for alice, then for bob, each with his
//    own client, sign-in and consent.
//
// Run by cmd/behalf's TestJSClientsMCP with GATEWAY_URL, USERS (alice,bob)
// and SEED_FILES (JSON: user → the id of one of the user's sandbox Drive
// files). The Go test reads lines starting with "BEHALF> " on stdout:
//   BEHALF> authorize USER URL  — sign USER in at URL in the browser
//   BEHALF> consent USER URL    — consent at URL as USER, then write
//                                 "consented" to this script's stdin
//   node mcp.test.js
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const readline = require('node:readline');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { UnauthorizedError } = require('@modelcontextprotocol/sdk/client/auth.js');
const { ErrorCode, McpError, UrlElicitationRequiredError } = require('@modelcontextprotocol/sdk/types.js');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const gatewayURL = env('GATEWAY_URL');
const users = env('USERS').split(',');
const seedFiles = JSON.parse(env('SEED_FILES'));

// Lines the Go test writes to stdin, in order.
const stdin = readline.createInterface({ input: process.stdin });
const stdinLines = stdin[Symbol.asyncIterator]();
async function waitFor(line) {
  const { value, done } = await stdinLines.next();
  assert.ok(!done, `stdin closed, want ${line}`);
  assert.equal(value.trim(), line);
}

// The loopback redirect URI (RFC 8252): one server, a promise per state.
function startCallbackServer() {
  const waiting = new Map();
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    const w = waiting.get(u.searchParams.get('state'));
    if (u.pathname !== '/callback' || !w) {
      res.writeHead(404).end();
      return;
    }
    waiting.delete(u.searchParams.get('state'));
    if (u.searchParams.get('error')) {
      res.writeHead(400).end('sign-in failed');
      w.reject(new Error(`authorization error ${u.searchParams.get('error')}: ${u.searchParams.get('error_description')}`));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('mcp client: signed in');
    w.resolve(u.searchParams.get('code'));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      resolve({
        server,
        redirectURL: `${base}/callback`,
        code: (state) => new Promise((resolve, reject) => waiting.set(state, { resolve, reject })),
      });
    });
  });
}

// An in-memory OAuthClientProvider, as an MCP client implements it.
class Provider {
  constructor(user, redirectURL, codes) {
    this.user = user;
    this._redirectURL = redirectURL;
    this._codes = codes;
    this._state = require('node:crypto').randomBytes(16).toString('hex');
    this.authorizationURL = undefined;
    this.codePromise = undefined;
  }
  get redirectUrl() { return this._redirectURL; }
  get clientMetadata() {
    return {
      client_name: 'TypeScript MCP client', redirect_uris: [this._redirectURL],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() { return this._state; }
  clientInformation() { return this._client; }
  saveClientInformation(info) { this._client = info; }
  tokens() { return this._tokens; }
  saveTokens(tokens) { this._tokens = tokens; }
  saveCodeVerifier(v) { this._verifier = v; }
  codeVerifier() { return this._verifier; }
  redirectToAuthorization(url) {
    this.authorizationURL = url;
    this.codePromise = this._codes(this._state);
    console.log(`BEHALF> authorize ${this.user} ${url.href}`);
  }
}

// The JWT's claims (the gateway verifies it; this only reads it).
function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

const text = (res) => res.content.filter((c) => c.type === 'text').map((c) => c.text).join('');

test('the TypeScript MCP SDK signs in, lists and calls tools through the gateway, with URL elicitation', async (t) => {
  const cb = await startCallbackServer();
  t.after(() => { cb.server.close(); stdin.close(); });
  const sessions = {};

  for (const user of users) {
    await t.test(`${user}: sign-in from the 401 alone`, async () => {
      const provider = new Provider(user, cb.redirectURL, cb.code);
      const client = new Client({ name: 'behalf-ts-test', version: '1.0.0' }, { capabilities: { elicitation: { url: {} } } });
      await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(gatewayURL), { authProvider: provider })), UnauthorizedError);
      // What the SDK found by itself: a registered client, and the pool's
      // authorization endpoint with PKCE and the gateway as resource.
      const info = provider.clientInformation();
      assert.ok(info && info.client_id, 'the SDK registered a client');
      assert.equal(info.client_secret, undefined);
      const u = provider.authorizationURL;
      assert.ok(u, 'the SDK asked to open the authorization URL');
      assert.match(u.pathname, /\/oauth2\/authorize$/);
      assert.equal(u.searchParams.get('client_id'), info.client_id);
      assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(u.searchParams.get('resource'), gatewayURL);
      assert.equal(u.searchParams.get('redirect_uri'), cb.redirectURL);

      const transport = new StreamableHTTPClientTransport(new URL(gatewayURL), { authProvider: provider });
      await transport.finishAuth(await provider.codePromise);
      const at = claims(provider.tokens().access_token);
      assert.equal(at.username, user);
      assert.ok([].concat(at.aud).includes(gatewayURL), `aud ${JSON.stringify(at.aud)} lacks ${gatewayURL}`);
      assert.equal(at.client_id, info.client_id);

      await client.connect(new StreamableHTTPClientTransport(new URL(gatewayURL), { authProvider: provider }));
      sessions[user] = client;
      const { tools } = await client.listTools();
      const names = tools.map((tool) => tool.name).sort();
      assert.ok(names.includes('drive___listFiles') && names.includes('notes___search'), `tools ${names}`);
      const res = await client.callTool({ name: 'notes___search', arguments: { q: 'plans' } });
      assert.ok(!res.isError, text(res));
      assert.equal(text(res), '{"notes":[{"title":"found plans"}]}');
    });

    await t.test(`${user}: URL elicitation, consent, then the user's own files`, async () => {
      const client = sessions[user];
      let elicitation;
      await assert.rejects(client.callTool({ name: 'drive___listFiles', arguments: {} }), (err) => {
        assert.ok(err instanceof UrlElicitationRequiredError, `${err}`);
        assert.ok(err instanceof McpError);
        assert.equal(err.code, ErrorCode.UrlElicitationRequired);
        assert.equal(err.code, -32042);
        assert.equal(err.elicitations.length, 1);
        elicitation = err.elicitations[0];
        return true;
      });
      assert.equal(elicitation.mode, 'url');
      assert.ok(elicitation.elicitationId);
      assert.match(elicitation.message, /consent/);
      console.log(`BEHALF> consent ${user} ${elicitation.url}`);
      await waitFor('consented');

      const res = await client.callTool({ name: 'drive___listFiles', arguments: { pageSize: 10 } });
      assert.ok(!res.isError, text(res));
      for (const [other, file] of Object.entries(seedFiles)) {
        assert.equal(text(res).includes(file), other === user, `${user}'s files and ${other}'s file ${file}: ${text(res)}`);
      }
    });
  }

  await t.test('each user still gets only his own files', async () => {
    for (const user of users) {
      const res = await sessions[user].callTool({ name: 'drive___listFiles', arguments: {} });
      assert.ok(!res.isError && text(res).includes(seedFiles[user]), `${user}: ${text(res)}`);
      await sessions[user].close();
    }
  });
});
