/**
 * The Slack notifier: posts each approval event to a Slack incoming webhook
 * (https://api.slack.com/messaging/webhooks), as the Block Kit message of ./slack-message.ts.
 * The webhook URL is the credential (its path holds the token), so errors name only its origin.
 * Slack answers 429 with `Retry-After` when a channel is posted to too fast; that and 5xx are
 * retried, while its 4xx refusals (`invalid_payload`, `no_service`, `channel_is_archived`) are
 * reported at once with Slack's reason.
 */
import type { ApprovalNotification, Notifier } from '../types.js';
import { buildDeliveryTarget, defaultDeliveryDeps, deliver, type DeliveryDeps, type RetryOptions } from './delivery.js';
import { buildSlackMessage } from './slack-message.js';

export interface SlackNotifierOptions extends RetryOptions {
  /** The incoming-webhook URL, `https://hooks.slack.com/services/…`. */
  url: string;
}

/**
 * createSlackNotifier checks its options now and throws AIRLOCK_CONFIG_INVALID when the url is
 * not http(s). Its `notify` resolves once Slack accepts the message and rejects with a
 * NotifyDeliveryError (naming the URL's origin only) when it gives up.
 *
 * @example
 * const slack = createSlackNotifier({ url: process.env.SLACK_WEBHOOK_URL! });
 * await slack.notify(notification); // slack.name === 'slack:hooks.slack.com'
 */
export function createSlackNotifier(options: SlackNotifierOptions, deps: Partial<DeliveryDeps> = {}): Notifier {
  const target = buildDeliveryTarget('slack', options.url, options);
  const deliveryDeps: DeliveryDeps = { ...defaultDeliveryDeps, ...deps };
  return {
    name: `slack:${target.url.host}`,
    async notify(notification: ApprovalNotification): Promise<void> {
      const body = JSON.stringify(buildSlackMessage(notification));
      await deliver(target, () => ({ body, headers: { 'content-type': 'application/json' } }), deliveryDeps);
    },
  };
}
