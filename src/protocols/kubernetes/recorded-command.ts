/**
 * What the ledger keeps of an exec's command line. Policy decides on the command as sent
 * (`request.command`), but a command line can carry a secret (`curl -H "Authorization: Bearer
 * eyJ…"`, `mysql --password=…`, `echo $TOKEN` expanded by the caller's shell): the recorded
 * action, the recorded request target and what approvers are shown carry every argument masked
 * by the gateway's stream detectors, exactly as the terminal output is masked.
 *
 * Pure: no I/O.
 */
import type { Detector } from '../../masking/detectors/detector.js';
import { createStreamMasker } from '../../masking/stream-masker.js';
import { parseGoQuery } from './go-url.js';

const replacement = (kind: string): string => `[masked ${kind}]`;

/** maskArgument masks one argument as terminal output would be masked. */
function maskArgument(arg: string, detectors: readonly Detector[]): string {
  const masker = createStreamMasker({ detectors, replacement });
  return Buffer.concat([masker.push(Buffer.from(arg, 'utf8')), masker.flush()]).toString('utf8');
}

/** maskCommand returns the arguments masked, or undefined when none carried anything to mask. */
export function maskCommand(args: readonly string[], detectors: readonly Detector[]): string[] | undefined {
  const masked = args.map((a) => maskArgument(a, detectors));
  return masked.some((m, i) => m !== args[i]) ? masked : undefined;
}

/**
 * recordedTarget returns the request target (path and query) for the ledger. When a `command`
 * value carries something to mask, the query is written again as the apiserver reads it (Go's
 * `ParseQuery`: the pairs it would ignore are left out) with those values masked; otherwise the
 * target is returned unchanged.
 */
export function recordedTarget(target: string, detectors: readonly Detector[]): string {
  const q = target.indexOf('?');
  // Every request passes here: a query that cannot hold a `command` key (neither the word nor
  // an escape that could spell it) is not parsed.
  if (q < 0 || (!target.includes('command', q) && !target.includes('%', q))) return target;
  const query = parseGoQuery(target.slice(q + 1));
  const command = query.get('command');
  if (!command) return target;
  const masked = maskCommand(command, detectors);
  if (!masked) return target;
  const pairs: string[] = [];
  for (const [key, values] of query) {
    for (const v of key === 'command' ? masked : values) pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(v)}`);
  }
  return `${target.slice(0, q)}?${pairs.join('&')}`;
}
