/**
 * Building notifiers from configuration, plugging in a channel kind, and fanning one event out
 * to every channel: all are told at once, each outcome is reported, and nothing throws.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isAirlockError } from '../../errors.js';
import type { Notifier } from '../types.js';
import { createNotifiers, notifyAll, registerNotifierKind, verifySignature, type NotifyResult } from './index.js';
import { answers, sampleNotification, startReceiver, type Receiver } from './receiver.test-helper.js';

const secret = 'whsec-test-index-0123456789';
const receivers: Receiver[] = [];
after(() => Promise.all(receivers.map((r) => r.close())));

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

describe('createNotifiers', () => {
  it('builds webhooks and Slack channels from the configuration, in order', () => {
    const notifiers = createNotifiers({
      webhooks: [{ url: 'https://hooks.example.test/a', secret }, { url: 'http://10.0.0.7:8080/b', secret, headers: { 'x-team': 'sre' } }],
      slack: [{ url: 'https://hooks.slack.com/services/T0/B0/slack-path-token' }],
    });
    assert.deepEqual(notifiers.map((n) => n.name), ['webhook:hooks.example.test', 'webhook:10.0.0.7:8080', 'slack:hooks.slack.com']);
  });

  it('builds nothing from an empty configuration', () => {
    assert.deepEqual(createNotifiers({}), []);
    assert.deepEqual(createNotifiers({ webhooks: [], slack: undefined }), []);
  });

  it('names the entry that is wrong, without quoting its URL', () => {
    assert.throws(() => createNotifiers({ webhooks: [{ url: 'https://a.test/x', secret }, { url: 'https://b.test/x?token=query-token-123', secret: '' }] }), (err: unknown) => {
      assert.ok(isAirlockError(err, 'AIRLOCK_CONFIG_INVALID'));
      assert.equal(err.message, 'configuration is invalid: notifiers.webhooks[1]: webhook notifier for https://b.test: secret is required (the key receivers verify airlock-signature with)');
      return true;
    });
  });

  it('refuses an unknown kind, listing the known ones', () => {
    assert.throws(() => createNotifiers({ teams: [{ url: 'https://teams.test' }] }), /notifiers\.teams: unknown notifier kind \(known: webhooks, slack/);
  });
});

describe('registerNotifierKind', () => {
  it('plugs a new channel kind into createNotifiers', async () => {
    const seen: string[] = [];
    registerNotifierKind<{ room: string }>('test-chat', (entry) => ({
      name: `test-chat:${entry.room}`,
      async notify(n) {
        seen.push(`${entry.room}:${n.approval.id}`);
      },
    }));
    const notifiers = createNotifiers({ 'test-chat': [{ room: 'ops' }] });
    assert.deepEqual(notifiers.map((n) => n.name), ['test-chat:ops']);
    await notifyAll(notifiers, sampleNotification());
    assert.deepEqual(seen, ['ops:apr-0123456789abcdefghijklmnop']);
  });

  it('refuses to replace a kind, built-in or not', () => {
    assert.throws(() => registerNotifierKind('webhooks', () => ({ name: 'x', notify: async () => undefined })), /already registered/);
    registerNotifierKind('test-twice', () => ({ name: 'x', notify: async () => undefined }));
    assert.throws(() => registerNotifierKind('test-twice', () => ({ name: 'x', notify: async () => undefined })), /already registered/);
    assert.throws(() => registerNotifierKind('Bad Kind', () => ({ name: 'x', notify: async () => undefined })), /lowercase/);
  });
});

describe('notifyAll', () => {
  it('reports each channel\'s outcome and never throws, whatever a channel does', async () => {
    const ok = await receiver(answers(204));
    const refusing = await receiver(answers({ status: 400, body: 'nope' }));
    const throwsSync: Notifier = {
      name: 'broken:sync',
      notify() {
        throw new Error('boom');
      },
    };
    const notifiers = [
      ...createNotifiers({ webhooks: [{ url: `${ok.origin}/ok`, secret }, { url: `${refusing.origin}/hook?token=query-token-123`, secret }] }),
      throwsSync,
    ];
    const reported: NotifyResult[] = [];
    const results = await notifyAll(notifiers, sampleNotification(), (r) => {
      reported.push(r);
      throw new Error('a reporter that fails');
    });
    assert.deepEqual(results, [
      { name: `webhook:${new URL(ok.origin).host}`, ok: true },
      { name: `webhook:${new URL(refusing.origin).host}`, ok: false, error: `webhook notification to ${refusing.origin} was not delivered after 1 of 5 attempts: HTTP 400 "nope" (not retried)` },
      { name: 'broken:sync', ok: false, error: 'boom' },
    ]);
    const byName = (a: NotifyResult, b: NotifyResult) => a.name.localeCompare(b.name);
    assert.deepEqual([...reported].sort(byName), [...results].sort(byName));
    assert.equal(verifySignature({ secret, body: ok.deliveries[0]!.body, header: ok.deliveries[0]!.headers['airlock-signature'] }).ok, true);
  });

  it('tells every channel at once: a slow channel does not hold the others back', { timeout: 10_000 }, async () => {
    // The first channel finishes only after the second has been told; sent one after the
    // other, this would never finish (and the test's timeout would fail it).
    let releaseFirst!: () => void;
    const secondTold = new Promise<void>((resolve) => { releaseFirst = resolve; });
    const order: string[] = [];
    const first: Notifier = { name: 'first', notify: async () => { await secondTold; order.push('first done'); } };
    const second: Notifier = { name: 'second', notify: async () => { order.push('second told'); releaseFirst(); } };
    const reported: string[] = [];
    await notifyAll([first, second], sampleNotification(), (r) => reported.push(r.name));
    assert.deepEqual(order, ['second told', 'first done']);
    assert.deepEqual(reported, ['second', 'first']);
  });

  it('resolves at once with no channels', async () => {
    assert.deepEqual(await notifyAll([], sampleNotification()), []);
  });
});
