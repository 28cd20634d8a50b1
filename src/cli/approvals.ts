/**
 * `airlock approvals list|show|approve|deny|revoke|wait`: approvers (and agents waiting on their
 * own requests) talk to the admin server's approvals API with their own token.
 *
 * The server: `--server URL`, else $AIRLOCK_ADMIN_URL, else the configuration's `admin.url`.
 * The token: `--token-file FILE`, else $AIRLOCK_TOKEN. It is sent only to that server.
 */
import type { Command } from 'commander';
import type { ApprovalRequest } from '../review/types.js';
import { addConfigOptions, configFromOptions, readArgFile, type ConfigOptions } from './common-options.js';

interface ApiOptions extends ConfigOptions {
  server?: string;
  tokenFile?: string;
  json?: boolean;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function addApiOptions(command: Command): Command {
  addConfigOptions(command);
  return command
    .option('--server <url>', 'admin server URL (default: $AIRLOCK_ADMIN_URL, else the configuration\'s admin.url)')
    .option('--token-file <file>', 'file holding your bearer token (default: $AIRLOCK_TOKEN)');
}

function client(options: ApiOptions) {
  const server = (options.server ?? process.env.AIRLOCK_ADMIN_URL ?? configFromOptions(options).admin.url).replace(/\/+$/, '');
  const token = options.tokenFile ? readArgFile('--token-file', options.tokenFile).trim() : process.env.AIRLOCK_TOKEN?.trim();
  if (!token) throw new ApiError(0, 'a token is needed: --token-file FILE or AIRLOCK_TOKEN (e.g. from `airlock token mint --subject human:you --group airlock:approvers`)');
  return async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${server}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new ApiError(0, `cannot reach the admin server at ${server}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { error: text };
    }
    if (!res.ok) throw new ApiError(res.status, String((parsed as { error?: unknown }).error ?? `HTTP ${res.status}`));
    return parsed;
  };
}

/** handle runs an API command and turns errors into a plain message and exit code 1. */
function handle(fn: (options: ApiOptions, ...args: string[]) => Promise<void>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const options = command.opts<ApiOptions>();
    try {
      await fn(options, ...(args.slice(0, -2) as string[]));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      console.error(`airlock: ${err.message}`);
      process.exitCode = 1;
    }
  };
}

function line(a: ApprovalRequest): string {
  const votes = `${a.approvals.length}/${a.approvalsRequired}`;
  return `${a.id}  ${a.state.padEnd(8)}  ${votes.padEnd(5)}  ${a.requester.subject}  ${a.request.summary}`;
}

/** describe prints an approval for a person: who, what, why, the preview, and what to do. */
function describe(a: ApprovalRequest): string {
  const out = [
    `${a.id}  ${a.state}`,
    `  requested by  ${a.requester.subject} (${a.requester.kind}, ${a.requester.issuer}) at ${a.createdAt}`,
    `  connection    ${a.connection}`,
    `  request       ${a.request.summary}`,
    `                ${a.request.method} ${a.request.target}`,
    `  rules         ${a.rules.join(', ')}: ${a.message}`,
    `  approvers     ${a.approvers.length ? a.approvers.join(', ') : 'any approver'}; ${a.approvals.length} of ${a.approvalsRequired} approval(s)`,
    ...a.approvals.map((v) => `    approved by ${v.subject} at ${v.at}${v.reason ? `: ${v.reason}` : ''}`),
    ...(a.denial ? [`    denied by ${a.denial.subject} at ${a.denial.at}${a.denial.reason ? `: ${a.denial.reason}` : ''}`] : []),
    `  grant         ${a.grant.kind === 'window' ? `a window of ${a.grant.window}` : 'this exact request, once'}${a.grant.expiresAt ? `, until ${a.grant.expiresAt}` : ''}`,
    `  expires       ${a.expiresAt}`,
    `  digest        ${a.digest}`,
  ];
  if (a.request.body) out.push('  body (masked)', ...indent(pretty(a.request.body)));
  if (a.request.preview?.object !== undefined) out.push('  dry run: what the cluster would store (masked)', ...indent(JSON.stringify(a.request.preview.object, null, 2)));
  if (a.request.preview?.error) out.push(`  dry run: ${a.request.preview.error}`);
  if (a.state === 'pending') out.push('', `  airlock approvals approve ${a.id} --reason "…"`, `  airlock approvals deny ${a.id} --reason "…"`);
  return out.join('\n');
}

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function indent(text: string): string[] {
  return text.split('\n').map((l) => `    ${l}`);
}

export function registerApprovals(program: Command): void {
  const approvals = program.command('approvals').description('list, inspect, approve and deny requests that wait for approval');

  addApiOptions(approvals.command('list').description('list approval requests, newest first'))
    .option('--state <state>', 'only this state: pending, approved, denied, expired, used, revoked')
    .option('--json', 'print JSON')
    .action(
      handle(async (options) => {
        const state = (options as ApiOptions & { state?: string }).state;
        const result = (await client(options)('GET', `/api/approvals${state ? `?state=${encodeURIComponent(state)}` : ''}`)) as { items: ApprovalRequest[] };
        if (options.json) return void console.log(JSON.stringify(result.items, null, 2));
        if (result.items.length === 0) return void console.log('no approval requests');
        for (const a of result.items) console.log(line(a));
      }),
    );

  addApiOptions(approvals.command('show').argument('<id>', 'approval id (apr-…)').description('show one approval request: the request, the dry run, the votes'))
    .option('--json', 'print JSON')
    .action(
      handle(async (options, id) => {
        const a = (await client(options)('GET', `/api/approvals/${encodeURIComponent(id!)}`)) as ApprovalRequest;
        console.log(options.json ? JSON.stringify(a, null, 2) : describe(a));
      }),
    );

  for (const verb of ['approve', 'deny', 'revoke'] as const) {
    const what = { approve: 'approve a pending request', deny: 'deny a pending request', revoke: 'withdraw an approved grant before it is used' }[verb];
    addApiOptions(approvals.command(verb).argument('<id>', 'approval id (apr-…)').description(what))
      .option('--reason <text>', 'why (recorded in the ledger; a denial\'s reason reaches the caller)')
      .option('--json', 'print JSON')
      .action(
        handle(async (options, id) => {
          const reason = (options as ApiOptions & { reason?: string }).reason;
          const a = (await client(options)('POST', `/api/approvals/${encodeURIComponent(id!)}/${verb}`, reason ? { reason } : {})) as ApprovalRequest;
          if (options.json) return void console.log(JSON.stringify(a, null, 2));
          const left = a.approvalsRequired - a.approvals.length;
          console.log(a.state === 'pending' ? `${a.id}: approval recorded; ${left} more needed` : `${a.id}: ${a.state}`);
        }),
      );
  }

  addApiOptions(approvals.command('wait').argument('<id>', 'approval id (apr-…)').description('wait until an approval request is decided; exit 0 when approved, 1 otherwise'))
    .option('--timeout <seconds>', 'give up after this many seconds (default 3600)', '3600')
    .option('--json', 'print the decided approval as JSON')
    .action(
      handle(async (options, id) => {
        const timeout = Number((options as ApiOptions & { timeout?: string }).timeout);
        if (!Number.isFinite(timeout) || timeout <= 0) throw new ApiError(0, '--timeout must be a positive number of seconds');
        const call = client(options);
        const deadline = Date.now() + timeout * 1000;
        let a: ApprovalRequest;
        for (;;) {
          const left = Math.ceil((deadline - Date.now()) / 1000);
          a = (await call('GET', `/api/approvals/${encodeURIComponent(id!)}?wait=${Math.max(0, Math.min(60, left))}`)) as ApprovalRequest;
          if (a.state !== 'pending' || left <= 0) break;
        }
        if (options.json) console.log(JSON.stringify(a, null, 2));
        else console.log(a.state === 'pending' ? `${a.id}: still pending after ${timeout}s` : `${a.id}: ${a.state}${a.denial?.reason ? ` (${a.denial.reason})` : ''}`);
        process.exitCode = a.state === 'approved' || a.state === 'used' ? 0 : 1;
      }),
    );
}
