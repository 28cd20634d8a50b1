/**
 * The `review` section: how requests that policy sends to review wait for approvers, who the
 * approvers are, how long approvals and grants last, and where approvers are notified.
 */
import * as z from 'zod';
import { booleanSchema, durationSchema, urlSchema } from './fields.js';

const positiveDuration = durationSchema.refine((ms) => ms > 0, { error: 'expected a duration longer than 0' });

/** `group:NAME` or `user:SUBJECT`. */
const principalSchema = z
  .string()
  .regex(/^(group|user):.+$/, { error: 'expected group:NAME or user:SUBJECT' });

const webhookSchema = z.strictObject({
  url: urlSchema(['http', 'https'], 'https://hooks.example.com/airlock'),
  /** The HMAC-SHA256 key the receiver verifies `airlock-signature` with; use ${ENV_VAR}. */
  secret: z.string().min(16, { error: 'expected a secret of at least 16 characters' }),
  headers: z.record(z.string(), z.string()).optional(),
});

const slackSchema = z.strictObject({
  /** A Slack incoming-webhook URL; use ${ENV_VAR}, it is a credential. */
  url: urlSchema(['https'], 'https://hooks.slack.com/services/T000/B000/XXXX'),
});

export const reviewSchema = z
  .strictObject({
    /** How long a request waiting for approval is held open before the caller is told to retry (429). */
    holdTimeout: positiveDuration.prefault('30s'),
    /** Retry-After sent with the 429 (client-go waits this long, then asks again). */
    retryAfter: positiveDuration.prefault('1s'),
    /** A pending approval request not decided by then expires and can no longer be approved. */
    requestTtl: positiveDuration.prefault('1h'),
    /** An approved single-request grant must be used within this time. */
    grantTtl: positiveDuration.prefault('15m'),
    /**
     * How long an approval that can no longer let anything through (denied, expired, used,
     * revoked; a denial only once its request would have expired) stays listed by `airlock
     * approvals` and held in memory. The ledger keeps every approval for good.
     */
    retain: positiveDuration.prefault('24h'),
    /**
     * Who holds which role, by group or user. `approver`: may approve or deny requests whose rule
     * names them (or any request, when the rule names no one). `admin`: may also revoke grants.
     * `auditor`: may list and read approvals. Requesters never approve their own requests.
     */
    roles: z
      .strictObject({
        admin: z.array(principalSchema).default(['group:airlock:admins']),
        approver: z.array(principalSchema).default(['group:airlock:approvers']),
        auditor: z.array(principalSchema).default(['group:airlock:auditors']),
      })
      .prefault({}),
    notify: z
      .strictObject({
        webhooks: z.array(webhookSchema).default([]),
        slack: z.array(slackSchema).default([]),
      })
      .prefault({}),
    /** Include the cluster's dry-run result in approval requests for Kubernetes writes. */
    preview: booleanSchema.default(true),
  })
  .prefault({});

export type ReviewConfig = z.output<typeof reviewSchema>;
