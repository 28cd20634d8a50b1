/**
 * Stream masking chosen per policy rule ("mask what, for whom"), with real kubectl 1.33: a rule
 * adds the `pii` detector for agents in namespace prod. The same `kubectl exec … printenv` (over
 * WebSocket and over SPDY), `exec -i`, `logs` and a captured port-forward show that agent the
 * planted e-mail address and card number masked, and the ledger records none of them; a person
 * in prod, and the agent in another namespace, see them as the pod printed them. Secrets stay
 * masked for everyone: a rule only adds detectors to the defaults.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LedgerEntry } from '../../../src/ledger/index.js';
import { defaultPolicySource } from '../../../src/policy/index.js';
import { PLANTED_PII, PLANTED_SECRETS } from '../../fixtures/fake-apiserver/fake-commands.js';
import { httpGet } from '../../support/http-get.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl, type KubectlClient } from '../../support/kubectl.js';

const policy = `${defaultPolicySource.trimEnd()}
  - name: prod-agents-no-pii
    match: identity.kind == "agent" && has(request.namespace) && request.namespace == "prod"
    effect: allow
    message: agents in prod see no personal data
    mask: [pii]
`;

const PROD_POD = 'api-0';
const WEB_POD = 'web-7d4b9c6f5-k2x8p';
const AGENT = 'agent:deploy-bot';
const PERSON = 'user:alice';
const pii = Object.values(PLANTED_PII);
const SPDY = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };
const logLine = `order 1042 paid by ${PLANTED_PII.email} with card ${PLANTED_PII.cardNumber}\n`;


describe('stream masking configured per policy rule', { skip: missingKubectl(33) }, () => {
  let h: GatewayHarness;
  let dir: string;
  let agent: KubectlClient;
  let person: KubectlClient;

  before(async () => {
    h = await startGatewayHarness({ policy, connection: { streams: { portForwardCapture: true } } });
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-stream-masking-'));
    const client = async (subject: string, groups: string[]) => {
      const kubeconfig = await h.writeKubeconfig(dir, { subject, groups });
      return kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!;
    };
    agent = await client(AGENT, ['ci']);
    person = await client(PERSON, ['sre']);
    h.fake.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } });
    h.fake.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: PROD_POD, namespace: 'prod' }, spec: { containers: [{ name: 'app', image: 'api:1.0' }] }, status: { phase: 'Running' } });
    h.fake.appendPodLog('prod', PROD_POD, logLine);
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** streamed returns the caller's exec, log and port-forward requests with their final entries. */
  async function streamed(subject: string, namespace: string): Promise<{ request: LedgerEntry; end: LedgerEntry }[]> {
    const requests = (await h.entries()).filter(
      (e) => e.type === 'request' && e.identity?.subject === subject && e.action?.namespace === namespace && ['exec', 'log', 'portforward'].includes(String(e.action?.subresource)),
    );
    return Promise.all(
      requests.map(async (request) => ({
        request,
        end: await h.waitForEntry((e) => e.type === 'response' && e.data?.requestId === request.id, `the final entry of ${request.action?.subresource} ${request.id}`),
      })),
    );
  }

  it('an agent in prod: exec over WebSocket and SPDY, exec -i, logs and port-forward capture mask the PII, and the ledger holds none of it', async () => {
    for (const env of [{}, SPDY]) {
      const res = await agent.run(['exec', '-n', 'prod', PROD_POD, '--', 'printenv'], { env });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^HOSTNAME=api-0$/m);
      assert.match(res.stdout, /^OWNER_EMAIL=\[masked email\]$/m);
      assert.match(res.stdout, /^BILLING_CARD=\[masked card-number\]$/m);
      assert.match(res.stdout, /^AWS_SECRET_ACCESS_KEY=\[masked [a-z-]+\]$/m, 'the default detectors still apply');
      for (const value of [...pii, ...Object.values(PLANTED_SECRETS)]) assert.ok(!res.stdout.includes(value), `kubectl printed ${value}`);
    }

    const typed = await agent.run(['exec', '-i', '-n', 'prod', PROD_POD, '--', 'cat'], { input: `reply to ${PLANTED_PII.email}\n` });
    assert.equal(typed.code, 0, typed.stderr);
    assert.equal(typed.stdout, 'reply to [masked email]\n');

    const logs = await agent.run(['logs', '-n', 'prod', PROD_POD]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, 'order 1042 paid by [masked email] with card [masked card-number]\n');

    const pf = agent.start(['port-forward', '-n', 'prod', `pod/${PROD_POD}`, ':8080']);
    try {
      const local = Number((await pf.waitFor(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/))[1]);
      // Port-forward carries TCP unchanged; only the captured copy in the ledger is masked.
      assert.match(await httpGet(local, '/env'), new RegExp(`OWNER_EMAIL=${PLANTED_PII.email}`));
    } finally {
      await pf.stop();
    }

    const sessions = await streamed(AGENT, 'prod');
    assert.deepEqual(sessions.map((s) => s.request.action?.subresource).sort(), ['exec', 'exec', 'exec', 'log', 'portforward']);
    for (const { request, end } of sessions) {
      assert.ok(request.decision?.rules.includes('prod-agents-no-pii'), `${request.action?.subresource}: ${JSON.stringify(request.decision)}`);
      assert.deepEqual(request.decision?.maskDetectors, ['pii'], 'the request entry records what the decision added');
      assert.deepEqual(end.data?.maskDetectors, ['secretlint', 'jwt', 'private-key', 'pii'], `${request.action?.subresource}: the final entry names the detectors`);
    }

    const entries = await h.entries();
    const captured = entries
      .filter((e) => e.type === 'stream' && e.data?.portForward === true)
      .flatMap((e) => JSON.parse(e.response?.inline ?? '[]') as { kind: string; data?: string }[])
      .filter((e) => e.kind === 'data')
      .map((e) => Buffer.from(e.data ?? '', 'base64').toString('utf8'))
      .join('');
    assert.match(captured, /OWNER_EMAIL=\[masked email\]/, 'the port-forward capture is recorded, masked');
    const wal = `${h.ledgerFile}-wal`;
    const ledgerText = [JSON.stringify(entries), captured, readFileSync(h.ledgerFile).toString('latin1'), existsSync(wal) ? readFileSync(wal).toString('latin1') : ''].join('\n');
    for (const value of pii) assert.ok(!ledgerText.includes(value), `the ledger holds ${value}`);
    assert.equal((await h.verify()).ok, true);
  });

  it('a person in prod, and the agent outside prod, see the PII as printed: the rule decides for whom', async () => {
    const personExec = await person.run(['exec', '-n', 'prod', PROD_POD, '--', 'printenv'], { env: SPDY });
    assert.equal(personExec.code, 0, personExec.stderr);
    assert.match(personExec.stdout, new RegExp(`^OWNER_EMAIL=${PLANTED_PII.email}$`, 'm'));
    assert.match(personExec.stdout, new RegExp(`^BILLING_CARD=${PLANTED_PII.cardNumber}$`, 'm'));
    assert.match(personExec.stdout, /^AWS_SECRET_ACCESS_KEY=\[masked [a-z-]+\]$/m);

    const personLogs = await person.run(['logs', '-n', 'prod', PROD_POD]);
    assert.equal(personLogs.code, 0, personLogs.stderr);
    assert.equal(personLogs.stdout, logLine);

    const agentElsewhere = await agent.run(['exec', WEB_POD, '--', 'printenv']);
    assert.equal(agentElsewhere.code, 0, agentElsewhere.stderr);
    assert.match(agentElsewhere.stdout, new RegExp(`^OWNER_EMAIL=${PLANTED_PII.email}$`, 'm'));

    const sessions = [...(await streamed(PERSON, 'prod')), ...(await streamed(AGENT, 'default'))];
    assert.deepEqual(sessions.map((s) => s.request.action?.subresource).sort(), ['exec', 'exec', 'log']);
    for (const { request, end } of sessions) {
      assert.ok(!request.decision?.rules.includes('prod-agents-no-pii'));
      assert.equal(end.data?.maskDetectors, undefined, 'nothing was added to the defaults');
    }
  });
});
