// amazon-cognito-identity-js, unmodified, against a running Behalf:
// signUp, confirmRegistration, then forgotPassword and confirmPassword,
// with the codes Behalf mailed to its SMTP server, and SRP sign-in with
// each password.
//
// Run by cmd/behalf's TestJSClientsSignUp with BEHALF_URL, POOL_ID,
// CLIENT_ID and CODES_URL (the test's reader of the mail the SMTP server
// received: GET ?to=ADDRESS&n=N answers the Nth code sent to ADDRESS) in
// the environment:  node --test signup.test.js
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const {
  CognitoUserPool, CognitoUser, CognitoUserAttribute, AuthenticationDetails,
} = require('amazon-cognito-identity-js');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const pool = new CognitoUserPool({
  UserPoolId: env('POOL_ID'), ClientId: env('CLIENT_ID'), endpoint: env('BEHALF_URL') + '/',
});
const username = 'js-signup';
const email = 'js-signup@example.com';

async function code(n) {
  const res = await fetch(`${env('CODES_URL')}?to=${encodeURIComponent(email)}&n=${n}`);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.text()).trim();
}

function signIn(password) {
  const user = new CognitoUser({ Username: username, Pool: pool });
  return new Promise((resolve) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), {
      onSuccess: (session) => resolve({ session }),
      onFailure: (err) => resolve({ err }),
    });
  });
}

test('signUp, then confirmRegistration with the mailed code', async () => {
  const attrs = [new CognitoUserAttribute({ Name: 'email', Value: email })];
  const result = await new Promise((resolve, reject) =>
    pool.signUp(username, 'Js-Signup-Pass-1!', attrs, null, (e, r) => (e ? reject(e) : resolve(r))));
  assert.equal(result.userConfirmed, false);
  assert.match(result.userSub, /^[0-9a-f-]{36}$/);
  assert.equal(result.codeDeliveryDetails.DeliveryMedium, 'EMAIL');

  const before = await signIn('Js-Signup-Pass-1!');
  assert.equal(before.err && before.err.code, 'UserNotConfirmedException');

  const user = new CognitoUser({ Username: username, Pool: pool });
  const wrong = await new Promise((resolve) => user.confirmRegistration('000000', true, (e) => resolve(e)));
  const c = await code(0);
  if (c !== '000000') assert.equal(wrong && wrong.code, 'CodeMismatchException');
  const ok = await new Promise((resolve, reject) => user.confirmRegistration(c, true, (e, r) => (e ? reject(e) : resolve(r))));
  assert.equal(ok, 'SUCCESS');
  const after = await signIn('Js-Signup-Pass-1!');
  assert.ifError(after.err);
  assert.ok(after.session.isValid());
});

test('forgotPassword, then confirmPassword with the mailed code', async () => {
  const user = new CognitoUser({ Username: username, Pool: pool });
  const data = await new Promise((resolve, reject) => user.forgotPassword({
    onSuccess: resolve, onFailure: reject, inputVerificationCode: resolve,
  }));
  assert.equal(data.CodeDeliveryDetails.DeliveryMedium, 'EMAIL');
  const c = await code(1);
  const done = await new Promise((resolve, reject) =>
    user.confirmPassword(c, 'Js-Signup-Pass-2!', { onSuccess: resolve, onFailure: reject }));
  assert.equal(done, 'SUCCESS');
  const old = await signIn('Js-Signup-Pass-1!');
  assert.equal(old.err && old.err.code, 'NotAuthorizedException');
  const now = await signIn('Js-Signup-Pass-2!');
  assert.ifError(now.err);
  const reused = await new Promise((resolve) =>
    user.confirmPassword(c, 'Js-Signup-Pass-3!', { onSuccess: () => resolve(null), onFailure: resolve }));
  assert.equal(reused && reused.code, 'ExpiredCodeException');
});
