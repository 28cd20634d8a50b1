/**
 * The policy file format: YAML parsed with `yaml`, validated with `zod`. This is the one
 * place that knows the file's shape; every error names the file, the line and column, the
 * rule, and what is wrong. Unknown keys and duplicate rule names are errors, so a typo such
 * as `efect: deny` can never silently turn a deny rule into nothing.
 * No I/O: the source text is handed in.
 */
import { LineCounter, isMap, isScalar, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { detectorRegistry } from '../masking/detectors/registry.js';
import { formatDuration, parseDuration } from '../config/duration.js';
import type { Effect } from './decision.js';
import { scalarPositions, type FilePosition } from './source-location.js';

/** One rule as written, with what is needed to point at it in the file. */
export interface RuleSpec {
  name: string;
  match: string;
  effect: Effect;
  message?: string;
  approvers: string[];
  approvals: number;
  /**
   * Review rules: an approval grants the caller, for this long, every request this rule matches
   * on the same connection and namespace — instead of the one request approved.
   */
  window?: { ms: number; text: string };
  /** Allow rules: what the caller may see unmasked (`secrets`): a break-glass grant, recorded with the decision. */
  unmask: string[];
  /** Allow rules: stream detectors (registry names) added to the gateway's defaults for the callers this rule allows. */
  mask: string[];
  /** Line of the rule's `- name:` entry. */
  line: number;
  /** Maps an offset in `match` to a position in the file. */
  matchPosition: (offset: number) => FilePosition;
}

/** A validated policy file. */
export interface PolicySpec {
  default: 'allow' | 'deny';
  rules: RuleSpec[];
  /** The document as plain data (what the policy hash covers). */
  data: unknown;
}

/** A problem found in the file, located; turned into one line of the error message. */
export interface PolicyProblem {
  line: number;
  column: number;
  rule?: string;
  text: string;
}

const ruleKeys = ['name', 'match', 'effect', 'message', 'approvers', 'approvals', 'window', 'unmask', 'mask'] as const;

/** The longest approval window a rule may grant. */
const MAX_WINDOW_MS = 24 * 3600_000;
const fileKeys = ['default', 'rules'] as const;

const ruleSchema = z.strictObject({
  name: z
    .string()
    .max(63)
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be lowercase letters, digits and inner dashes'),
  // Not trimmed: CEL error offsets must stay offsets into the scalar as written.
  match: z.string().refine((s) => s.trim() !== '', 'must be a non-empty CEL expression'),
  effect: z.enum(['allow', 'deny', 'review'], 'must be allow, deny or review'),
  message: z.string().trim().min(1, 'must not be empty').optional(),
  approvers: z
    .array(z.string().regex(/^(group|user):\S+$/, 'must be "group:NAME" or "user:SUBJECT"'))
    .min(1, 'must list at least one approver when present')
    .optional(),
  approvals: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
  window: z
    .string()
    .transform((text, ctx) => {
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a duration such as 30m or 2h' });
        return z.NEVER;
      }
      if (ms <= 0 || ms > MAX_WINDOW_MS) {
        ctx.addIssue({ code: 'custom', message: `must be longer than 0 and at most ${formatDuration(MAX_WINDOW_MS)}` });
        return z.NEVER;
      }
      return { ms, text: formatDuration(ms) };
    })
    .optional(),
  unmask: z.array(z.enum(['secrets'], 'must be secrets')).min(1, 'must list what to show unmasked').optional(),
  // Names are checked against the detector registry below, each at its own position.
  mask: z.array(z.string()).min(1, 'must list at least one detector').optional(),
});

const fileSchema = z.strictObject({
  default: z.enum(['allow', 'deny'], 'must be allow or deny'),
  // `rules:` with nothing after it is YAML null: an empty rule list, not a mistake.
  rules: z.array(ruleSchema).nullable(),
});

/**
 * parsePolicyFile validates policy YAML. It returns the spec, or the list of problems found
 * (YAML syntax, schema, duplicate names, review-only fields on other effects); it never throws.
 */
export function parsePolicyFile(source: string): { spec: PolicySpec } | { problems: PolicyProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        // The message's first line, without the position prettyErrors appends (we lead with it).
        const text = (e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, '');
        return { line: pos?.line ?? 1, column: pos?.col ?? 1, text: `YAML: ${text}` };
      }),
    };
  }
  const data: unknown = doc.toJS({ maxAliasCount: 50 });
  if (data === null || data === undefined) {
    return { problems: [{ line: 1, column: 1, text: 'the policy is empty: it needs `default:` and `rules:`' }] };
  }
  const parsed = fileSchema.safeParse(data);
  const locate = locator(doc, lines);
  const ruleName = (i: unknown): string | undefined => {
    const rules = (data as { rules?: unknown }).rules;
    const r: unknown = Array.isArray(rules) && typeof i === 'number' ? rules[i] : undefined;
    const name = r && typeof r === 'object' ? (r as { name?: unknown }).name : undefined;
    return typeof name === 'string' ? name : undefined;
  };
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.flatMap((issue) => {
        const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        const rule = path[0] === 'rules' ? ruleName(path[1]) : undefined;
        if (issue.code === 'unrecognized_keys') {
          const allowed = path.length === 0 ? fileKeys : ruleKeys;
          return issue.keys.map((key) => ({
            ...locate(path, key),
            rule,
            text: `unknown key "${key}" (allowed: ${allowed.join(', ')})`,
          }));
        }
        const field = path.length > 0 ? path.join('.') : 'policy';
        const missing = valueAt(data, path) === undefined;
        return [{ ...locate(path), rule, text: missing ? `${field} is required` : `${field}: ${issue.message}` }];
      }),
    };
  }
  const problems: PolicyProblem[] = [];
  const seen = new Map<string, number>();
  const rules: RuleSpec[] = (parsed.data.rules ?? []).map((r, i) => {
    const at = locate(['rules', i, 'name']);
    const first = seen.get(r.name);
    if (first !== undefined) problems.push({ ...at, rule: r.name, text: `duplicate rule name (first used on line ${first})` });
    else seen.set(r.name, at.line);
    if (r.effect !== 'review') {
      for (const key of ['approvers', 'approvals', 'window'] as const) {
        if (r[key] !== undefined) {
          problems.push({ ...locate(['rules', i, key]), rule: r.name, text: `${key} is only valid on review rules` });
        }
      }
    }
    for (const key of ['unmask', 'mask'] as const) {
      if (r.effect !== 'allow' && r[key] !== undefined) {
        problems.push({ ...locate(['rules', i, key]), rule: r.name, text: `${key} is only valid on allow rules` });
      }
    }
    (r.mask ?? []).forEach((detector, j) => {
      if (!detectorRegistry.has(detector)) {
        problems.push({ ...locate(['rules', i, 'mask', j]), rule: r.name, text: `mask: unknown detector "${detector}" (known: ${[...detectorRegistry.keys()].join(', ')})` });
      }
    });
    if (r.effect !== 'allow' && r.message === undefined) {
      problems.push({ ...locate(['rules', i]), rule: r.name, text: `message is required on ${r.effect} rules: it is what the caller is told` });
    }
    const matchNode = doc.getIn(['rules', i, 'match'], true);
    const matchPosition = isScalar(matchNode)
      ? scalarPositions(matchNode, source, lines)
      : () => ({ ...locate(['rules', i, 'match']), exact: false });
    return {
      name: r.name,
      match: r.match,
      effect: r.effect,
      ...(r.message !== undefined ? { message: r.message } : {}),
      approvers: r.approvers ?? [],
      approvals: r.approvals ?? 1,
      ...(r.window !== undefined ? { window: r.window } : {}),
      unmask: r.unmask ?? [],
      mask: r.mask ?? [],
      line: at.line,
      matchPosition,
    };
  });
  if (problems.length > 0) return { problems };
  return { spec: { default: parsed.data.default, rules, data } };
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let v = data;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** locator finds the line/column of a path (or of a key inside the map at path) in the document. */
function locator(doc: Document, lines: LineCounter) {
  return (path: readonly (string | number)[], key?: string): { line: number; column: number } => {
    const pos = (offset: number | undefined) => {
      const p = lines.linePos(offset ?? 0);
      return { line: p.line, column: p.col };
    };
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (!node || typeof node !== 'object') continue;
      if (key !== undefined && n === path.length && isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
        const keyNode = pair?.key as YamlNode | undefined;
        if (keyNode?.range) return pos(keyNode.range[0]);
      }
      const range = (node as YamlNode).range;
      if (range) return pos(range[0]);
    }
    return { line: 1, column: 1 };
  };
}
