// TOTP MFA with amazon-cognito-identity-js and aws-amplify v6, unmodified,
// against a running Behalf:
//  - amazon-cognito-identity-js, signed in: associateSoftwareToken,
//    verifySoftwareToken, setUserMfaPreference; the next sign-in calls
//    totpRequired and sendMFACode(code, cb, 'SOFTWARE_TOKEN_MFA') answers
//    it (a wrong code first: CodeMismatchException, then the right one);
//  - amazon-cognito-identity-js, MFA ON without a token: mfaSetup, then
//    associateSoftwareToken and verifySoftwareToken by session;
//  - aws-amplify: signIn → CONTINUE_SIGN_IN_WITH_TOTP_SETUP → confirmSignIn,
//    then signIn → CONFIRM_SIGN_IN_WITH_TOTP_CODE → confirmSignIn, and
//    fetchMFAPreference.
//
// Codes come from CODE_URL (the Go test's helper: pquerna/otp's code of
// ?secret= at now + ?offset= seconds), so no TOTP is written here. Run by
// cmd/behalf's TestJSClientsMFA with BEHALF_URL, CODE_URL, POOL_OPT and
// CLIENT_OPT (MFA OPTIONAL), POOL_ON and CLIENT_ON (MFA ON), USER_OPT (of
// POOL_OPT), USER_ON and USER_AMPLIFY (of POOL_ON), all with PASSWORD:
//   node --test mfa.test.js
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
if (!globalThis.crypto) globalThis.crypto = require('crypto').webcrypto;
const { CognitoUserPool, CognitoUser, AuthenticationDetails } = require('amazon-cognito-identity-js');
const { Amplify } = require('aws-amplify');
const { signIn, confirmSignIn, signOut, fetchMFAPreference } = require('aws-amplify/auth');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

// code fetches the TOTP code of secret at now + offset seconds.
async function code(secret, offset) {
  const r = await fetch(`${env('CODE_URL')}?secret=${encodeURIComponent(secret)}&offset=${offset}`);
  assert.equal(r.status, 200);
  return (await r.text()).trim();
}

function ajsPool(poolID, clientID) {
  return new CognitoUserPool({ UserPoolId: env(poolID), ClientId: env(clientID), endpoint: env('BEHALF_URL') + '/' });
}

// ajsSignIn runs authenticateUser and resolves with the callback called.
function ajsSignIn(pool, username) {
  const user = new CognitoUser({ Username: username, Pool: pool });
  return new Promise((resolve) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: env('PASSWORD') }), {
      onSuccess: (session) => resolve({ user, session }),
      onFailure: (err) => resolve({ user, err }),
      totpRequired: (name) => resolve({ user, challenge: name }),
      mfaSetup: (name) => resolve({ user, challenge: name }),
    });
  });
}

function sendCode(user, c) {
  return new Promise((resolve) => user.sendMFACode(c, {
    onSuccess: (session) => resolve({ session }),
    onFailure: (err) => resolve({ err }),
  }, 'SOFTWARE_TOKEN_MFA'));
}

function associate(user) {
  return new Promise((resolve, reject) => user.associateSoftwareToken({
    associateSecretCode: resolve, onFailure: reject,
  }));
}

function verify(user, c) {
  return new Promise((resolve, reject) => user.verifySoftwareToken(c, 'phone', { onSuccess: resolve, onFailure: reject }));
}

test('amazon-cognito-identity-js: set up TOTP signed in, then totpRequired and sendMFACode', async () => {
  const pool = ajsPool('POOL_OPT', 'CLIENT_OPT');
  const first = await ajsSignIn(pool, env('USER_OPT'));
  assert.ifError(first.err);
  assert.ok(first.session.isValid(), 'no MFA before a token is enabled');
  const secret = await associate(first.user);
  assert.match(secret, /^[A-Z2-7]{32}$/);
  const verified = await verify(first.user, await code(secret, -30));
  assert.equal(verified.Status, 'SUCCESS');
  await new Promise((resolve, reject) => first.user.setUserMfaPreference(null, { PreferredMfa: true, Enabled: true },
    (err, res) => (err ? reject(err) : resolve(res))));

  const second = await ajsSignIn(pool, env('USER_OPT'));
  assert.ifError(second.err);
  assert.equal(second.challenge, 'SOFTWARE_TOKEN_MFA');
  const wrong = await sendCode(second.user, '000000');
  assert.equal(wrong.err && wrong.err.code, 'CodeMismatchException');
  const right = await sendCode(second.user, await code(secret, 0));
  assert.ifError(right.err);
  assert.ok(right.session.isValid());
});

test('amazon-cognito-identity-js: MFA ON asks for setup (mfaSetup), answered by session', async () => {
  const pool = ajsPool('POOL_ON', 'CLIENT_ON');
  const r = await ajsSignIn(pool, env('USER_ON'));
  assert.ifError(r.err);
  assert.equal(r.challenge, 'MFA_SETUP');
  const secret = await associate(r.user);
  const session = await verify(r.user, await code(secret, -30));
  assert.ok(session.isValid(), 'verifySoftwareToken answers MFA_SETUP and signs in');
});

test('aws-amplify: TOTP setup at sign-in, then a TOTP code at sign-in', async () => {
  Amplify.configure({
    Auth: { Cognito: { userPoolId: env('POOL_ON'), userPoolClientId: env('CLIENT_ON'), userPoolEndpoint: env('BEHALF_URL') } },
  });
  const username = env('USER_AMPLIFY');
  const out = await signIn({ username, password: env('PASSWORD') });
  assert.equal(out.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_TOTP_SETUP');
  const secret = out.nextStep.totpSetupDetails.sharedSecret;
  assert.match(out.nextStep.totpSetupDetails.getSetupUri('Behalf').toString(), /^otpauth:\/\/totp\/Behalf:/);
  const setup = await confirmSignIn({ challengeResponse: await code(secret, -30) });
  assert.equal(setup.isSignedIn, true);
  const pref = await fetchMFAPreference();
  assert.equal(pref.preferred, 'TOTP');
  assert.deepEqual(pref.enabled, ['TOTP']);
  await signOut();

  const again = await signIn({ username, password: env('PASSWORD') });
  assert.equal(again.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
  await assert.rejects(confirmSignIn({ challengeResponse: '000000' }), (err) => err.name === 'CodeMismatchException');
  const done = await confirmSignIn({ challengeResponse: await code(secret, 0) });
  assert.equal(done.isSignedIn, true);
  assert.equal(done.nextStep.signInStep, 'DONE');
  await signOut();
});
