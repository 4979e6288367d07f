// Generates the SRP test vectors of userpool/testdata/srp_vectors.json with
// the real amazon-cognito-identity-js (its AuthenticationHelper, BigInteger
// and DateHelper, unmodified): the client side exactly as the library
// computes it, with fixed secrets instead of random ones. The server side
// of each vector (v, B) is computed with the library's own big integers
// from the SRP-6a formulas, so that the Go server can be checked against
// both halves.
//
//   cd clients/js && npm ci && node srp-vectors.js > ../../userpool/testdata/srp_vectors.json
'use strict';
const crypto = require('crypto');
const AuthenticationHelper = require('amazon-cognito-identity-js/lib/AuthenticationHelper').default;
const BigInteger = require('amazon-cognito-identity-js/lib/BigInteger').default;
const DateHelper = require('amazon-cognito-identity-js/lib/DateHelper').default;
const { Sha256 } = require('@aws-crypto/sha256-js');
const pkg = require('amazon-cognito-identity-js/package.json');

// det returns n deterministic bytes for a label (SHA-256 in counter mode).
function det(label, n) {
  const out = [];
  for (let i = 0; Buffer.concat(out).length < n; i++) {
    out.push(crypto.createHash('sha256').update(label + '/' + i).digest());
  }
  return Buffer.concat(out).subarray(0, n);
}

// timestampAt is DateHelper.getNowString() at a fixed instant.
function timestampAt(ms) {
  const RealDate = global.Date;
  global.Date = class extends RealDate { constructor() { super(ms); } };
  try { return new DateHelper().getNowString(); } finally { global.Date = RealDate; }
}

function promisify(fn) {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

const cases = [
  // name, pool id, username (USER_ID_FOR_SRP), password, salt bytes, a bytes, b bytes, instant
  ['reference', 'us-east-1_ExAmPlE01', 'alice', 'Passw0rd!', Buffer.from('f1d2d2f924e986ac86fdf7b36c94bcdf', 'hex'), 128, 32, Date.UTC(2026, 0, 6, 9, 5, 3)],
  ['salt-leading-zero', 'eu-west-1_AbC123xyz', 'bob', 'Correct-Horse-9', Buffer.concat([Buffer.from([0]), det('salt-2', 15)]), 128, 32, Date.UTC(2026, 8, 5, 23, 59, 59)],
  ['salt-low-top-bit', 'us-east-1_Zz9Zz9Zz9', 'carol', 'Pässwörd-✓-1', Buffer.from('1' + det('salt-3', 16).toString('hex').slice(1), 'hex'), 128, 32, Date.UTC(2030, 1, 28, 0, 0, 0)],
  ['uuid-username', 'ap-southeast-2_Qw3rTy789', '0b9e5a2e-6f3c-4d8a-9b1e-2f7c5d4e3a21', 'Long password with spaces and "quotes" 123!', det('salt-4', 16), 128, 32, Date.UTC(2031, 11, 31, 12, 1, 2)],
  ['long-b', 'us-west-2_LongBbbbb', 'dave', 'Another-Pass-7', det('salt-5', 16), 128, 128, Date.UTC(2027, 6, 4, 7, 8, 9)],
];

async function vector([name, poolId, username, password, saltBytes, aLen, bLen, instant]) {
  const poolName = poolId.split('_')[1];
  const h = new AuthenticationHelper(poolName);
  const N = h.N, g = h.g, k = h.k;
  const salt = new BigInteger(saltBytes.toString('hex'), 16);
  const a = new BigInteger(det(name + '/a', aLen).toString('hex'), 16);
  const b = new BigInteger(det(name + '/b', bLen).toString('hex'), 16);
  // Client: A = g^a mod N, with the library's own code path.
  h.smallAValue = a;
  h.largeAValue = undefined;
  const A = await promisify(cb => h.getLargeAValue(cb));
  // Server: v = g^x, B = k·v + g^b (SRP-6a), x as the library derives it.
  const x = new BigInteger(h.hexHash(h.padHex(salt) + h.hash(poolName + username + ':' + password)), 16);
  const v = await promisify(cb => g.modPow(x, N, cb));
  const gb = await promisify(cb => g.modPow(b, N, cb));
  const B = k.multiply(v).add(gb).mod(N);
  // Client: the password authentication key and the claim signature.
  const key = await promisify(cb => h.getPasswordAuthenticationKey(username, password, B, salt, cb));
  const u = h.UValue;
  const S = await promisify(cb => h.calculateS(x, B, cb));
  const secretBlock = det(name + '/secret-block', 64).toString('base64');
  const timestamp = timestampAt(instant);
  const mac = new Sha256(key);
  mac.update(Buffer.concat([Buffer.from(poolName, 'utf8'), Buffer.from(username, 'utf8'),
    Buffer.from(secretBlock, 'base64'), Buffer.from(timestamp, 'utf8')]));
  const signature = Buffer.from(mac.digestSync()).toString('base64');
  return {
    name, userPoolId: poolId, poolName, username, password,
    SALT: salt.toString(16), a: a.toString(16), b: b.toString(16),
    SECRET_BLOCK: secretBlock, TIMESTAMP: timestamp,
    k: k.toString(16), x: x.toString(16), v: v.toString(16),
    SRP_A: A.toString(16), SRP_B: B.toString(16), u: u.toString(16), S: S.toString(16),
    key: Buffer.from(key).toString('hex'), PASSWORD_CLAIM_SIGNATURE: signature,
  };
}

(async () => {
  const vectors = [];
  for (const c of cases) vectors.push(await vector(c));
  process.stdout.write(JSON.stringify({
    generator: 'clients/js/srp-vectors.js with amazon-cognito-identity-js ' + pkg.version,
    vectors,
  }, null, 2) + '\n');
})().catch(err => { console.error(err); process.exit(1); });
