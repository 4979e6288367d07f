// amazon-cognito-identity-js, unmodified, against a running Behalf: SRP
// sign-in (the library's only flow), NEW_PASSWORD_REQUIRED, refresh
// (REFRESH_TOKEN_AUTH), getUserAttributes, global sign-out, and the
// errors of a wrong password and an unknown user.
//
// Run by cmd/behalf's TestJSClients with BEHALF_URL, POOL_ID, CLIENT_ID,
// USERNAME (FORCE_CHANGE_PASSWORD, temporary password TEMP_PASSWORD) and
// NEW_PASSWORD in the environment:  node --test cognito-identity-js.test.js
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const {
  CognitoUserPool, CognitoUser, AuthenticationDetails,
} = require('amazon-cognito-identity-js');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const pool = new CognitoUserPool({
  UserPoolId: env('POOL_ID'), ClientId: env('CLIENT_ID'), endpoint: env('BEHALF_URL') + '/',
});

// signIn runs authenticateUser (USER_SRP_AUTH) and resolves with the
// callback that was called and its arguments.
function signIn(username, password, onNewPassword) {
  const user = new CognitoUser({ Username: username, Pool: pool });
  return new Promise((resolve) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), {
      onSuccess: (session) => resolve({ user, session }),
      onFailure: (err) => resolve({ user, err }),
      newPasswordRequired: (attrs) => {
        if (!onNewPassword) return resolve({ user, newPasswordRequired: attrs });
        user.completeNewPasswordChallenge(onNewPassword, {}, {
          onSuccess: (session) => resolve({ user, session, completed: true }),
          onFailure: (err) => resolve({ user, err }),
        });
      },
    });
  });
}

function payload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

test('SRP sign-in with a temporary password, then NEW_PASSWORD_REQUIRED', async () => {
  const r = await signIn(env('USERNAME'), env('TEMP_PASSWORD'), env('NEW_PASSWORD'));
  assert.ifError(r.err);
  assert.equal(r.completed, true);
  assert.ok(r.session.isValid());
});

test('SRP sign-in, user attributes, refresh and global sign-out', async () => {
  const { user, session, err } = await signIn(env('USERNAME'), env('NEW_PASSWORD'));
  assert.ifError(err);
  assert.ok(session.isValid());
  const access = payload(session.getAccessToken().getJwtToken());
  assert.equal(access.token_use, 'access');
  assert.equal(access.client_id, env('CLIENT_ID'));
  assert.equal(access.username, env('USERNAME'));
  const id = payload(session.getIdToken().getJwtToken());
  assert.equal(id.aud, env('CLIENT_ID'));
  assert.equal(id['cognito:username'], env('USERNAME'));

  const attrs = await new Promise((resolve, reject) => user.getUserAttributes((e, a) => (e ? reject(e) : resolve(a))));
  assert.ok(attrs.some((a) => a.getName() === 'sub'));

  const refreshed = await new Promise((resolve, reject) =>
    user.refreshSession(session.getRefreshToken(), (e, s) => (e ? reject(e) : resolve(s))));
  assert.ok(refreshed.isValid());
  assert.equal(payload(refreshed.getAccessToken().getJwtToken()).origin_jti, access.origin_jti);

  await new Promise((resolve, reject) => user.globalSignOut({ onSuccess: resolve, onFailure: reject }));
  const after = await new Promise((resolve) => user.getUserAttributes((e) => resolve(e)));
  assert.equal(after && after.code, 'NotAuthorizedException');
});

test('a wrong password and an unknown user fail alike', async () => {
  const wrong = await signIn(env('USERNAME'), 'Wrong-Password-1!');
  assert.equal(wrong.err && wrong.err.code, 'NotAuthorizedException');
  assert.equal(wrong.err.message, 'Incorrect username or password.');
  const unknown = await signIn('nobody-' + Date.now(), 'Wrong-Password-1!');
  assert.equal(unknown.err && unknown.err.code, 'NotAuthorizedException');
  assert.equal(unknown.err.message, 'Incorrect username or password.');
});
