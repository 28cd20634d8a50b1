import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jcs, sha256Hex } from '../ledger/canonical.js';
import { maskingConfiguration } from './masking-config.js';

test('the recorded masking configuration names the detectors in force and each connection\'s port-forward capture', () => {
  const a = maskingConfiguration([{ name: 'prod', streams: { portForwardCapture: true } }]);
  assert.deepEqual(a.streams.defaultDetectors, ['secretlint', 'jwt', 'private-key']);
  assert.ok(a.streams.availableDetectors.includes('pii'));
  assert.deepEqual(a.connections, [{ name: 'prod', portForwardCapture: true }]);
  // A change of any setting changes the hash the ledger records.
  const b = maskingConfiguration([{ name: 'prod', streams: { portForwardCapture: false } }]);
  assert.notEqual(sha256Hex(jcs(a)), sha256Hex(jcs(b)));
});
