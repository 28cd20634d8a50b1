/**
 * compilePolicy: policy source text in, a `CompiledPolicy` out, or one `AirlockError`
 * listing every problem found with file, line, column and rule. All the work that can be
 * done once happens here — YAML and schema validation, CEL parsing and type checking, guard
 * extraction, the rule index and the fast closures — so evaluation does none of it.
 * No I/O.
 */
import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { AirlockError } from '../errors.js';
import { compileCel, positionIn } from './cel-environment.js';
import { compileClosure, compileConjunction } from './closure-compiler.js';
import { engineKey, type CompiledPolicy, type CompiledRule, type RuleProgram } from './compiled-policy.js';
import { splitGuards } from './guards.js';
import { unguardedFieldWarnings, unguardedObjectPathWarnings, unguardedObjectWarnings } from './policy-warnings.js';
import { parsePolicyFile, type PolicyProblem, type RuleSpec } from './policy-file.js';
import { RuleIndex } from './rule-index.js';

// canonicalize is CommonJS (`module.exports = fn`) while its types declare an ES default
// export; under NodeNext the default import is that function at run time.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** Options for compilePolicy. */
export interface CompileOptions {
  /** File name used in error messages (default `policy`). */
  file?: string;
}

/**
 * compilePolicy validates and compiles a policy; it throws
 * `AirlockError('AIRLOCK_POLICY_INVALID')` whose message lists each problem as
 * `FILE:LINE:COLUMN: rule "NAME": what is wrong`.
 *
 * @example
 * const policy = compilePolicy(readFileSync('policy.yaml', 'utf8'), { file: 'policy.yaml' });
 * const decision = evaluatePolicy(policy, { request, identity });
 */
export function compilePolicy(source: string, options: CompileOptions = {}): CompiledPolicy {
  const file = options.file ?? 'policy';
  const parsed = parsePolicyFile(source);
  if ('problems' in parsed) throw invalid(file, parsed.problems);
  const { spec } = parsed;

  const problems: PolicyProblem[] = [];
  const warnings: string[] = [];
  const programs: RuleProgram[] = [];
  let slots = 3;
  for (const r of spec.rules) {
    const compiled = compileCel(r.match);
    if ('offset' in compiled) {
      problems.push(celProblem(r, compiled.offset, compiled.message));
      continue;
    }
    const rule = compiledRule(r);
    const { guards, body } = splitGuards(compiled.ast);
    warnings.push(
      ...unguardedFieldWarnings(rule, guards, file),
      ...unguardedObjectWarnings(rule, compiled.ast, guards, file),
      ...unguardedObjectPathWarnings(rule, compiled.ast, file),
    );
    const fast = compileClosure(compiled.ast);
    const fastBody = fast ? compileConjunction(body) : undefined;
    if (fast && fastBody) slots = Math.max(slots, fast.slots, fastBody.slots);
    programs.push({
      rule,
      effect: rule.effect,
      guards,
      program: compiled.program,
      ...(fast && fastBody ? { fast: fast.run, body: fastBody.run } : {}),
    });
  }
  if (problems.length > 0) throw invalid(file, problems);

  const canonical = canonicalize(spec.data) ?? '';
  return Object.freeze({
    default: spec.default,
    rules: Object.freeze(programs.map((p) => p.rule)),
    policyHash: createHash('sha256').update(canonical).digest('hex'),
    source,
    ...(options.file !== undefined ? { file: options.file } : {}),
    warnings: Object.freeze(warnings),
    [engineKey]: Object.freeze({ programs, index: new RuleIndex(programs), slots }),
  });
}

function compiledRule(r: RuleSpec): CompiledRule {
  return Object.freeze({
    name: r.name,
    effect: r.effect,
    match: r.match,
    message: r.message ?? `allowed by rule "${r.name}"`,
    approvers: Object.freeze([...new Set(r.approvers)]),
    approvals: r.approvals,
    ...(r.window ? { window: Object.freeze({ ...r.window }) } : {}),
    unmask: Object.freeze([...r.unmask]),
    mask: Object.freeze([...new Set(r.mask)]),
    line: r.line,
  });
}

function celProblem(r: RuleSpec, offset: number, message: string): PolicyProblem {
  const pos = r.matchPosition(offset);
  return {
    line: pos.line,
    column: pos.exact ? pos.column : 0,
    rule: r.name,
    text: `match, ${positionIn(r.match, offset)}: ${message}\n    ${excerpt(r.match, offset)}`,
  };
}

/** excerpt shows the expression's line holding `offset`, with a caret under it. */
function excerpt(expression: string, offset: number): string {
  const lineStart = expression.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = expression.indexOf('\n', offset);
  const line = expression.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
  return `${line}\n    ${' '.repeat(Math.max(0, offset - lineStart))}^`;
}

function invalid(file: string, problems: PolicyProblem[]): AirlockError {
  const lines = problems.map((p) => {
    const where = p.column > 0 ? `${file}:${p.line}:${p.column}` : `${file}:${p.line}`;
    return `${where}: ${p.rule !== undefined ? `rule "${p.rule}": ` : ''}${p.text}`;
  });
  return new AirlockError('AIRLOCK_POLICY_INVALID', lines.join('\n'), {
    details: { file, problems: problems.map((p) => ({ ...p })) },
  });
}
