/**
 * The generic webhook notifier: each approval event is POSTed as one signed JSON document to a
 * URL the operator chose (a chat bridge, a ticketing system, an on-call tool), retried until the
 * receiver answers 2xx. The body format and how a receiver checks it are in ./README.md.
 */
import { randomUUID } from 'node:crypto';
import { AirlockError } from '../../errors.js';
import type { ApprovalEvent, ApprovalNotification, ApprovalRequest, Notifier } from '../types.js';
import { buildDeliveryTarget, defaultDeliveryDeps, deliver, type DeliveryDeps, type RetryOptions } from './delivery.js';
import { signatureHeader, signPayload } from './signature.js';

/** The header that carries the delivery id; the same on every attempt of one notification. */
export const deliveryHeader = 'airlock-delivery';

export interface WebhookNotifierOptions extends RetryOptions {
  /** http or https. */
  url: string;
  /** The HMAC key shared with the receiver. */
  secret: string;
  /** Sent with every delivery, e.g. `authorization` for a receiver behind a gateway. */
  headers?: Record<string, string>;
  /** PEM: the only CA trusted for an https url. */
  ca?: string;
}

/** The JSON body of a delivery. */
export interface WebhookPayload {
  type: 'airlock.approval';
  version: 1;
  event: ApprovalEvent;
  approval: ApprovalRequest;
  links: ApprovalNotification['links'];
  commands: ApprovalNotification['commands'];
  /** When this attempt was sent (ISO 8601). */
  sentAt: string;
  /** A UUID, the same on every attempt: receivers drop a delivery id they already processed. */
  deliveryId: string;
}

export interface WebhookDeps extends DeliveryDeps {
  randomUUID: () => string;
}

/**
 * createWebhookNotifier checks its options now and throws AIRLOCK_CONFIG_INVALID when the url is
 * not http(s), the secret is missing, or a header would clash with the ones it sets.
 * Its `notify` resolves once the receiver answers 2xx and rejects with a NotifyDeliveryError
 * (naming the URL's origin only) when it gives up.
 *
 * @example
 * const notifier = createWebhookNotifier({ url: 'https://hooks.example.com/airlock', secret });
 * await notifier.notify(notification); // notifier.name === 'webhook:hooks.example.com'
 */
export function createWebhookNotifier(options: WebhookNotifierOptions, deps: Partial<WebhookDeps> = {}): Notifier {
  const target = buildDeliveryTarget('webhook', options.url, options);
  if (typeof options.secret !== 'string' || options.secret.length === 0) {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `webhook notifier for ${target.url.origin}: secret is required (the key receivers verify ${signatureHeader} with)`);
  }
  const secret = options.secret;
  const extraHeaders = checkHeaders(target.url.origin, options.headers ?? {});
  const { randomUUID: newId = randomUUID, ...rest } = deps;
  const deliveryDeps: DeliveryDeps = { ...defaultDeliveryDeps, ...rest };

  return {
    name: `webhook:${target.url.host}`,
    async notify(notification: ApprovalNotification): Promise<void> {
      const deliveryId = newId();
      await deliver(target, () => {
        const now = deliveryDeps.now();
        const payload: WebhookPayload = {
          type: 'airlock.approval',
          version: 1,
          event: notification.event,
          approval: notification.approval,
          links: notification.links,
          commands: notification.commands,
          sentAt: new Date(now).toISOString(),
          deliveryId,
        };
        const body = JSON.stringify(payload);
        return {
          body,
          headers: {
            ...extraHeaders,
            'content-type': 'application/json',
            [deliveryHeader]: deliveryId,
            [signatureHeader]: signPayload(secret, body, Math.floor(now / 1000)),
          },
        };
      }, deliveryDeps);
    },
  };
}

/** Headers the notifier sets itself, or that HTTP/1.1 reserves for the connection. */
const reservedHeaders = new Set([
  'content-type', 'content-length', 'host', 'connection', 'keep-alive', 'transfer-encoding', 'te',
  'trailer', 'upgrade', 'expect', signatureHeader, deliveryHeader,
]);

function checkHeaders(origin: string, headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) || reservedHeaders.has(name)) {
      throw new AirlockError('AIRLOCK_CONFIG_INVALID', `webhook notifier for ${origin}: header ${JSON.stringify(rawName)} cannot be set`);
    }
    // The value is not quoted back: it is usually a credential.
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      throw new AirlockError('AIRLOCK_CONFIG_INVALID', `webhook notifier for ${origin}: header ${name} must be a single-line string`);
    }
    out[name] = value;
  }
  return out;
}
