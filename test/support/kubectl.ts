/**
 * Real kubectl releases for end-to-end tests. The `kubectl` on PATH is a dispatcher that asks
 * the server's /version and then runs the matching `kubectl.1.NN` beside it; tests pin a
 * release by calling that versioned binary by its full path. Each client gets its own HOME
 * (kubectl caches discovery per host there) and kubeconfig, and is awaited on its output,
 * never on a timer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/** The releases the gateway's e2e suite drives: before protobuf bodies, WebSocket exec default, protobuf bodies. */
export const kubectlMinors = [27, 30, 33] as const;

export interface KubectlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningKubectl {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** waitFor resolves when the output matches; rejects when kubectl exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** stop kills kubectl and resolves once it is gone. */
  stop(): Promise<void>;
}

export interface KubectlClient {
  minor: number;
  /** Full path of `kubectl.1.<minor>`. */
  bin: string;
  home: string;
  kubeconfig: string;
  /** run runs kubectl to completion. */
  run(args: string[], options?: { env?: Record<string, string>; input?: string }): Promise<KubectlRun>;
  /** start runs a long-lived kubectl (`get -w`); with `stdin`, the test writes to `child.stdin`. */
  start(args: string[], options?: { env?: Record<string, string>; stdin?: boolean }): RunningKubectl;
}

/** kubectlDir is the folder of the real kubectl binary (the versioned ones sit beside it). */
export function kubectlDir(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'kubectl');
    if (dir && existsSync(candidate)) return dirname(realpathSync(candidate));
  }
  return undefined;
}

/** kubectlPath is the full path of `kubectl.1.<minor>`, or undefined when it is not installed. */
export function kubectlPath(minor: number): string | undefined {
  const dir = kubectlDir();
  const bin = dir ? join(dir, `kubectl.1.${minor}`) : undefined;
  return bin && existsSync(bin) ? bin : undefined;
}

/** missingKubectl is a skip reason when `kubectl.1.<minor>` is not installed, else false. */
export function missingKubectl(minor: number): string | false {
  return kubectlPath(minor) ? false : `kubectl.1.${minor} is not installed beside kubectl`;
}

/** kubectlClient binds a pinned kubectl to a HOME and a kubeconfig; undefined when the release is missing. */
export function kubectlClient(minor: number, options: { home: string; kubeconfig: string }): KubectlClient | undefined {
  const bin = kubectlPath(minor);
  if (!bin) return undefined;
  const baseEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: options.home,
    // kubectl edit keeps a copy of a refused edit in the temp dir: keep it in the test's own.
    TMPDIR: options.home,
    KUBECONFIG: options.kubeconfig,
    ...extra,
  });
  return {
    minor,
    bin,
    home: options.home,
    kubeconfig: options.kubeconfig,
    run: (args, runOptions = {}) => runProcess(bin, args, baseEnv(runOptions.env), runOptions.input),
    start: (args, startOptions = {}) => startProcess(bin, args, baseEnv(startOptions.env), startOptions.stdin ?? false),
  };
}

function runProcess(bin: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<KubectlRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

function startProcess(bin: string, args: string[], env: NodeJS.ProcessEnv, stdin: boolean): RunningKubectl {
  const child = spawn(bin, args, { env, stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    notify();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
    notify();
  });
  // 'close' comes after the last output: only then is "not printed" final.
  let closed = false;
  const exited = new Promise<void>((resolve) =>
    child.on('close', () => {
      closed = true;
      notify();
      resolve();
    }),
  );
  return {
    child,
    output: () => out,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            waiters.delete(check);
            resolve(m);
          } else if (closed) {
            waiters.delete(check);
            reject(new Error(`kubectl ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${out}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
