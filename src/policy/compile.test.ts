import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAirlockError } from '../errors.js';
import { compilePolicy } from './compile.js';

/** compileError compiles `source` and returns the AIRLOCK_POLICY_INVALID message it must throw. */
function compileError(source: string): string {
  try {
    compilePolicy(source, { file: 'policy.yaml' });
  } catch (err) {
    assert.ok(isAirlockError(err, 'AIRLOCK_POLICY_INVALID'), String(err));
    return err.message;
  }
  assert.fail('the policy compiled, but it should not have');
}

const rule = (match: string, extra = '') =>
  `default: deny\nrules:\n  - name: ok-rule\n    match: "true"\n    effect: allow\n  - name: bad-rule\n    match: ${match}\n    effect: deny\n    message: no\n${extra}`;

describe('CEL errors name the rule, the column in the expression and the place in the file', () => {
  const cases: { title: string; source: string; expect: string[] }[] = [
    {
      title: 'a syntax error in a plain scalar',
      source: rule('request.verb == == "x"'),
      expect: ['policy.yaml:7:28:', 'rule "bad-rule"', 'match, column 17', 'Unexpected token'],
    },
    {
      title: 'an expression cut short',
      source: rule('request.verb =='),
      expect: ['policy.yaml:7:27:', 'rule "bad-rule"', 'column 16', 'Unexpected token: EOF'],
    },
    {
      title: 'an unknown variable (a typo) in a double-quoted scalar with escapes',
      source: rule('"request.verb == \\"x\\" && reqest.name == \\"y\\""'),
      expect: ['policy.yaml:7:38:', 'rule "bad-rule"', 'column 24', 'Unknown variable: reqest'],
    },
    {
      title: 'a type error in a single-quoted scalar',
      source: rule(`'request.verb == "x" && 1 + "a" == 2'`),
      expect: ['policy.yaml:7:36:', 'rule "bad-rule"', 'column 24', 'no such overload: int + string'],
    },
    {
      title: 'an error on the second line of a literal block',
      source: rule('|\n      request.verb == "x" &&\n        request.name.startsWith(1, 2, 3) ||| true'),
      expect: ['policy.yaml:9:44:', 'rule "bad-rule"', 'line 2 column 38', 'Unexpected character: |'],
    },
    {
      title: 'a match that cannot be a boolean',
      source: rule('request.verb + "x"'),
      expect: ['rule "bad-rule"', 'match must be a boolean expression, but it yields string'],
    },
    {
      title: 'a heterogeneous list literal',
      source: rule('request.verb in ["a", 1]'),
      expect: ['policy.yaml:7:34:', 'rule "bad-rule"', 'column 23', 'List elements must have the same type'],
    },
    {
      title: 'an unknown function',
      source: rule('lookup(request.name)'),
      expect: ['rule "bad-rule"', 'column 1', 'lookup'],
    },
    {
      title: 'a folded scalar still names the rule, the scalar line and the expression column',
      source: rule('>-\n      request.verb == "x"\n      && nope'),
      expect: ['policy.yaml:7: ', 'rule "bad-rule"', 'column 24', 'Unknown variable: nope'],
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const message = compileError(c.source);
      for (const part of c.expect) assert.ok(message.includes(part), `expected ${JSON.stringify(part)} in:\n${message}`);
    });
  }

  it('every failing rule is reported, not only the first', () => {
    const message = compileError(
      'default: deny\nrules:\n  - name: one\n    match: "nope"\n    effect: allow\n  - name: two\n    match: "request.verb =="\n    effect: allow\n',
    );
    assert.match(message, /rule "one"/);
    assert.match(message, /rule "two"/);
  });

  it('the error shows the expression with a caret under the fault', () => {
    const message = compileError(rule('request.verb == == "x"'));
    assert.ok(message.includes('    request.verb == == "x"\n                    ^'), message);
  });
});

describe('policy file errors name the file, the line and what is wrong', () => {
  const base = 'default: deny\nrules:\n  - name: a\n    match: "true"\n    effect: deny\n    message: m\n';
  const cases: { title: string; source: string; expect: string[] }[] = [
    { title: 'an unknown top-level key', source: `${base}defaults: allow\n`, expect: ['policy.yaml:7:1:', 'unknown key "defaults"'] },
    { title: 'an unknown rule key (a typo)', source: base.replace('effect: deny', 'efect: deny'), expect: ['policy.yaml:5:5:', 'rule "a"', 'unknown key "efect"'] },
    { title: 'a missing effect', source: base.replace('    effect: deny\n', ''), expect: ['rule "a"', 'rules.0.effect is required'] },
    { title: 'a wrong effect', source: base.replace('effect: deny', 'effect: block'), expect: ['policy.yaml:5:13:', 'rule "a"', 'must be allow, deny or review'] },
    { title: 'a missing default', source: base.replace('default: deny\n', ''), expect: ['default is required'] },
    { title: 'a wrong default', source: base.replace('default: deny', 'default: review'), expect: ['policy.yaml:1:10:', 'must be allow or deny'] },
    { title: 'a duplicate rule name', source: `${base}  - name: a\n    match: "false"\n    effect: allow\n`, expect: ['policy.yaml:7:11:', 'rule "a"', 'duplicate rule name (first used on line 3)'] },
    { title: 'an invalid rule name', source: base.replace('name: a', 'name: Bad_Name'), expect: ['policy.yaml:3:11:', 'rule "Bad_Name"', 'lowercase letters'] },
    { title: 'a window on a deny rule', source: `${base}    window: 30m\n`, expect: ['rule "a"', 'window is only valid on review rules'] },
    { title: 'a window that is not a duration', source: base.replace('effect: deny', 'effect: review') + '    window: soon\n', expect: ['rule "a"', 'window: must be a duration such as 30m or 2h'] },
    { title: 'a window longer than a day', source: base.replace('effect: deny', 'effect: review') + '    window: 48h\n', expect: ['rule "a"', 'must be longer than 0 and at most 1d'] },
    { title: 'approvers on a deny rule', source: `${base}    approvers: [group:sre]\n`, expect: ['policy.yaml:7:16:', 'rule "a"', 'approvers is only valid on review rules'] },
    { title: 'approvals on an allow rule', source: base.replace('effect: deny', 'effect: allow') + '    approvals: 2\n', expect: ['rule "a"', 'approvals is only valid on review rules'] },
    { title: 'unmask on a review rule', source: base.replace('effect: deny', 'effect: review') + '    unmask: [secrets]\n', expect: ['rule "a"', 'unmask is only valid on allow rules'] },
    { title: 'unmask of something unknown', source: base.replace('effect: deny', 'effect: allow') + '    unmask: [passwords]\n', expect: ['rule "a"', 'must be secrets'] },
    { title: 'mask on a deny rule', source: `${base}    mask: [pii]\n`, expect: ['policy.yaml:7:11:', 'rule "a"', 'mask is only valid on allow rules'] },
    { title: 'mask on a review rule', source: base.replace('effect: deny', 'effect: review') + '    mask: [pii]\n', expect: ['policy.yaml:7:11:', 'rule "a"', 'mask is only valid on allow rules'] },
    {
      title: 'mask naming an unknown detector (at the name itself)',
      source: base.replace('effect: deny', 'effect: allow') + '    mask: [pii, email]\n',
      expect: ['policy.yaml:7:17:', 'rule "a"', 'mask: unknown detector "email" (known: secretlint, jwt, private-key, pii)'],
    },
    {
      title: 'mask naming an unknown detector in a block list',
      source: base.replace('effect: deny', 'effect: allow') + '    mask:\n      - jwt\n      - PII\n',
      expect: ['policy.yaml:9:9:', 'unknown detector "PII"'],
    },
    { title: 'an empty mask', source: base.replace('effect: deny', 'effect: allow') + '    mask: []\n', expect: ['policy.yaml:7:11:', 'rule "a"', 'rules.0.mask: must list at least one detector'] },
    { title: 'a mask that is not a list', source: base.replace('effect: deny', 'effect: allow') + '    mask: pii\n', expect: ['policy.yaml:7:11:', 'rule "a"', 'rules.0.mask: Invalid input: expected array'] },
    { title: 'a malformed approver', source: base.replace('effect: deny', 'effect: review') + '    approvers: [sre]\n', expect: ['rule "a"', '"group:NAME" or "user:SUBJECT"'] },
    { title: 'zero approvals', source: base.replace('effect: deny', 'effect: review') + '    approvals: 0\n', expect: ['rule "a"', 'must be at least 1'] },
    { title: 'a deny rule without a message', source: base.replace('    message: m\n', ''), expect: ['rule "a"', 'message is required on deny rules'] },
    { title: 'an empty match', source: base.replace('match: "true"', 'match: "  "'), expect: ['rule "a"', 'non-empty CEL expression'] },
    { title: 'a match that is not a string', source: base.replace('match: "true"', 'match: true'), expect: ['rule "a"', 'rules.0.match: Invalid input: expected string'] },
    { title: 'a YAML syntax error', source: 'default: deny\nrules: [\n', expect: ['policy.yaml:', 'YAML:'] },
    { title: 'a duplicate YAML key', source: 'default: deny\ndefault: allow\nrules: []\n', expect: ['policy.yaml:2:1:', 'YAML:', 'unique'] },
    { title: 'an empty file', source: '', expect: ['the policy is empty'] },
    { title: 'a file that is not a map', source: '- a\n- b\n', expect: ['policy: Invalid input: expected object'] },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const message = compileError(c.source);
      for (const part of c.expect) assert.ok(message.includes(part), `expected ${JSON.stringify(part)} in:\n${message}`);
    });
  }

  it('the error carries the problems as structured details', () => {
    try {
      compilePolicy('default: deny\nrules:\n  - name: a\n    match: "nope"\n    effect: allow\n', { file: 'p.yaml' });
      assert.fail('should not compile');
    } catch (err) {
      assert.ok(isAirlockError(err, 'AIRLOCK_POLICY_INVALID'));
      const problems = err.details?.problems as { line: number; column: number; rule?: string }[];
      assert.equal(err.details?.file, 'p.yaml');
      assert.deepEqual(problems.map((p) => [p.line, p.column, p.rule]), [[4, 13, 'a']]);
    }
  });
});

describe('compiled policy', () => {
  const source = [
    '# a comment',
    'default: deny',
    'rules:',
    '  - name: reads',
    '    match: request.verb in ["get", "list"]',
    '    effect: allow',
    '  - name: ddl',
    '    match: request.protocol == "postgres" && request.verb == "ddl"',
    '    effect: review',
    '    message: DDL needs a DBA',
    '    approvers: [group:dba, group:dba, user:carol]',
    '    approvals: 2',
    '',
  ].join('\n');

  it('exposes rules with their effect, message, approvers (deduplicated), approvals and line', () => {
    const p = compilePolicy(source);
    assert.equal(p.default, 'deny');
    assert.deepEqual(
      p.rules.map((r) => ({ ...r, approvers: [...r.approvers], unmask: [...r.unmask], mask: [...r.mask] })),
      [
        { name: 'reads', effect: 'allow', match: 'request.verb in ["get", "list"]', message: 'allowed by rule "reads"', approvers: [], approvals: 1, unmask: [], mask: [], line: 4 },
        { name: 'ddl', effect: 'review', match: 'request.protocol == "postgres" && request.verb == "ddl"', message: 'DDL needs a DBA', approvers: ['group:dba', 'user:carol'], approvals: 2, unmask: [], mask: [], line: 7 },
      ],
    );
    assert.equal(p.source, source);
  });

  it('the policy hash ignores comments and formatting but not meaning', () => {
    const hash = compilePolicy(source).policyHash;
    assert.match(hash, /^[0-9a-f]{64}$/);
    const reformatted = source.replace('# a comment', '# another comment').replace('[group:dba, group:dba, user:carol]', '\n      - group:dba\n      - group:dba\n      - user:carol');
    assert.equal(compilePolicy(reformatted).policyHash, hash);
    assert.notEqual(compilePolicy(source.replace('approvals: 2', 'approvals: 3')).policyHash, hash);
    assert.notEqual(compilePolicy(source.replace('default: deny', 'default: allow')).policyHash, hash);
  });

  it('a compiled policy is frozen', () => {
    const p = compilePolicy(source);
    assert.ok(Object.isFrozen(p));
    assert.ok(Object.isFrozen(p.rules));
    assert.ok(Object.isFrozen(p.rules[0]));
  });
});

describe('warnings: a deny or review rule that kubectl discovery would trip', () => {
  const warningsOf = (match: string, effect = 'deny') =>
    compilePolicy(['default: allow', 'rules:', '  - name: r', `    match: ${JSON.stringify(match)}`, `    effect: ${effect}`, '    message: m', ...(effect === 'review' ? ['    approvers: [group:sre]'] : []), ''].join('\n'), {
      file: 'p.yaml',
    }).warnings;
  const cases: { title: string; match: string; effect?: string; warns: RegExp | false }[] = [
    { title: 'an optional field compared without has() (discovery has no resource: the rule fails and denies it)', match: 'request.resource == "secrets"', warns: /^p\.yaml:3: rule "r": request\.resource is absent on some requests .* this deny rule fails and so denies them\. Write has\(request\.resource\) && … / },
    { title: 'the same in a review rule, which would hold discovery', match: 'request.namespace in ["prod"]', effect: 'review', warns: /request\.namespace .* this review rule fails and so holds them/ },
    { title: 'guarded with has(), anywhere in the && chain', match: 'request.resource == "secrets" && has(request.resource)', warns: false },
    { title: 'a verb guard without get (discovery is a get: false && error is false)', match: 'request.verb == "delete" && request.resource == "namespaces"', warns: false },
    { title: 'an allow rule (an erroring allow rule does not match)', match: 'request.resource == "pods"', effect: 'allow', warns: false },
    { title: 'fields every request has', match: 'request.protocol == "kubernetes" && request.connection == "prod"', warns: false },
    { title: 'the object read on a rule a GET reaches (a get carries no object: the rule fails and denies it)', match: 'object.spec.hostNetwork == true', warns: /^p\.yaml:3: rule "r": object\.spec is absent on requests that carry no object .* this deny rule fails and so denies them\. Write has\(object\.spec\) && … / },
    { title: 'has() of a deeper path is no guard: it fails itself when the field above is absent', match: 'has(object.spec.containers) && object.spec.containers.exists(c, c.name == "x")', warns: /object\.spec is absent/ },
    { title: 'the object guarded with has(object.F)', match: 'has(object.spec) && has(object.spec.hostNetwork) && object.spec.hostNetwork == true', warns: false },
    { title: 'the object read only for verbs that carry one, each level guarded', match: 'request.verb in ["create", "update", "patch"] && has(object.spec) && has(object.spec.hostNetwork) && object.spec.hostNetwork == true', warns: false },
    { title: 'a nested field most objects leave unset, read without has() (every ordinary pod would be denied)', match: 'request.verb == "create" && has(object.spec) && object.spec.hostNetwork == true', warns: /^p\.yaml:3: rule "r": object\.spec\.hostNetwork is absent on objects that do not set it; there this deny rule fails and so denies them\. Write has\(object\.spec\.hostNetwork\) && … / },
    { title: 'a guard counts inside its own && branch of an ||, not in the other branch', match: 'request.verb == "create" && has(object.spec) && ((has(object.spec.hostPID) && object.spec.hostPID == true) || object.spec.hostIPC == true)', warns: /object\.spec\.hostIPC is absent/ },
    { title: 'an index below a field still reads the field', match: 'request.verb == "create" && has(object.metadata) && object.metadata.labels["app"] == "x"', warns: /object\.metadata\.labels is absent/ },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const warnings = warningsOf(c.match, c.effect);
      if (c.warns === false) assert.deepEqual(warnings, []);
      else assert.ok(warnings.some((w) => (c.warns as RegExp).test(w)), warnings.join('\n'));
    });
  }
});
