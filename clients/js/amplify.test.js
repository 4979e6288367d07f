// aws-amplify v6 (aws-amplify/auth), unmodified, against a running Behalf:
// signIn (USER_SRP_AUTH by default), fetchAuthSession({ forceRefresh:
// true }) (GetTokensFromRefreshToken), getCurrentUser, fetchUserAttributes,
// signOut, and a wrong password. Amplify runs in node with its in-memory
// token storage and node's fetch and Web Crypto; the only configuration is
// the pool, the client and Auth.Cognito.userPoolEndpoint.
//
// Run by cmd/behalf's TestJSClients with BEHALF_URL, POOL_ID, CLIENT_ID,
// USERNAME and PASSWORD (a CONFIRMED user) in the environment:
//   node --test amplify.test.js
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
// Node 18 (Debian 12's) has Web Crypto only as require('crypto').webcrypto.
if (!globalThis.crypto) globalThis.crypto = require('crypto').webcrypto;
const { Amplify } = require('aws-amplify');
const {
  signIn, signOut, fetchAuthSession, getCurrentUser, fetchUserAttributes,
} = require('aws-amplify/auth');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: env('POOL_ID'), userPoolClientId: env('CLIENT_ID'), userPoolEndpoint: env('BEHALF_URL'),
    },
  },
});

test('a wrong password is NotAuthorizedException', async () => {
  await assert.rejects(signIn({ username: env('USERNAME'), password: 'Wrong-Password-1!' }),
    (err) => err.name === 'NotAuthorizedException' && err.message === 'Incorrect username or password.');
});

test('signIn (SRP), forced refresh, user and attributes, signOut', async () => {
  const out = await signIn({ username: env('USERNAME'), password: env('PASSWORD') });
  assert.equal(out.isSignedIn, true);
  assert.equal(out.nextStep.signInStep, 'DONE');

  const first = await fetchAuthSession();
  assert.ok(first.tokens && first.tokens.accessToken);
  const firstAccess = first.tokens.accessToken.toString();
  assert.equal(first.tokens.accessToken.payload.client_id, env('CLIENT_ID'));

  // The access token changes only if the refresh really happened; tokens
  // of the same second would differ in jti anyway.
  const refreshed = await fetchAuthSession({ forceRefresh: true });
  assert.ok(refreshed.tokens && refreshed.tokens.accessToken);
  assert.notEqual(refreshed.tokens.accessToken.toString(), firstAccess);
  assert.equal(refreshed.tokens.accessToken.payload.origin_jti, first.tokens.accessToken.payload.origin_jti);
  assert.equal(refreshed.tokens.idToken.payload['cognito:username'], env('USERNAME'));

  const user = await getCurrentUser();
  assert.equal(user.username, env('USERNAME'));
  const attrs = await fetchUserAttributes();
  assert.ok(attrs.sub);

  // A second forced refresh: the refresh token (rotated or kept) still works.
  const again = await fetchAuthSession({ forceRefresh: true });
  assert.ok(again.tokens && again.tokens.accessToken);

  await signOut({ global: true });
  const after = await fetchAuthSession();
  assert.equal(after.tokens, undefined);
});
