/**
 * The webhook notifier against real node:http(s) receivers: what a receiver gets and verifies,
 * which answers are retried and how often, how long it waits (observed through the injected
 * sleep, never measured), and what the error says when it gives up.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isAirlockError } from '../../errors.js';
import { generateTestCertificates } from '../../../test/fixtures/tls.js';
import { NotifyDeliveryError } from './delivery.js';
import { answers, recordingSleep, sampleNotification, startReceiver, type Receiver } from './receiver.test-helper.js';
import { verifySignature } from './signature.js';
import { createWebhookNotifier, type WebhookPayload } from './webhook.js';

const secret = 'whsec-test-webhook-0123456789';
const receivers: Receiver[] = [];
after(() => Promise.all(receivers.map((r) => r.close())));

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

/** A receiver that accepts only deliveries whose signature verifies with `key`. */
function verifying(key: string) {
  return (d: { body: Buffer; headers: Record<string, string | string[] | undefined> }) => {
    const verdict = verifySignature({ secret: key, body: d.body, header: d.headers['airlock-signature'] });
    return verdict.ok ? { status: 204 } : { status: 401, body: verdict.reason };
  };
}

function payloadOf(body: Buffer): WebhookPayload {
  return JSON.parse(body.toString('utf8')) as WebhookPayload;
}

describe('webhook notifier: what the receiver gets', () => {
  it('POSTs the signed JSON document, which the receiver verifies and accepts', async () => {
    const r = await receiver(verifying(secret));
    const notification = sampleNotification();
    const notifier = createWebhookNotifier({ url: `${r.origin}/hooks/airlock?team=sre`, secret, headers: { Authorization: 'Bearer receiver-token' } });
    assert.equal(notifier.name, `webhook:${new URL(r.origin).host}`);

    await notifier.notify(notification);

    assert.equal(r.deliveries.length, 1);
    const [d] = r.deliveries;
    assert.equal(d!.method, 'POST');
    assert.equal(d!.url, '/hooks/airlock?team=sre');
    assert.equal(d!.headers['content-type'], 'application/json');
    assert.equal(d!.headers.authorization, 'Bearer receiver-token');
    assert.match(String(d!.headers['airlock-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
    const payload = payloadOf(d!.body);
    assert.equal(d!.headers['airlock-delivery'], payload.deliveryId);
    assert.match(payload.deliveryId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(!Number.isNaN(Date.parse(payload.sentAt)) && payload.sentAt === new Date(payload.sentAt).toISOString());
    assert.deepEqual(
      { type: payload.type, version: payload.version, event: payload.event, approval: payload.approval, links: payload.links, commands: payload.commands },
      { type: 'airlock.approval', version: 1, event: 'approval.requested', approval: notification.approval, links: notification.links, commands: notification.commands },
    );
  });

  it('a receiver refuses the delivery with one byte changed, with another secret, or once stale', async () => {
    const r = await receiver(answers(200));
    await createWebhookNotifier({ url: r.origin, secret }).notify(sampleNotification());
    const { body, headers } = r.deliveries[0]!;
    const header = headers['airlock-signature'];
    assert.deepEqual(verifySignature({ secret, body, header }), { ok: true });

    const tampered = Buffer.from(body);
    const at = tampered.indexOf('"debug"') + 1;
    tampered[at] = 'D'.charCodeAt(0);
    assert.deepEqual(verifySignature({ secret, body: tampered, header }), { ok: false, reason: 'signature-mismatch' });
    assert.deepEqual(verifySignature({ secret: 'whsec-someone-else', body, header }), { ok: false, reason: 'signature-mismatch' });
    const sentAt = Date.parse(payloadOf(body).sentAt);
    assert.deepEqual(verifySignature({ secret, body, header, now: new Date(sentAt + 301_000) }), { ok: false, reason: 'timestamp-outside-tolerance' });
  });

  it('a receiver with another secret refuses, and the notifier reports it without retrying', async () => {
    const r = await receiver(verifying('whsec-receiver-has-another'));
    const err = await createWebhookNotifier({ url: r.origin, secret, backoffMs: 1 }).notify(sampleNotification()).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof NotifyDeliveryError);
    assert.equal(r.deliveries.length, 1);
    assert.equal(err.status, 401);
    assert.match(err.message, /HTTP 401 "signature-mismatch" \(not retried\)/);
  });

  it('sends each event of the approval (decisions and expiry too)', async () => {
    const r = await receiver(verifying(secret));
    const notifier = createWebhookNotifier({ url: r.origin, secret });
    for (const event of ['approval.approved', 'approval.denied', 'approval.expired'] as const) {
      await notifier.notify(sampleNotification({ event }));
    }
    assert.deepEqual(r.deliveries.map((d) => payloadOf(d.body).event), ['approval.approved', 'approval.denied', 'approval.expired']);
    assert.equal(new Set(r.deliveries.map((d) => payloadOf(d.body).deliveryId)).size, 3);
  });
});

describe('webhook notifier: retries', () => {
  it('503, 503, 200: three deliveries with the same delivery id, each signed afresh, then resolves', async () => {
    const r = await receiver(answers(503, 503, 200));
    const { sleep, waits } = recordingSleep();
    await createWebhookNotifier({ url: r.origin, secret, backoffMs: 5 }, { sleep }).notify(sampleNotification());
    assert.equal(r.deliveries.length, 3);
    assert.equal(waits.length, 2);
    const ids = r.deliveries.map((d) => d.headers['airlock-delivery']);
    assert.equal(new Set(ids).size, 1);
    assert.equal(new Set(r.deliveries.map((d) => payloadOf(d.body).deliveryId)).size, 1);
    for (const d of r.deliveries) {
      assert.deepEqual(verifySignature({ secret, body: d.body, header: d.headers['airlock-signature'] }), { ok: true });
    }
  });

  it('retries for real (no injected sleep) with a small backoff', async () => {
    const r = await receiver(answers(500, 502, 204));
    await createWebhookNotifier({ url: r.origin, secret, backoffMs: 5 }).notify(sampleNotification());
    assert.equal(r.deliveries.length, 3);
  });

  it('retries 408, 429 and 5xx; gives up at once on other 4xx and on redirects', async () => {
    const cases: Array<[number, number]> = [[408, 3], [429, 3], [500, 3], [504, 3], [400, 1], [403, 1], [404, 1], [410, 1], [422, 1], [302, 1]];
    for (const [status, expected] of cases) {
      const r = await receiver(answers({ status, headers: status === 302 ? { location: 'http://127.0.0.1:9/elsewhere' } : {} }));
      const { sleep } = recordingSleep();
      const err = await createWebhookNotifier({ url: r.origin, secret, attempts: 3 }, { sleep }).notify(sampleNotification()).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof NotifyDeliveryError, `${status}`);
      assert.equal(r.deliveries.length, expected, `${status}: deliveries`);
      assert.equal(err.status, status);
      assert.equal(err.attempts, expected);
    }
  });

  it('a receiver answering 400 gets exactly one delivery, and the error quotes its reason', async () => {
    const r = await receiver(answers({ status: 400, body: 'unknown event type\n' }));
    await assert.rejects(
      createWebhookNotifier({ url: r.origin, secret, backoffMs: 1 }).notify(sampleNotification()),
      (err: Error) => {
        assert.match(err.message, /after 1 of 5 attempts: HTTP 400 "unknown event type" \(not retried\)$/);
        return true;
      },
    );
    assert.equal(r.deliveries.length, 1);
  });

  it('never 2xx: rejects after the last attempt, naming the origin but not the secret, path or query', async () => {
    const r = await receiver(answers(503));
    const url = `${r.origin}/hooks/T0-path-token?token=query-token-123`;
    const err = await createWebhookNotifier({ url, secret, attempts: 4, backoffMs: 1, headers: { authorization: 'Bearer header-token' } })
      .notify(sampleNotification()).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof NotifyDeliveryError);
    assert.equal(r.deliveries.length, 4);
    assert.equal(err.message, `webhook notification to ${r.origin} was not delivered after 4 of 4 attempts: HTTP 503`);
    assert.equal(err.origin, r.origin);
    for (const leak of [secret, 'T0-path-token', 'query-token-123', 'header-token']) {
      assert.ok(!err.message.includes(leak), leak);
      assert.ok(!JSON.stringify(err).includes(leak), leak);
    }
  });

  it('doubles the backoff with a little jitter, capped at 30 s', async () => {
    const r = await receiver(answers(503));
    const low = recordingSleep();
    await createWebhookNotifier({ url: r.origin, secret, attempts: 4, backoffMs: 100 }, { sleep: low.sleep, random: () => 0 })
      .notify(sampleNotification()).catch(() => undefined);
    assert.deepEqual(low.waits, [100, 200, 400]);

    const high = recordingSleep();
    await createWebhookNotifier({ url: r.origin, secret, attempts: 4, backoffMs: 100 }, { sleep: high.sleep, random: () => 0.999 })
      .notify(sampleNotification()).catch(() => undefined);
    assert.deepEqual(high.waits, [120, 240, 480]);

    const capped = recordingSleep();
    await createWebhookNotifier({ url: r.origin, secret, attempts: 4, backoffMs: 10_000 }, { sleep: capped.sleep, random: () => 0.5 })
      .notify(sampleNotification()).catch(() => undefined);
    assert.deepEqual(capped.waits, [11_000, 22_000, 30_000]);
  });

  it('waits as long as Retry-After says (seconds or a date) instead of the backoff, capped at 30 s', async () => {
    const now = Date.parse('2030-01-01T12:00:00Z');
    const r = await receiver(answers(
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 503, headers: { 'retry-after': 'Tue, 01 Jan 2030 12:00:07 GMT' } },
      { status: 429, headers: { 'retry-after': '3600' } },
      { status: 503, headers: { 'retry-after': 'soon' } },
      { status: 200 },
    ));
    const { sleep, waits } = recordingSleep();
    await createWebhookNotifier({ url: r.origin, secret, backoffMs: 5 }, { sleep, now: () => now, random: () => 0 }).notify(sampleNotification());
    assert.equal(r.deliveries.length, 5);
    assert.deepEqual(waits, [2000, 7000, 30_000, 40]);
  });

  it('honours a Retry-After of 0 for real', async () => {
    const r = await receiver(answers({ status: 429, headers: { 'retry-after': '0' } }, 200));
    await createWebhookNotifier({ url: r.origin, secret, backoffMs: 60_000 }).notify(sampleNotification());
    assert.equal(r.deliveries.length, 2);
  });

  it('retries a receiver that does not answer within timeoutMs, then says so', async () => {
    const r = await receiver(() => 'hang');
    const { sleep, waits } = recordingSleep();
    const err = await createWebhookNotifier({ url: r.origin, secret, attempts: 3, timeoutMs: 50 }, { sleep })
      .notify(sampleNotification()).then(() => undefined, (e: unknown) => e);
    // Counted on the notifier's side: how many requests reach a receiver that never answers
    // before each one is abandoned depends on the machine's load, not on the notifier.
    assert.ok(err instanceof NotifyDeliveryError);
    assert.equal(err.attempts, 3);
    assert.equal(waits.length, 2);
    assert.equal(err.status, undefined);
    assert.match(err.message, /after 3 of 3 attempts: no answer within 50 ms$/);
  });

  it('retries a connection that is refused', async () => {
    const r = await receiver(answers(200));
    const origin = r.origin;
    await r.close();
    receivers.splice(receivers.indexOf(r), 1);
    const { sleep, waits } = recordingSleep();
    const err = await createWebhookNotifier({ url: `${origin}/x?token=query-token-123`, secret, attempts: 3 }, { sleep })
      .notify(sampleNotification()).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof NotifyDeliveryError);
    assert.equal(waits.length, 2);
    assert.match(err.message, /after 3 of 3 attempts: ECONNREFUSED/);
    assert.equal(err.status, undefined);
    assert.ok(!err.message.includes('query-token-123'));
  });
});

describe('webhook notifier: https', () => {
  it('trusts the configured CA, and gives up at once on a certificate it cannot verify', async () => {
    const certs = generateTestCertificates();
    const r = await receiver(verifying(secret), { cert: certs.cert, key: certs.key });

    await createWebhookNotifier({ url: r.origin, secret, ca: certs.caCert }).notify(sampleNotification());
    assert.equal(r.deliveries.length, 1);

    const { sleep, waits } = recordingSleep();
    const err = await createWebhookNotifier({ url: r.origin, secret }, { sleep }).notify(sampleNotification()).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof NotifyDeliveryError);
    assert.match(err.message, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    assert.equal(waits.length, 0);
    assert.equal(r.deliveries.length, 1);
  });
});

describe('webhook notifier: options', () => {
  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no url', { secret }, /url is required/],
    ['a relative url', { url: '/hooks?token=query-token-123', secret }, /url is not an absolute URL/],
    ['ftp', { url: 'ftp://files.test/x', secret }, /must be http or https, not ftp/],
    ['credentials in the url', { url: 'https://user:pw-123@hooks.test/x', secret }, /put credentials in headers/],
    ['no secret', { url: 'https://hooks.test/x' }, /secret is required/],
    ['an empty secret', { url: 'https://hooks.test/x', secret: '' }, /secret is required/],
    ['zero attempts', { url: 'https://hooks.test/x', secret, attempts: 0 }, /attempts must be an integer ≥ 1/],
    ['a fractional timeout', { url: 'https://hooks.test/x', secret, timeoutMs: 1.5 }, /timeoutMs must be an integer/],
    ['a negative backoff', { url: 'https://hooks.test/x', secret, backoffMs: -1 }, /backoffMs must be an integer ≥ 0/],
    ['a ca without a certificate', { url: 'https://hooks.test/x', secret, ca: 'not pem' }, /ca holds no PEM certificate/],
    ['a header it sets itself', { url: 'https://hooks.test/x', secret, headers: { 'Airlock-Signature': 'x' } }, /header "Airlock-Signature" cannot be set/],
    ['a hop-by-hop header', { url: 'https://hooks.test/x', secret, headers: { connection: 'close' } }, /header "connection" cannot be set/],
    ['a header value with a newline', { url: 'https://hooks.test/x', secret, headers: { 'x-token': 'a\r\nx-evil: 1' } }, /header x-token must be a single-line string/],
  ];
  for (const [what, options, message] of invalid) {
    it(`refuses ${what} at startup, without quoting secrets`, () => {
      assert.throws(() => createWebhookNotifier(options as never), (err: unknown) => {
        assert.ok(isAirlockError(err, 'AIRLOCK_CONFIG_INVALID'));
        assert.match(err.message, message);
        for (const leak of ['query-token-123', 'pw-123', 'a\r\nx-evil']) assert.ok(!err.message.includes(leak));
        return true;
      });
    });
  }
});
