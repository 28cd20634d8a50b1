import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isAirlockError } from '../errors.js';
import { loadPolicyFile } from './load-policy-file.js';

describe('loadPolicyFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-policy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads and compiles a policy file, naming it', async () => {
    const path = join(dir, 'ok.yaml');
    writeFileSync(path, 'default: deny\nrules:\n  - name: reads\n    match: request.verb == "get"\n    effect: allow\n');
    const policy = await loadPolicyFile(path);
    assert.equal(policy.file, path);
    assert.deepEqual(policy.rules.map((r) => r.name), ['reads']);
  });

  it('a missing file is AIRLOCK_POLICY_NOT_FOUND, naming the path', async () => {
    const path = join(dir, 'absent.yaml');
    await assert.rejects(loadPolicyFile(path), (err) => isAirlockError(err, 'AIRLOCK_POLICY_NOT_FOUND') && err.message.includes(path));
  });

  it('an invalid file is AIRLOCK_POLICY_INVALID, with the path in the position', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'default: deny\nrules:\n  - name: typo\n    match: reqest.verb == "get"\n    effect: allow\n');
    await assert.rejects(loadPolicyFile(path), (err) => isAirlockError(err, 'AIRLOCK_POLICY_INVALID') && err.message.includes(`${path}:4:12: rule "typo"`));
  });
});
