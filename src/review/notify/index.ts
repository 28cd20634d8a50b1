/**
 * Approval notifiers: how approvers hear that a request waits for them, and how it ended.
 * Channels are kinds in a registry (`webhooks`, `slack`, and any a deployment registers), built
 * from configuration at startup; `notifyAll` fans one event out to every channel and reports
 * each outcome, so the caller can record `approval.notified` per channel. Receivers of the
 * generic webhook verify deliveries with `verifySignature` (see ./README.md).
 */
import { AirlockError, errorCatalog, isAirlockError } from '../../errors.js';
import type { ApprovalNotification, Notifier } from '../types.js';
import { createSlackNotifier, type SlackNotifierOptions } from './slack.js';
import { createWebhookNotifier, type WebhookNotifierOptions } from './webhook.js';

export { NotifyDeliveryError, type RetryOptions } from './delivery.js';
export { signatureHeader, signPayload, verifySignature, type SignatureFailure, type SignatureVerdict, type VerifySignatureOptions } from './signature.js';
export { buildSlackMessage, escapeMrkdwn, type SlackMessage } from './slack-message.js';
export { createSlackNotifier, type SlackNotifierOptions } from './slack.js';
export { createWebhookNotifier, deliveryHeader, type WebhookNotifierOptions, type WebhookPayload } from './webhook.js';

/** The notifier configuration: one list of channel entries per kind. */
export interface NotifiersConfig {
  webhooks?: WebhookNotifierOptions[];
  slack?: SlackNotifierOptions[];
  /** Kinds added with registerNotifierKind. */
  [kind: string]: readonly unknown[] | undefined;
}

/** Builds one channel from its configuration entry; throws AIRLOCK_CONFIG_INVALID when the entry cannot work. */
export type NotifierFactory<Entry> = (entry: Entry) => Notifier;

/** What happened on one channel. `error` says why it gave up, without URLs' paths or secrets. */
export type NotifyResult = { name: string; ok: true } | { name: string; ok: false; error: string };

const factories = new Map<string, NotifierFactory<never>>([
  ['webhooks', createWebhookNotifier as NotifierFactory<never>],
  ['slack', createSlackNotifier as NotifierFactory<never>],
]);

/**
 * registerNotifierKind adds a channel kind, configured as `notifiers.<kind>: [entry, …]`.
 * Registering a kind twice throws: a plug-in must not silently replace a built-in channel.
 *
 * @example
 * registerNotifierKind<{ routingKey: string }>('pagerduty', (entry) => createPagerDutyNotifier(entry));
 */
export function registerNotifierKind<Entry>(kind: string, factory: NotifierFactory<Entry>): void {
  if (!/^[a-z][a-z0-9-]*$/.test(kind)) throw new TypeError(`notifier kind ${JSON.stringify(kind)} must be lowercase letters, digits and dashes`);
  if (factories.has(kind)) throw new TypeError(`notifier kind ${kind} is already registered`);
  factories.set(kind, factory as NotifierFactory<never>);
}

/**
 * createNotifiers builds every configured channel, in configuration order. It throws
 * AIRLOCK_CONFIG_INVALID naming the entry (`notifiers.webhooks[1]`) when a kind is unknown or
 * an entry is invalid, so a mistake stops startup instead of silencing approvals.
 */
export function createNotifiers(config: NotifiersConfig): Notifier[] {
  const notifiers: Notifier[] = [];
  for (const [kind, entries] of Object.entries(config)) {
    if (entries === undefined) continue;
    const factory = factories.get(kind);
    if (!factory) {
      throw new AirlockError('AIRLOCK_CONFIG_INVALID', `notifiers.${kind}: unknown notifier kind (known: ${[...factories.keys()].join(', ')})`);
    }
    if (!Array.isArray(entries)) throw new AirlockError('AIRLOCK_CONFIG_INVALID', `notifiers.${kind} must be a list`);
    entries.forEach((entry: unknown, i) => {
      try {
        notifiers.push((factory as NotifierFactory<unknown>)(entry));
      } catch (err) {
        throw new AirlockError('AIRLOCK_CONFIG_INVALID', `notifiers.${kind}[${i}]: ${reason(err)}`, { cause: err });
      }
    });
  }
  return notifiers;
}

/**
 * notifyAll sends one notification on every channel at once and calls `onResult` as each one
 * finishes. It never rejects, whatever a channel or `onResult` does: one broken channel must
 * not keep the others from being told. Resolves with every result, in the notifiers' order.
 */
export async function notifyAll(
  notifiers: readonly Notifier[],
  notification: ApprovalNotification,
  onResult?: (result: NotifyResult) => void,
): Promise<NotifyResult[]> {
  return Promise.all(notifiers.map(async (notifier): Promise<NotifyResult> => {
    let result: NotifyResult;
    try {
      await notifier.notify(notification);
      result = { name: notifier.name, ok: true };
    } catch (err) {
      result = { name: notifier.name, ok: false, error: reason(err) };
    }
    try {
      onResult?.(result);
    } catch {
      // The result is still returned; a reporter that throws must not stop the fan-out.
    }
    return result;
  }));
}

/** reason is an error's message without the catalog's prefix (the caller adds its own context). */
function reason(err: unknown): string {
  if (isAirlockError(err)) {
    const prefix = `${errorCatalog[err.code].message}: `;
    return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
