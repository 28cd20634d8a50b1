/**
 * The kubeconfig `airlock kubeconfig` writes, used by real kubectl end to end: kubectl runs
 * the exec credential plugin (`node bin/airlock.js token exec …`), presents the token it
 * prints to the gateway over airlock's CA, and the cluster sees the agent it names.
 *
 * The plugin is the real command, so this file needs the compiled tree (bin/airlock.js loads
 * dist/): it runs from `dist/` after a build and skips, saying so, when run from source.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeAgentKubeconfig } from '../../../src/cli/kubeconfig.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { airlockBin } from '../../support/cli.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';

const compiledCli = existsSync(airlockBin) && existsSync(join(dirname(airlockBin), '..', 'dist', 'src', 'cli', 'main.js'));
const skip = compiledCli ? false : 'needs the compiled airlock command (bin/airlock.js and dist/); runs from dist/ after a build';

describe('the exec-plugin kubeconfig of `airlock kubeconfig` with real kubectl', { skip, concurrency: true }, () => {
  let h: GatewayHarness;
  let dir: string;
  let kubeconfig: string;

  before(async () => {
    h = await startGatewayHarness();
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-exec-plugin-'));
    const written = await writeAgentKubeconfig(
      h.runtime.config,
      {
        connection: h.connection,
        subject: 'agent:plugin',
        groups: ['ci'],
        ttl: '10m',
        server: h.gatewayOrigin,
        out: join(dir, 'agent.kubeconfig'),
        // The plugin must find the same issuer: the data dir, and the admin address its URL derives from.
        configArgs: ['--data', h.dataDir, '--admin', h.runtime.config.admin.listen],
      },
      { command: process.execPath, args: [airlockBin] },
    );
    assert.equal(written.server, h.gatewayUrl);
    kubeconfig = written.file;
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const minor of [27, 33]) {
    it(`kubectl 1.${minor} runs the plugin and reaches the cluster as the agent`, { skip: missingKubectl(minor) }, async () => {
      const kubectl = kubectlClient(minor, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!;
      const [pods, whoami] = await Promise.all([kubectl.run(['get', 'pods', '-n', 'default']), kubectl.run(['auth', 'whoami'])]);
      assert.equal(pods.code, 0, pods.stderr);
      assert.match(pods.stdout, /^web-7d4b9c6f5-k2x8p\s+1\/1\s+Running/m);
      assert.equal(whoami.code, 0, whoami.stderr);
      assert.match(whoami.stdout, /^Username\s+agent:plugin$/m);
      assert.match(whoami.stdout, /^Groups\s+\[ci system:authenticated\]$/m);

      const entries = await h.entries();
      const recorded = entries.filter((e) => e.type === 'request' && String(e.data?.userAgent).includes(`/v1.${minor}.`));
      assert.ok(recorded.length > 0);
      for (const e of recorded) {
        assert.equal(e.identity?.subject, 'agent:plugin');
        assert.equal(e.identity?.via, 'builtin');
        assert.equal(e.data?.outcome, 'forwarded');
      }
    });
  }
});
