import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DETECTORS, selectDetectors } from '../../masking/detectors/registry.js';
import { parseGoQuery } from './go-url.js';
import { maskCommand, recordedTarget } from './recorded-command.js';

// Synthetic secrets; none is a real credential.
const GH = 'ghp_' + 'Q1w2E3r4T5'.repeat(3) + 'y6U7i8';
const AWS_ID = 'AKIA' + 'ZZZZEXAMPLE12345';
const detectors = selectDetectors(DEFAULT_DETECTORS);

test('a command with nothing to mask is left as it is (no copy to record)', () => {
  assert.equal(maskCommand(['sh', '-c', 'ls -l /tmp'], detectors), undefined);
  const target = '/api/v1/namespaces/a/pods/p/exec?command=sh&command=-c&command=ls+-l&stdout=true';
  assert.equal(recordedTarget(target, detectors), target);
  assert.equal(recordedTarget('/api/v1/namespaces/a/pods?labelSelector=app%3Dweb', detectors), '/api/v1/namespaces/a/pods?labelSelector=app%3Dweb');
});

test('each argument is masked as terminal output is, key names kept', () => {
  const masked = maskCommand(['curl', '-H', `Authorization: token ${GH}`, `--password=Tr0ub4dor3x`, `\x1b${AWS_ID}`], detectors);
  assert.deepEqual(masked, ['curl', '-H', 'Authorization: token [masked github-token]', '--password=[masked credential-assignment]', '[masked aws-access-key-id]']);
});

test('the recorded target carries the masked command and every other parameter as the apiserver reads them', () => {
  const target = `/api/v1/namespaces/a/pods/p/exec?container=app&command=echo&command=${encodeURIComponent(`id ${AWS_ID}`)}&stdout=true&tty=1`;
  const recorded = recordedTarget(target, detectors);
  assert.ok(!recorded.includes(AWS_ID) && !decodeURIComponent(recorded).includes(AWS_ID), recorded);
  assert.ok(recorded.startsWith('/api/v1/namespaces/a/pods/p/exec?'));
  const q = parseGoQuery(recorded.slice(recorded.indexOf('?') + 1));
  assert.deepEqual(q.get('command'), ['echo', 'id [masked aws-access-key-id]']);
  assert.deepEqual(q.get('container'), ['app']);
  assert.deepEqual(q.get('stdout'), ['true']);
  assert.deepEqual(q.get('tty'), ['1']);
  // `+` is a space and a percent-encoded key is still `command` to the apiserver: both are read.
  const plus = recordedTarget(`/x/exec?c%6Fmmand=echo+${GH}`, detectors);
  assert.ok(!plus.includes(GH), plus);
});
