import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision } from './decision.js';
import { formatDecision } from './format-decision.js';

describe('formatDecision', () => {
  const cases: { title: string; decision: Decision; text: string }[] = [
    {
      title: 'a denial shows the effect, the rules and the message',
      decision: { effect: 'deny', rules: ['protect-system-namespaces'], message: 'system namespaces cannot be deleted', defaulted: false },
      text: 'effect:   deny\nrules:    protect-system-namespaces\nmessage:  system namespaces cannot be deleted',
    },
    {
      title: 'a default decision says so',
      decision: { effect: 'deny', rules: [], message: 'no rule matched; the policy default is deny', defaulted: true },
      text: 'effect:   deny (policy default)\nrules:    (none matched)\nmessage:  no rule matched; the policy default is deny',
    },
    {
      title: 'a review shows who must approve and how many times',
      decision: { effect: 'review', rules: ['ddl', 'big'], message: 'DDL needs a DBA', defaulted: false, review: { approvers: ['group:dba', 'user:carol'], approvals: 2, rules: ['ddl', 'big'] } },
      text: 'effect:   review\nrules:    ddl, big\nmessage:  DDL needs a DBA\nreview:   2 approvals from group:dba, user:carol',
    },
    {
      title: 'a review without named approvers falls to the default approvers',
      decision: { effect: 'review', rules: ['r'], message: 'm', defaulted: false, review: { approvers: [], approvals: 1, rules: ['r'] } },
      text: 'effect:   review\nrules:    r\nmessage:  m\nreview:   1 approval from the default approvers',
    },
    {
      title: 'an allow that adds stream detectors names them',
      decision: { effect: 'allow', rules: ['reads', 'prod-agents-no-pii'], message: 'allowed by rule "reads"', defaulted: false, mask: { secrets: 'mask', detectors: ['jwt', 'pii'] } },
      text: 'effect:   allow\nrules:    reads, prod-agents-no-pii\nmessage:  allowed by rule "reads"\nmask:     jwt, pii (added to the default stream detectors)',
    },
    {
      title: 'a break-glass allow says Secret values are shown',
      decision: { effect: 'allow', rules: ['break-glass'], message: 'm', defaulted: false, mask: { secrets: 'clear' } },
      text: 'effect:   allow\nrules:    break-glass\nmessage:  m\nunmask:   secrets (Secret values shown in the clear)',
    },
    {
      title: 'evaluation errors are listed, one per rule',
      decision: { effect: 'deny', rules: ['d'], message: 'm', defaulted: false, errors: [{ rule: 'd', error: 'no_such_key at column 9: No such key: name' }] },
      text: 'effect:   deny\nrules:    d\nmessage:  m\nerrors:   (failed deny/review rules count as matched; failed allow rules do not)\n  d: no_such_key at column 9: No such key: name',
    },
  ];
  for (const c of cases) {
    it(c.title, () => assert.equal(formatDecision(c.decision), c.text));
  }
});
