/**
 * Reloading the policy file without a restart. One path for every trigger (SIGHUP, a change of
 * the file on disk, a direct call): read and compile the file; if it compiles and means
 * something new, record it (`policy.loaded` and `masking.loaded`, reason `reload`) and put it in
 * force for the next request; if it does not, keep the policy in force, log the error with its
 * file:line and record the refusal (`system`, `policy.reload-refused`). Nothing here throws.
 *
 * The watcher watches the file's directory, not the file: editors that save by writing a new
 * file and renaming it over the old one, and Kubernetes ConfigMap volumes that swap a `..data`
 * symlink, replace the file's inode, which a watch on the file itself would lose.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { loadPolicyFile, type CompiledPolicy } from '../policy/index.js';
import type { Ledger } from '../ledger/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../server/metrics.js';

/** What a reload did: `ok` with the hash now in force, or the reason the old policy stays. */
export interface PolicyReloadResult {
  ok: boolean;
  hash?: string;
  error?: string;
}

export interface PolicyReloaderOptions {
  /** The configured policy file; undefined when airlock runs on the embedded default policy. */
  file: string | undefined;
  /** The policy in force. */
  current(): CompiledPolicy;
  /** install puts a recorded policy in force. */
  install(policy: CompiledPolicy): void;
  /**
   * record writes the new policy (and the masking in force) into the ledger. It must call
   * `ledger.append` before it returns: entries take their place in call order, so the policy's
   * entry precedes the entry of every request the new policy decides.
   */
  record(policy: CompiledPolicy): Promise<unknown>;
  ledger: Pick<Ledger, 'append'>;
  metrics: Pick<Metrics, 'policyReloads'>;
  logger: Logger;
  /** Watch the file for changes (default true). */
  watch?: boolean;
  /** Quiet period after the last change before the file is read (default 200 ms). */
  debounceMs?: number;
}

export interface PolicyReloader {
  /** reload re-reads the policy file now; reloads run one at a time, in call order. */
  reload(): Promise<PolicyReloadResult>;
  /** close stops watching and waits for a reload in progress. */
  close(): Promise<void>;
}

type Trigger = 'request' | 'watch';

/** The name ConfigMap volumes swap atomically to publish a new version of every key. */
const CONFIGMAP_DATA = '..data';

export function createPolicyReloader(options: PolicyReloaderOptions): PolicyReloader {
  const { file, logger, ledger, metrics } = options;
  const debounceMs = options.debounceMs ?? 200;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  // The error of the last refused load: a watcher firing again on the same broken file (another
  // key of the same ConfigMap changing, a touch) is not recorded twice.
  let lastRefusal: string | undefined;

  async function attempt(trigger: Trigger): Promise<PolicyReloadResult> {
    if (closed) return { ok: false, error: 'airlock is stopping' };
    if (file === undefined) {
      const error = 'airlock runs on the embedded default policy: there is no policy file to reload (start with --policy FILE)';
      logger.info(error);
      return { ok: false, error };
    }
    const inForce = options.current();
    let next: CompiledPolicy;
    try {
      next = await loadPolicyFile(file);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      return refuse(error, inForce, trigger);
    }
    lastRefusal = undefined;
    if (next.policyHash === inForce.policyHash) {
      metrics.policyReloads.inc({ result: 'ok' });
      logger.debug({ file, hash: inForce.policyHash }, 'policy file read again: unchanged');
      return { ok: true, hash: inForce.policyHash };
    }
    // Its entries are queued first, then it is in force: in the ledger, the policy comes before
    // every request it decides. Requests already past their decision keep theirs.
    const recording = options.record(next);
    options.install(next);
    for (const warning of next.warnings) logger.warn({ file }, `policy warning: ${warning}`);
    try {
      await recording;
    } catch (err) {
      // Not recorded, not in force (a ledger that cannot write refuses the requests meanwhile).
      if (options.current() === next) options.install(inForce);
      const error = `the new policy could not be recorded, so it is not in force: ${err instanceof Error ? err.message : String(err)}`;
      metrics.policyReloads.inc({ result: 'refused' });
      logger.error({ err, file, hash: inForce.policyHash }, `policy reload refused: ${error}`);
      return { ok: false, error };
    }
    metrics.policyReloads.inc({ result: 'ok' });
    logger.info({ file, hash: next.policyHash, previous: inForce.policyHash, rules: next.rules.length }, `policy reloaded (hash ${next.policyHash.slice(0, 12)})`);
    return { ok: true, hash: next.policyHash };
  }

  async function refuse(error: string, inForce: CompiledPolicy, trigger: Trigger): Promise<PolicyReloadResult> {
    metrics.policyReloads.inc({ result: 'refused' });
    logger.error({ file, hash: inForce.policyHash }, `policy reload refused, the policy in force stays (hash ${inForce.policyHash.slice(0, 12)}): ${error}`);
    if (trigger === 'watch' && error === lastRefusal) return { ok: false, error };
    lastRefusal = error;
    await ledger
      .append({ type: 'system', data: { event: 'policy.reload-refused', file, error, inForce: inForce.policyHash } })
      .catch((err: unknown) => logger.error({ err }, 'could not record the refused policy reload'));
    return { ok: false, error };
  }

  function enqueue(trigger: Trigger): Promise<PolicyReloadResult> {
    const run = queue.then(() => attempt(trigger));
    queue = run.catch(() => undefined);
    return run;
  }

  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (file !== undefined && options.watch !== false) {
    const name = basename(file);
    const onChange = (_event: string, changed: string | Buffer | null) => {
      const what = changed === null ? null : changed.toString();
      // Other files in the directory (an editor's swap file, other ConfigMap keys) are not ours.
      if (what !== null && what !== name && what !== CONFIGMAP_DATA) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        void enqueue('watch');
      }, debounceMs);
      timer.unref();
    };
    try {
      watcher = watch(dirname(file), { persistent: false }, onChange);
      watcher.on('error', (err) => {
        logger.warn({ err, file }, 'stopped watching the policy file; SIGHUP still reloads it');
        watcher?.close();
        watcher = undefined;
      });
    } catch (err) {
      logger.warn({ err, file }, 'cannot watch the policy file for changes; SIGHUP still reloads it');
    }
  }

  return {
    reload: () => enqueue('request'),
    async close() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      watcher?.close();
      watcher = undefined;
      // Wait for a reload already running; later ones answer that airlock is stopping.
      const pending = queue;
      closed = true;
      await pending;
    },
  };
}
