/**
 * signPayload and verifySignature: the header format pinned to an HMAC computed outside Node
 * (openssl), and every way a receiver must refuse a delivery.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signPayload, verifySignature } from './signature.js';

const secret = 'whsec-test-not-a-real-secret';
const body = '{"type":"airlock.approval"}';
const t = 1_700_000_000;

describe('signPayload', () => {
  it('signs "<t>.<body>" with HMAC-SHA256, as openssl computes it', () => {
    // printf '%s' '1700000000.{"type":"airlock.approval"}' | openssl dgst -sha256 -hmac 'whsec-test-not-a-real-secret'
    assert.equal(signPayload(secret, body, t), 't=1700000000,v1=df463d829231a4c94f4af56ed6e6e87f66986646703bcea7f64707aa30b4bde6');
  });

  it('signs bytes and the same text alike', () => {
    assert.equal(signPayload(secret, Buffer.from(body), t), signPayload(secret, body, t));
  });

  it('refuses a timestamp in milliseconds or a fraction', () => {
    assert.throws(() => signPayload(secret, body, 1.5), TypeError);
    assert.throws(() => signPayload(secret, body, -1), TypeError);
  });
});

describe('verifySignature', () => {
  const header = signPayload(secret, body, t);

  it('accepts the signed body within the tolerance, either side of the clock', () => {
    assert.deepEqual(verifySignature({ secret, body, header, now: t }), { ok: true });
    assert.deepEqual(verifySignature({ secret, body: Buffer.from(body), header, now: t + 300 }), { ok: true });
    assert.deepEqual(verifySignature({ secret, body, header, now: new Date((t - 300) * 1000) }), { ok: true });
  });

  it('refuses a body changed by one byte', () => {
    const tampered = Buffer.from(body);
    const at = tampered.length - 2;
    tampered[at] = tampered[at]! ^ 0x01;
    assert.deepEqual(verifySignature({ secret, body: tampered, header, now: t }), { ok: false, reason: 'signature-mismatch' });
    assert.deepEqual(verifySignature({ secret, body: `${body} `, header, now: t }), { ok: false, reason: 'signature-mismatch' });
  });

  it('refuses another secret', () => {
    assert.deepEqual(verifySignature({ secret: 'whsec-other', body, header, now: t }), { ok: false, reason: 'signature-mismatch' });
  });

  it('refuses a stale or future timestamp (a replay, or a clock far off)', () => {
    assert.deepEqual(verifySignature({ secret, body, header, now: t + 301 }), { ok: false, reason: 'timestamp-outside-tolerance' });
    assert.deepEqual(verifySignature({ secret, body, header, now: t - 301 }), { ok: false, reason: 'timestamp-outside-tolerance' });
    assert.deepEqual(verifySignature({ secret, body, header, now: t + 61, toleranceSeconds: 60 }), { ok: false, reason: 'timestamp-outside-tolerance' });
  });

  it('refuses a signature moved to another timestamp', () => {
    const v1 = header.split('v1=')[1];
    assert.deepEqual(verifySignature({ secret, body, header: `t=${t + 1},v1=${v1}`, now: t }), { ok: false, reason: 'signature-mismatch' });
  });

  it('refuses a missing header', () => {
    for (const missing of [undefined, null, '', '  ', []]) {
      assert.deepEqual(verifySignature({ secret, body, header: missing, now: t }), { ok: false, reason: 'missing-header' }, String(missing));
    }
  });

  it('refuses a garbled header', () => {
    const v1 = header.split('v1=')[1]!;
    const garbled = [
      'garbage',
      `v1=${v1}`,
      `t=${t}`,
      `t=${t},v1=${v1.slice(1)}`,
      `t=${t},v1=${v1}zz`,
      `t=${t},v1=${'g'.repeat(64)}`,
      `t=abc,v1=${v1}`,
      `t=${t}.5,v1=${v1}`,
      `t=${t},t=${t},v1=${v1}`,
      `t=${t},,v1=${v1}`,
      `=${t},v1=${v1}`,
    ];
    for (const h of garbled) {
      assert.deepEqual(verifySignature({ secret, body, header: h, now: t }), { ok: false, reason: 'malformed-header' }, h);
    }
  });

  it('accepts one matching v1 among several, and skips unknown schemes', () => {
    const v1 = header.split('v1=')[1];
    const h = `t=${t},v0=legacy,v1=${'0'.repeat(64)},v1=${v1}`;
    assert.deepEqual(verifySignature({ secret, body, header: h, now: t }), { ok: true });
  });

  it('accepts any of several secrets while one is rotated', () => {
    assert.deepEqual(verifySignature({ secret: ['whsec-new', secret], body, header, now: t }), { ok: true });
    assert.deepEqual(verifySignature({ secret: ['whsec-new', 'whsec-newer'], body, header, now: t }), { ok: false, reason: 'signature-mismatch' });
  });

  it('throws when the receiver passes no secret', () => {
    assert.throws(() => verifySignature({ secret: '', body, header, now: t }), TypeError);
    assert.throws(() => verifySignature({ secret: [], body, header, now: t }), TypeError);
  });
});
