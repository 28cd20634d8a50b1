/**
 * `airlock policy eval`: decide one request offline, exactly as the gateway would, and print
 * the decision and the rules that matched. Useful for writing rules and in CI for policies.
 * `airlock policy test` (policy-test.ts) replays the ledger's requests through a draft.
 */
import type { Command } from 'commander';
import { AirlockError } from '../errors.js';
import { compilePolicy, defaultPolicySource, evaluatePolicy, formatDecision, loadPolicyFile, type PolicyIdentity } from '../policy/index.js';
import type { PolicyRequest } from '../policy/request.js';
import { registerPolicyTest } from './policy-test.js';
import { readArgFile } from './common-options.js';

interface EvalOptions {
  policy?: string;
  request: string;
  identity?: string;
  object?: string;
  json?: boolean;
}

/** A stand-in caller for `policy eval` without `--identity`. */
const anonymousIdentity: PolicyIdentity = {
  subject: 'agent:policy-eval',
  groups: [],
  issuer: 'airlock:policy-eval',
  kind: 'agent',
  tokenId: 'policy-eval',
  via: 'policy-eval',
};

/** registerPolicy adds `airlock policy eval` and `airlock policy test`. */
export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('policy files: evaluate requests offline, replay recorded traffic through a draft');
  policy
    .command('eval')
    .description('decide one request with a policy and print the decision and matched rules')
    .option('-p, --policy <file>', 'policy file (default: the embedded default policy)')
    .requiredOption('-r, --request <json>', 'the request as JSON, or @FILE (see docs/policy.md)')
    .option('-i, --identity <json>', 'the caller as JSON, or @FILE: subject, groups, issuer, kind')
    .option('-o, --object <json>', 'the object the request carries, as JSON or @FILE')
    .option('--json', 'print the decision as JSON')
    .action(async (options: EvalOptions) => {
      const compiled = options.policy ? await loadPolicyFile(options.policy) : compilePolicy(defaultPolicySource, { file: '(embedded default policy)' });
      for (const warning of compiled.warnings) process.stderr.write(`policy warning: ${warning}\n`);
      const request = readJsonArg('--request', options.request) as PolicyRequest;
      if (typeof request !== 'object' || request === null || Array.isArray(request) || typeof request.verb !== 'string') {
        throw new AirlockError('AIRLOCK_INPUT_INVALID', '--request must be a JSON object with at least "protocol", "connection" and "verb" (see docs/policy.md)');
      }
      const identity = options.identity ? { ...anonymousIdentity, ...(readJsonArg('--identity', options.identity) as object) } : anonymousIdentity;
      const object = options.object ? readJsonArg('--object', options.object) : undefined;
      const decision = evaluatePolicy(compiled, { request, identity: identity as PolicyIdentity, object });
      process.stdout.write(options.json ? `${JSON.stringify(decision, null, 2)}\n` : `${formatDecision(decision)}\n`);
    });
  registerPolicyTest(policy);
}

function readJsonArg(flag: string, value: string): unknown {
  const text = value.startsWith('@') ? readArgFile(flag, value.slice(1)) : value;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AirlockError('AIRLOCK_INPUT_INVALID', `${flag} is not valid JSON: ${(err as Error).message}`);
  }
}
