/**
 * Cloud-style kubeconfigs for tests: a kubeconfig for a cluster (the fake API server, a test
 * double) whose user is an exec credential plugin, as `aws eks update-kubeconfig` writes one.
 * The plugin is a small Node.js script the test supplies, written beside the kubeconfig as
 * `plugin.cjs` and named by a relative path (so it is found from the kubeconfig's directory).
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface ExecKubeconfigOptions {
  server: string;
  /** PEM of the CA the server's certificate chains to ('' for none). */
  caCert: string;
  /** The plugin's lines after its `#!/usr/bin/env node` line (CommonJS). */
  script: string[];
  /** Fields of the user's `exec` over the defaults: apiVersion v1, command ./plugin.cjs, interactiveMode Never. */
  exec?: Record<string, unknown>;
  /** Names of the cluster, user and context (default: `cluster`, `user`, `context`). */
  names?: { cluster?: string; user?: string; context?: string };
}

/** writeExecKubeconfig writes `plugin.cjs` (executable) and `<file>` into `dir`; returns the kubeconfig's path. */
export function writeExecKubeconfig(dir: string, options: ExecKubeconfigOptions, file = 'cloud.kubeconfig'): string {
  writeFileSync(join(dir, 'plugin.cjs'), ['#!/usr/bin/env node', ...options.script, ''].join('\n'));
  chmodSync(join(dir, 'plugin.cjs'), 0o755);
  const cluster = options.names?.cluster ?? 'cluster';
  const user = options.names?.user ?? 'user';
  const context = options.names?.context ?? 'context';
  const path = join(dir, file);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: cluster, cluster: { server: options.server, ...(options.caCert && { 'certificate-authority-data': Buffer.from(options.caCert).toString('base64') }) } }],
      users: [{ name: user, user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './plugin.cjs', interactiveMode: 'Never', ...options.exec } } }],
      contexts: [{ name: context, context: { cluster, user } }],
      'current-context': context,
    }),
  );
  return path;
}
