/**
 * A decision's `mask` detectors join the gateway's defaults for that request only: exec output
 * and the recorded stdin, and captured port-forward bytes, are masked with the union; the
 * combined list is built once per set; the final ledger entry names the detectors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTerminalBatch, encodeTerminalBatch, TERMINAL_BATCH_TYPE } from '../../../evidence/terminal-batch.js';
import type { RecordedEvent, TerminalEvent } from '../../../evidence/terminal-recording.js';
import type { PortForwardEvent } from '../../../evidence/port-forward-recording.js';
import type { ResponseRecorder } from '../../../gateway/adapter.js';
import { DEFAULT_DETECTORS, selectDetectors } from '../../../masking/detectors/registry.js';
import type { Decision } from '../../../policy/decision.js';
import { encodeChannelMessage, V5_CHANNEL, classifySubprotocol, type ChannelProtocol } from './channel/index.js';
import { createExecSession } from './exec-session.js';
import { webSocketPortForwardObserver, type PortForwardEnd } from './port-forward-session.js';
import { noteMaskDetectors, requestDetectors } from './request-detectors.js';
import { encodeDataFrame, encodeSynReply, encodeSynStream } from './spdy/spdy-frame-encoder.js';
import { HeaderDeflater } from './spdy/spdy-headers.js';

/** readBack: a batch as a reader of the ledger gets it back. */
const readBack = (batch: RecordedEvent[]): TerminalEvent[] => decodeTerminalBatch(encodeTerminalBatch(batch), TERMINAL_BATCH_TYPE);

const defaults = selectDetectors(DEFAULT_DETECTORS);
const allowed = (detectors?: string[]): Decision => ({
  effect: 'allow',
  rules: ['r'],
  message: 'm',
  defaulted: false,
  ...(detectors ? { mask: { secrets: 'mask' as const, detectors } } : {}),
});
const EMAIL = 'jane.roe@example.com';
const CARD = '4111-1111-1111-1111';

describe('requestDetectors', () => {
  it('without added detectors the gateway list itself is used', () => {
    assert.equal(requestDetectors(defaults, allowed()), defaults);
    assert.equal(requestDetectors(defaults, undefined), defaults);
    assert.equal(requestDetectors(defaults, { mask: { secrets: 'clear' } }), defaults);
  });

  it('adds what the decision names after the defaults, skipping those already there', () => {
    const names = requestDetectors(defaults, allowed(['jwt', 'pii'])).map((d) => d.name);
    assert.deepEqual(names, ['secretlint', 'jwt', 'private-key', 'pii']);
  });

  it('builds each distinct set once and shares it, whatever the order of the names', () => {
    const first = requestDetectors(defaults, allowed(['pii', 'jwt']));
    assert.equal(requestDetectors(defaults, allowed(['jwt', 'pii'])), first);
    assert.ok(Object.isFrozen(first));
    assert.notEqual(requestDetectors(defaults, allowed(['pii'])), first, 'another set is another list');
    const other = selectDetectors(['secretlint']);
    assert.deepEqual(requestDetectors(other, allowed(['pii'])).map((d) => d.name), ['secretlint', 'pii']);
  });

  it('a name outside the registry is refused rather than skipped', () => {
    assert.throws(() => requestDetectors(defaults, allowed(['email'])), /unknown masking detector "email"/);
  });
});

describe('noteMaskDetectors', () => {
  function recorder() {
    const responses: unknown[] = [];
    const streams: unknown[] = [];
    const record: ResponseRecorder = {
      response: async (r) => void responses.push(r),
      stream: async (s) => void streams.push(s),
    };
    return { record, responses, streams };
  }

  it('names the detectors in the response entry when the decision added some; stream entries are unchanged', async () => {
    const r = recorder();
    const decision = allowed(['pii']);
    const noted = noteMaskDetectors(r.record, requestDetectors(defaults, decision), decision);
    await noted.stream({ body: { body: 'x' }, data: { part: 1 } });
    await noted.response({ status: 101, data: { terminal: true } });
    assert.deepEqual(r.streams, [{ body: { body: 'x' }, data: { part: 1 } }]);
    assert.deepEqual(r.responses, [{ status: 101, data: { terminal: true, maskDetectors: ['secretlint', 'jwt', 'private-key', 'pii'] } }]);
  });

  it('leaves the recorder as it is when the defaults apply', () => {
    const r = recorder();
    assert.equal(noteMaskDetectors(r.record, defaults, allowed()), r.record);
  });
});

describe('an exec session masks with the detectors of its request', () => {
  const protocol = classifySubprotocol(V5_CHANNEL) as ChannelProtocol;
  const frame = (channel: 'stdin' | 'stdout', text: string) => encodeChannelMessage({ channel, bytes: Buffer.from(text) }, protocol).data;

  function run(decision: Decision) {
    const events: TerminalEvent[] = [];
    const observer = createExecSession({
      offered: [V5_CHANNEL],
      detectors: requestDetectors(defaults, decision),
      onBatch: (batch) => events.push(...readBack(batch)),
      onEnd: () => undefined,
    });
    observer.accept(V5_CHANNEL);
    observer.open(V5_CHANNEL, () => undefined, () => undefined);
    const shown: Buffer[] = [];
    const typed = `mail ${EMAIL} card ${CARD}\n`;
    observer.message('client-to-upstream', frame('stdin', typed), true);
    for (const part of [`OWNER_EMAIL=${EMAIL.slice(0, 7)}`, `${EMAIL.slice(7)}\nBILLING_CARD=${CARD}\n`]) {
      const out = observer.message('upstream-to-client', frame('stdout', part), true);
      if (out) shown.push(out.subarray(1));
    }
    observer.closed({ by: 'upstream', code: 1000, reason: '' });
    const recorded = (kind: string) => events.filter((e) => e.kind === kind).map((e) => e.data).join('');
    return { shown: Buffer.concat(shown).toString(), output: recorded('o'), stdin: recorded('i') };
  }

  it('with pii added, e-mail and card numbers are masked on screen, in the recorded output and in the recorded stdin', () => {
    const r = run(allowed(['pii']));
    assert.equal(r.shown, 'OWNER_EMAIL=[masked email]\nBILLING_CARD=[masked card-number]\n');
    assert.equal(r.output, r.shown);
    assert.equal(r.stdin, 'mail [masked email] card [masked card-number]\n');
  });

  it('with the defaults, the same session passes them', () => {
    const r = run(allowed());
    assert.equal(r.shown, `OWNER_EMAIL=${EMAIL}\nBILLING_CARD=${CARD}\n`);
    assert.equal(r.stdin, `mail ${EMAIL} card ${CARD}\n`);
  });
});

describe('captured port-forward bytes are masked with the detectors of the request', () => {
  const TUNNEL = 'SPDY/3.1+portforward.k8s.io';

  function capture(decision: Decision): string {
    const events: PortForwardEvent[] = [];
    let end: PortForwardEnd | undefined;
    const observer = webSocketPortForwardObserver({
      offered: [TUNNEL],
      ports: [],
      detectors: requestDetectors(defaults, decision),
      capture: true,
      onBatch: (batch) => events.push(...batch),
      onEnd: (e) => {
        end = e;
      },
    });
    observer.accept(TUNNEL);
    observer.open(TUNNEL, () => undefined, () => undefined);
    const client = new HeaderDeflater();
    const server = new HeaderDeflater();
    const open = (id: number, type: string) => encodeSynStream({ streamId: id, headerBlock: client.compress({ streamtype: type, port: '8080', requestid: '0' }) });
    observer.message('client-to-upstream', Buffer.concat([open(1, 'error'), open(3, 'data')]), true);
    const body = `OWNER_EMAIL=${EMAIL}\n`;
    const reply = (id: number) => encodeSynReply(id, server.compress({}));
    observer.message('upstream-to-client', Buffer.concat([reply(1), reply(3), encodeDataFrame(3, Buffer.from(body.slice(0, 16))), encodeDataFrame(3, Buffer.from(body.slice(16)), { fin: true })]), true);
    observer.message('client-to-upstream', Buffer.from(encodeDataFrame(3, new Uint8Array(), { fin: true })), true);
    observer.closed({ by: 'client', code: 1000, reason: '' });
    return [...events, ...(end?.events ?? [])]
      .filter((e) => e.kind === 'data')
      .map((e) => Buffer.from(e.data ?? '', 'base64').toString())
      .join('');
  }

  it('with pii added the e-mail is masked in the record; with the defaults it is kept', () => {
    assert.equal(capture(allowed(['pii'])), 'OWNER_EMAIL=[masked email]\n');
    assert.equal(capture(allowed()), `OWNER_EMAIL=${EMAIL}\n`);
  });
});
