/**
 * The Slack notifier: the Block Kit message an approver sees, with hostile text escaped, sent to
 * a real node:http receiver standing in for hooks.slack.com, under the same retry rules.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { NotifyDeliveryError } from './delivery.js';
import { answers, recordingSleep, sampleNotification, startReceiver, type Receiver } from './receiver.test-helper.js';
import { buildSlackMessage, clip, escapeMrkdwn, type SlackMessage } from './slack-message.js';
import { createSlackNotifier } from './slack.js';

const receivers: Receiver[] = [];
after(() => Promise.all(receivers.map((r) => r.close())));

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

/** Every mrkdwn or plain text in the message, in order. */
function texts(message: SlackMessage): string[] {
  const out: string[] = [message.text];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push(o.text);
      for (const v of Object.values(o)) walk(v);
    }
  };
  walk(message.blocks);
  return out;
}

function buttons(message: SlackMessage): Array<{ text: string; url: string; style?: string }> {
  return message.blocks.flatMap((b) => [...((b.elements as unknown[]) ?? []), ...(b.accessory ? [b.accessory] : [])])
    .filter((e): e is Record<string, unknown> => (e as { type?: string }).type === 'button')
    .map((e) => ({ text: (e.text as { text: string }).text, url: e.url as string, ...(e.style ? { style: e.style as string } : {}) }));
}

const hostile = sampleNotification();
hostile.approval.request.summary = 'delete pods "<!channel> & <https://evil.test|Approve>" in default';
hostile.approval.requester.subject = 'agent:<@U0123>&co';
hostile.approval.message = 'ask <!here> first';
hostile.approval.rules = ['review-<deletes>'];

describe('Slack message for a request', () => {
  const message = buildSlackMessage(hostile);
  const all = texts(message).join('\n');

  it('shows the summary, who asked, the connection, rules and message, approvals needed and the expiry', () => {
    assert.match(all, /:lock: airlock approval requested/);
    assert.ok(all.includes('delete pods "&lt;!channel&gt; &amp; &lt;https://evil.test|Approve&gt;" in default'));
    assert.ok(all.includes('agent:&lt;@U0123&gt;&amp;co (agent)'));
    assert.ok(all.includes('*Connection*\nprod'));
    assert.ok(all.includes('review-&lt;deletes&gt;'));
    assert.ok(all.includes('ask &lt;!here&gt; first'));
    assert.ok(all.includes('*Approvals needed*\n1 from group:sre'));
    assert.ok(all.includes('<!date^1893500100^{date_short_pretty} {time}|2030-01-01T12:15:00.000Z>'));
    assert.ok(all.includes(hostile.approval.id));
    assert.ok(message.text.startsWith('airlock approval requested: delete pods "&lt;!channel&gt;'));
  });

  it('has Review, Approve and Deny buttons to the three links', () => {
    assert.deepEqual(buttons(message), [
      { text: 'Review', url: hostile.links.show },
      { text: 'Approve', url: hostile.links.approve, style: 'primary' },
      { text: 'Deny', url: hostile.links.deny, style: 'danger' },
    ]);
  });

  it('gives the CLI commands in a code block', () => {
    assert.ok(all.includes(`\`\`\`${hostile.commands.approve}\n${escapeMrkdwn(hostile.commands.deny)}\`\`\``));
  });

  it('lets no user text through as a Slack control sequence', () => {
    // The only `<…>` sequences left are the date airlock wrote itself.
    for (const text of texts(message)) {
      const controls = text.match(/<[^>]*>/g) ?? [];
      for (const c of controls) assert.match(c, /^<!date\^\d+\^/, c);
    }
    assert.ok(!JSON.stringify(message).includes('<!channel>'));
    assert.ok(!JSON.stringify(message).includes('<!here>'));
    assert.ok(!JSON.stringify(message).includes('<@U0123>'));
  });

  it('clips very long text to what Slack accepts, without cutting an entity', () => {
    const long = sampleNotification();
    long.approval.request.summary = `${'x'.repeat(990)}&&&&${'y'.repeat(10_000)}`;
    long.approval.message = 'm'.repeat(10_000);
    const m = buildSlackMessage(long);
    for (const block of m.blocks) {
      const text = (block.text as { text?: string } | undefined)?.text;
      if (text) assert.ok(text.length <= 3000, `${text.length}`);
      for (const f of (block.fields as Array<{ text: string }> | undefined) ?? []) assert.ok(f.text.length <= 2000);
    }
    assert.match(m.text, /x&amp;…/);
    assert.ok(!/&(?!amp;|lt;|gt;)/.test(m.text));
  });
});

describe('Slack message for a decision or expiry', () => {
  it('approved: who approved, until when, and a Review link', () => {
    const n = sampleNotification({ event: 'approval.approved' });
    n.approval.approvals = [{ subject: 'alice@example.test', issuer: 'https://issuer.test', at: '2030-01-01T12:01:00Z' }];
    n.approval.grant.expiresAt = '2030-01-01T12:31:00.000Z';
    const m = buildSlackMessage(n);
    assert.equal(m.blocks.length, 1);
    assert.match(texts(m).join('\n'), /:white_check_mark: \*Approved\* by alice@example\.test, usable until <!date\^\d+\^.*>: delete pods "debug" in default/);
    assert.deepEqual(buttons(m), [{ text: 'Review', url: n.links.show }]);
  });

  it('denied: who denied and why, escaped', () => {
    const n = sampleNotification({ event: 'approval.denied' });
    n.approval.denial = { subject: 'bob', issuer: 'https://issuer.test', at: '2030-01-01T12:01:00Z', reason: 'not during <freeze> & never' };
    const m = buildSlackMessage(n);
    assert.match(m.blocks.length === 1 ? texts(m).join('\n') : '', /:no_entry: \*Denied\* by bob — not during &lt;freeze&gt; &amp; never: delete pods/);
  });

  it('expired: says nobody decided', () => {
    const m = buildSlackMessage(sampleNotification({ event: 'approval.expired' }));
    assert.match(texts(m).join('\n'), /:hourglass: \*Expired\* without a decision: delete pods "debug" in default/);
    assert.match(m.text, /^airlock: approval expired: delete pods/);
  });
});

describe('clip', () => {
  it('keeps short text, and ends clipped text with an ellipsis at the limit', () => {
    assert.equal(clip('abc', 3), 'abc');
    assert.equal(clip('abcdef', 4), 'abc…');
    assert.equal(clip('ab&amp;cd', 5), 'ab…');
    assert.equal(clip('ab\u{1F512}cd', 4), 'ab…');
  });
});

describe('Slack notifier', () => {
  it('POSTs the message as JSON to the webhook URL; name is slack:<host>', async () => {
    const r = await receiver(answers({ status: 200, body: 'ok' }));
    const notifier = createSlackNotifier({ url: `${r.origin}/services/T000/B000/slack-path-token` });
    assert.equal(notifier.name, `slack:${new URL(r.origin).host}`);
    await notifier.notify(hostile);
    assert.equal(r.deliveries.length, 1);
    const d = r.deliveries[0]!;
    assert.equal(d.url, '/services/T000/B000/slack-path-token');
    assert.equal(d.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(d.body.toString('utf8')), buildSlackMessage(hostile));
  });

  it('waits out a 429 with Retry-After and 5xx, then delivers', async () => {
    const r = await receiver(answers({ status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' }, 500, { status: 200, body: 'ok' }));
    const { sleep, waits } = recordingSleep();
    await createSlackNotifier({ url: `${r.origin}/services/x`, backoffMs: 5 }, { sleep, random: () => 0 }).notify(sampleNotification());
    assert.equal(r.deliveries.length, 3);
    assert.deepEqual(waits, [1000, 10]);
  });

  it('gives up at once on Slack\'s refusal, quoting its reason but not the webhook path', async () => {
    const r = await receiver(answers({ status: 404, body: 'no_service' }));
    const err = await createSlackNotifier({ url: `${r.origin}/services/T000/B000/slack-path-token` }).notify(sampleNotification())
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof NotifyDeliveryError);
    assert.equal(r.deliveries.length, 1);
    assert.equal(err.message, `slack notification to ${r.origin} was not delivered after 1 of 5 attempts: HTTP 404 "no_service" (not retried)`);
  });

  it('never 2xx: rejects after the last attempt without the webhook path', async () => {
    const r = await receiver(answers(503));
    const err = await createSlackNotifier({ url: `${r.origin}/services/T000/B000/slack-path-token`, attempts: 3, backoffMs: 1 }).notify(sampleNotification())
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof NotifyDeliveryError);
    assert.equal(r.deliveries.length, 3);
    assert.ok(err.message.includes(r.origin));
    assert.ok(!err.message.includes('slack-path-token'));
  });
});
