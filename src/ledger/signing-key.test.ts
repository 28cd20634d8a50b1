import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAirlockError } from '../errors.js';
import { checkCheckpointSignature, signCheckpoint } from './checkpoint.js';
import { exportLedgerPublicKey, ledgerKeyId, loadLedgerSigningKey, SIGNING_KEY_FILE } from './signing-key.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'airlock-key-'));
  dirs.push(d);
  return d;
};

test('the checkpoint key is created on first use, private to its owner, and reused afterwards', () => {
  const dir = tempDir();
  const first = loadLedgerSigningKey(dir);
  const path = join(dir, SIGNING_KEY_FILE);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'keys')).mode & 0o777, 0o700);
  const second = loadLedgerSigningKey(dir);
  assert.equal(second.keyId, first.keyId);
  assert.match(readFileSync(path, 'utf8'), /BEGIN PRIVATE KEY/);
});

test('the exported public key is the signing key public half, and its key id is SHA-256 of its DER', () => {
  const dir = tempDir();
  const key = loadLedgerSigningKey(dir);
  const pem = exportLedgerPublicKey(dir);
  assert.match(pem, /BEGIN PUBLIC KEY/);
  assert.doesNotMatch(pem, /PRIVATE/);
  const der = createPublicKey(pem).export({ format: 'der', type: 'spki' });
  assert.equal(key.keyId, createHash('sha256').update(der).digest('hex').slice(0, 16));
  const cp = signCheckpoint({ chain: 'main', seq: 3, hash: 'ab'.repeat(32) }, key, new Date(0));
  assert.equal(checkCheckpointSignature(cp, new Map([[key.keyId, createPublicKey(pem)]])), undefined);
});

test('checkpoint signatures fail for any changed field, a wrong key, or garbage', () => {
  const key = loadLedgerSigningKey(tempDir());
  const keys = new Map([[key.keyId, key.publicKey]]);
  const cp = signCheckpoint({ chain: 'main', seq: 7, hash: 'cd'.repeat(32) }, key, new Date(1_000));
  const other = generateKeyPairSync('ed25519').publicKey;
  const cases = [
    { name: 'seq', cp: { ...cp, seq: 8 }, fault: 'bad-signature' },
    { name: 'chain', cp: { ...cp, chain: 'other' }, fault: 'bad-signature' },
    { name: 'hash', cp: { ...cp, hash: 'ef'.repeat(32) }, fault: 'bad-signature' },
    { name: 'time', cp: { ...cp, time: new Date(2_000).toISOString() }, fault: 'bad-signature' },
    { name: 'signature garbage', cp: { ...cp, signature: '!!' }, fault: 'bad-signature' },
    { name: 'untrusted key id', cp: { ...cp, keyId: ledgerKeyId(other) }, fault: 'unknown-key' },
  ];
  for (const c of cases) assert.equal(checkCheckpointSignature(c.cp, keys), c.fault, c.name);
});

test('exporting from a data dir without a key fails with AIRLOCK_LEDGER_KEY_MISSING and creates nothing', () => {
  const dir = tempDir();
  assert.throws(() => exportLedgerPublicKey(dir), (err) => isAirlockError(err, 'AIRLOCK_LEDGER_KEY_MISSING'));
  assert.throws(() => statSync(join(dir, 'keys')));
});

test('a key file that is not an Ed25519 private key is refused with AIRLOCK_CONFIG_INVALID', () => {
  const cases = [
    { name: 'not PEM', content: 'hello' },
    { name: 'an RSA key', content: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() },
  ];
  for (const c of cases) {
    const dir = tempDir();
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, SIGNING_KEY_FILE), c.content);
    assert.throws(() => loadLedgerSigningKey(dir), (err) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID'), c.name);
  }
});
