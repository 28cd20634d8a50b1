import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAirlockError } from '../../../errors.js';
import { generateTestCertificates } from '../../../../test/fixtures/tls.js';
import { inClusterTarget } from './in-cluster.js';

let root: string;
const { caCert } = generateTestCertificates();
before(() => {
  root = mkdtempSync(join(tmpdir(), 'airlock-in-cluster-'));
  writeFileSync(join(root, 'ca.crt'), caCert);
  writeFileSync(join(root, 'token'), 'projected-token');
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('inClusterTarget', () => {
  it('reads the service variables and names the mounted token file for rotation', async () => {
    const t = await inClusterTarget({ connection: 'self', root, env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' } });
    assert.equal(t.server.href, 'https://10.96.0.1/');
    assert.equal(t.ca?.data.toString(), caCert);
    assert.deepEqual(t.token, { kind: 'file', path: join(root, 'token') });
    assert.equal(t.insecure, false);
    assert.equal(t.origin, `in-cluster service account (${root})`);
  });

  const refused: Array<{ name: string; env: NodeJS.ProcessEnv; root?: string; message: RegExp }> = [
    { name: 'outside a pod (no service host) it says what to use instead', env: { KUBERNETES_SERVICE_PORT: '443' }, message: /not running in a pod/ },
    { name: 'a port that is not a number is refused', env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: 'https' }, message: /KUBERNETES_SERVICE_PORT "https" is not a port number/ },
    { name: 'a missing CA names the mounted file', env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, root: '/nonexistent-sa', message: /\/nonexistent-sa\/ca\.crt cannot be read \(ENOENT\)/ },
  ];
  for (const row of refused) {
    it(row.name, async () => {
      await assert.rejects(inClusterTarget({ connection: 'self', root: row.root ?? root, env: row.env }), (err: unknown) => {
        assert.ok(isAirlockError(err, 'AIRLOCK_UPSTREAM_CONFIG'));
        assert.match(err.message, /connection "self": /);
        assert.match(err.message, row.message);
        return true;
      });
    });
  }
});
