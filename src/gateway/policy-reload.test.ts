import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { EntryInput } from '../ledger/index.js';
import { silentLogger } from '../log.js';
import { compilePolicy, type CompiledPolicy } from '../policy/index.js';
import { createMetrics } from '../server/metrics.js';
import { createPolicyReloader, type PolicyReloaderOptions } from './policy-reload.js';

const allowAll = 'default: allow\nrules:\n  - name: reads\n    match: request.verb == "get"\n    effect: allow\n';
const denyPods = 'default: allow\nrules:\n  - name: no-pods\n    match: request.resource == "pods"\n    effect: deny\n    message: no pods\n';
const denySecrets = 'default: allow\nrules:\n  - name: no-secrets\n    match: request.resource == "secrets"\n    effect: deny\n    message: no secrets\n';
const hashOf = (source: string) => compilePolicy(source).policyHash;

/** A reloader over real files, with the ledger replaced by a list that wakes waiters. */
function setup(file: string | undefined, overrides: Partial<PolicyReloaderOptions> = {}) {
  let policy = compilePolicy(allowAll, { file: file ?? 'embedded' });
  const recorded: EntryInput[] = [];
  const waiters = new Set<() => void>();
  const push = (entry: EntryInput) => {
    recorded.push(entry);
    for (const w of [...waiters]) w();
  };
  const metrics = createMetrics({ processMetrics: false });
  const reloader = createPolicyReloader({
    file,
    current: () => policy,
    install: (next) => {
      policy = next;
    },
    record: async (next) => push({ type: 'policy.loaded', data: { reason: 'reload', hash: next.policyHash } }),
    ledger: { append: async (entry) => (push(entry), { ...entry, id: 'x', seq: recorded.length }) as never },
    metrics,
    logger: silentLogger,
    ...overrides,
  });
  // The watcher does not keep a process alive by itself; the timeout timer does, while waiting.
  const waitFor = (match: (e: EntryInput) => boolean, what: string) =>
    new Promise<EntryInput>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`nothing recorded for ${what} within 10 s`));
      }, 10_000);
      const check = () => {
        const found = recorded.find(match);
        if (found) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      waiters.add(check);
      check();
    });
  const loaded = (hash: string) => waitFor((e) => e.type === 'policy.loaded' && e.data?.hash === hash, `policy ${hash}`);
  return { reloader, recorded, metrics, loaded, policy: (): CompiledPolicy => policy };
}

describe('policy reload', () => {
  const root = mkdtempSync(join(tmpdir(), 'airlock-reload-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const dir = () => {
    const d = join(root, `case-${++n}`);
    mkdirSync(d);
    return d;
  };

  it('an editor that saves by writing a new file and renaming it over the policy is followed', async (t) => {
    const d = dir();
    const file = join(d, 'policy.yaml');
    writeFileSync(file, allowAll);
    const s = setup(file);
    t.after(() => s.reloader.close());
    writeFileSync(join(d, '.policy.yaml.swp'), denyPods);
    renameSync(join(d, '.policy.yaml.swp'), file);
    await s.loaded(hashOf(denyPods));
    assert.equal(s.policy().policyHash, hashOf(denyPods));
    assert.deepEqual(s.policy().rules.map((r) => r.name), ['no-pods']);

    // The watch survives the rename: the replaced file is followed too.
    writeFileSync(file, denySecrets);
    await s.loaded(hashOf(denySecrets));
    assert.deepEqual(s.policy().rules.map((r) => r.name), ['no-secrets']);
  });

  it('a Kubernetes ConfigMap volume swapping its ..data symlink is followed', async (t) => {
    const d = dir();
    // The layout kubelet writes: a timestamped directory, ..data pointing at it, keys pointing through ..data.
    mkdirSync(join(d, '..2025_01_01_00_00_00.1'));
    writeFileSync(join(d, '..2025_01_01_00_00_00.1', 'policy.yaml'), allowAll);
    writeFileSync(join(d, '..2025_01_01_00_00_00.1', 'other-key'), 'x');
    symlinkSync('..2025_01_01_00_00_00.1', join(d, '..data'));
    symlinkSync('..data/policy.yaml', join(d, 'policy.yaml'));
    symlinkSync('..data/other-key', join(d, 'other-key'));
    const s = setup(join(d, 'policy.yaml'));
    t.after(() => s.reloader.close());

    // An update: a new timestamped directory, a temporary link renamed over ..data, the old directory removed.
    mkdirSync(join(d, '..2025_01_01_00_05_00.2'));
    writeFileSync(join(d, '..2025_01_01_00_05_00.2', 'policy.yaml'), denyPods);
    writeFileSync(join(d, '..2025_01_01_00_05_00.2', 'other-key'), 'y');
    symlinkSync('..2025_01_01_00_05_00.2', join(d, '..data_tmp'));
    renameSync(join(d, '..data_tmp'), join(d, '..data'));
    rmSync(join(d, '..2025_01_01_00_00_00.1'), { recursive: true });
    await s.loaded(hashOf(denyPods));
    assert.deepEqual(s.policy().rules.map((r) => r.name), ['no-pods']);
  });

  it('a broken file is refused with its line and the policy in force stays; reading it again after a fix loads the fix', async (t) => {
    const d = dir();
    const file = join(d, 'policy.yaml');
    writeFileSync(file, allowAll);
    const s = setup(file, { watch: false });
    t.after(() => s.reloader.close());
    const before = s.policy();
    writeFileSync(file, 'default: allow\nrules:\n  - name: typo\n    match: reqest.verb == "get"\n    effect: allow\n');
    const refused = await s.reloader.reload();
    assert.equal(refused.ok, false);
    assert.match(refused.error ?? '', new RegExp(`${file}:4:12: rule "typo"`));
    assert.equal(s.policy(), before);
    const entry = s.recorded.find((e) => e.type === 'system');
    assert.equal(entry?.data?.event, 'policy.reload-refused');
    assert.equal(entry?.data?.file, file);
    assert.equal(entry?.data?.error, refused.error);
    assert.equal(entry?.data?.inForce, before.policyHash);

    writeFileSync(file, denyPods);
    assert.deepEqual(await s.reloader.reload(), { ok: true, hash: hashOf(denyPods) });
    assert.deepEqual(await s.reloader.reload(), { ok: true, hash: hashOf(denyPods) }, 'the same policy again');
    assert.deepEqual(s.recorded.map((e) => e.type), ['system', 'policy.loaded'], 'the same policy again records nothing');
    const metrics = await s.metrics.registry.getSingleMetricAsString('airlock_policy_reloads_total');
    assert.match(metrics, /^airlock_policy_reloads_total\{result="ok"\} 2$/m);
    assert.match(metrics, /^airlock_policy_reloads_total\{result="refused"\} 1$/m);
  });

  it('a missing file is refused, naming it', async (t) => {
    const file = join(dir(), 'policy.yaml');
    const s = setup(file, { watch: false });
    t.after(() => s.reloader.close());
    const result = await s.reloader.reload();
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', new RegExp(`${file}: no such file`));
  });

  it('a policy that cannot be recorded is not put in force', async (t) => {
    const file = join(dir(), 'policy.yaml');
    writeFileSync(file, denyPods);
    const s = setup(file, {
      watch: false,
      record: async () => {
        throw new Error('ledger unavailable');
      },
    });
    t.after(() => s.reloader.close());
    const before = s.policy();
    const result = await s.reloader.reload();
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', /not in force: ledger unavailable/);
    assert.equal(s.policy(), before);
  });

  it('with the embedded default policy there is nothing to reload, and nothing is recorded', async (t) => {
    const s = setup(undefined);
    t.after(() => s.reloader.close());
    const result = await s.reloader.reload();
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', /embedded default policy/);
    assert.deepEqual(s.recorded, []);
  });
});
