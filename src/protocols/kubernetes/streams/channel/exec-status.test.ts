import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAirlockError } from '../../../../errors.js';
import { ErrorChannelReader, parseExecStatus, MAX_STATUS_BYTES, type ExecStatus } from './exec-status.js';
import { splits } from './split-read.test-helper.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const exitStatus = (code: string): string => JSON.stringify({
  metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: exit status ${code}`,
  reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: code }] },
});

const rows: Array<[string, string, 1 | 4 | 5, ExecStatus]> = [
  ['an empty channel is success (client-go reads nothing, returns nil)', '', 5, { outcome: 'success', exitCode: 0 }],
  ['a Success Status', '{"metadata":{},"status":"Success"}', 4, { outcome: 'success', exitCode: 0 }],
  ['exit code 1 from details.causes[reason=ExitCode]', exitStatus('1'), 5, { outcome: 'exit', exitCode: 1, message: 'command terminated with non-zero exit code: exit status 1' }],
  ['exit code 255', exitStatus('255'), 4, { outcome: 'exit', exitCode: 255, message: 'command terminated with non-zero exit code: exit status 255' }],
  ['the ExitCode cause among others', JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'Other', message: 'x' }, { reason: 'ExitCode', message: '3' }] } }), 5, { outcome: 'exit', exitCode: 3, message: '' }],
  ['a Failure without exit code (container gone)', '{"status":"Failure","message":"container not found","reason":"NotFound"}', 5, { outcome: 'failure', message: 'container not found', reason: 'NotFound' }],
  ['a Failure with no reason', '{"status":"Failure","message":"boom"}', 4, { outcome: 'failure', message: 'boom' }],
  ['plain text before v4', 'command terminated with non-zero exit code: exit status 2', 1, { outcome: 'failure', message: 'command terminated with non-zero exit code: exit status 2' }],
];
for (const [label, text, version, expected] of rows) {
  test(`parseExecStatus reads ${label}`, () => assert.deepEqual(parseExecStatus(b(text), version), expected));
}

const bad: Array<[string, string]> = [
  ['text that is not JSON on v4+', 'error executing'],
  ['a JSON array', '[]'],
  ['an unknown status', '{"status":"Pending"}'],
  ['NonZeroExitCode without details', '{"status":"Failure","reason":"NonZeroExitCode"}'],
  ['NonZeroExitCode without an ExitCode cause', '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"Other"}]}}'],
  ['an exit code past 255', exitStatus('256')],
  ['a negative exit code', exitStatus('-1')],
  ['a non-numeric exit code', exitStatus('one')],
];
for (const [label, text] of bad) {
  test(`parseExecStatus refuses ${label} with bad-status, as client-go reports a protocol error`, () => {
    assert.throws(() => parseExecStatus(b(text), 5), (err: unknown) =>
      isAirlockError(err, 'AIRLOCK_K8S_STREAM_MALFORMED') && err.details?.reason === 'bad-status');
  });
}

const status = b(exitStatus('42'));
for (const [label, chunks] of splits(status)) {
  test(`an error channel split (${label}) gives the same exit, never a status from a fragment`, () => {
    const reader = new ErrorChannelReader(5);
    reader.push(new Uint8Array(0)); // the kubelet's "ready" message
    let consumed = 0;
    for (const chunk of chunks) {
      reader.push(chunk);
      consumed += chunk.length;
      if (consumed < status.length) assert.equal(reader.status, undefined);
    }
    assert.equal(reader.status?.outcome, 'exit');
    assert.deepEqual(reader.finish(), parseExecStatus(status, 5));
  });
}

test('before v4 the status is known only when the stream ends', () => {
  const reader = new ErrorChannelReader(1);
  reader.push(b('oops'));
  assert.equal(reader.status, undefined);
  assert.deepEqual(reader.finish(), { outcome: 'failure', message: 'oops' });
});

test('an error channel past the limit is refused rather than buffered', () => {
  const reader = new ErrorChannelReader(5);
  assert.throws(() => reader.push(new Uint8Array(MAX_STATUS_BYTES + 1)), (err: unknown) =>
    isAirlockError(err, 'AIRLOCK_K8S_STREAM_MALFORMED') && err.details?.reason === 'too-large');
});
