/**
 * The Slack message for an approval event, in Block Kit
 * (https://api.slack.com/reference/block-kit/blocks). A request gets the full card: what was
 * asked, by whom, where, which rules, how many approvals, the expiry, buttons to review, approve
 * or deny, and the CLI lines; a decision or expiry gets one short line.
 *
 * Everything a requester or policy author wrote (the summary, the subject, the rule message,
 * names) is escaped: Slack reads `&`, `<` and `>` as control characters in mrkdwn
 * (https://api.slack.com/reference/surfaces/formatting#escaping), so an unescaped
 * `<!channel>` in a pod name would page a whole channel, and `<https://evil|Approve>` would
 * be a link that lies. Text is clipped to Slack's per-field limits, which otherwise reject the
 * whole message.
 */
import type { ApprovalNotification, ApprovalRequest } from '../types.js';

/** The JSON body of a Slack incoming-webhook POST. */
export interface SlackMessage {
  /** The notification's plain fallback (shown in notifications and by clients without blocks). */
  text: string;
  blocks: SlackBlock[];
}

export type SlackBlock = Record<string, unknown> & { type: string };

/** Slack's limits for section text and section fields. */
const sectionLimit = 3000;
const fieldLimit = 2000;
/** What one piece of user text may take, so that a whole block stays within those limits. */
const summaryLimit = 1000;
const pieceLimit = 500;

/** escapeMrkdwn makes user text literal in Slack mrkdwn: `&`, `<`, `>` become entities. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** buildSlackMessage returns the message for one approval event. */
export function buildSlackMessage(notification: ApprovalNotification): SlackMessage {
  const { approval } = notification;
  const summary = userText(approval.request.summary, summaryLimit);
  const id = userText(approval.id, pieceLimit);
  switch (notification.event) {
    case 'approval.requested':
      return requested(notification);
    case 'approval.approved': {
      const by = userText(approval.approvals.map((v) => v.subject).join(', '), pieceLimit) || 'approvers';
      const until = approval.grant.expiresAt ? `, usable until ${slackDate(approval.grant.expiresAt)}` : '';
      return short(notification, `:white_check_mark: *Approved* by ${by}${until}: ${summary} (\`${id}\`)`, `airlock: request approved: ${summary} (${id})`);
    }
    case 'approval.denied': {
      const by = approval.denial ? userText(approval.denial.subject, pieceLimit) : 'an approver';
      const reason = approval.denial?.reason ? ` — ${userText(approval.denial.reason, pieceLimit)}` : '';
      return short(notification, `:no_entry: *Denied* by ${by}${reason}: ${summary} (\`${id}\`)`, `airlock: request denied: ${summary} (${id})`);
    }
    case 'approval.expired':
      return short(notification, `:hourglass: *Expired* without a decision: ${summary} (\`${id}\`)`, `airlock: approval expired: ${summary} (${id})`);
  }
}

function requested(notification: ApprovalNotification): SlackMessage {
  const { approval, links, commands } = notification;
  const summary = userText(approval.request.summary, summaryLimit);
  const id = userText(approval.id, pieceLimit);
  const requester = approval.requester;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: ':lock: airlock approval requested', emoji: true } },
    section(`*${summary}*${approval.message ? `\n${userText(approval.message, summaryLimit)}` : ''}`),
    {
      type: 'section',
      fields: [
        field('Requested by', `${userText(requester.subject, pieceLimit)} (${requester.kind})`),
        field('Connection', userText(approval.connection, pieceLimit)),
        field('Rules', userText(approval.rules.join(', '), pieceLimit) || '—'),
        field('Approvals needed', approvalsNeeded(approval)),
        field('Expires', slackDate(approval.expiresAt)),
        field('Approval', `\`${id}\``),
      ],
    },
    {
      type: 'actions',
      block_id: 'airlock-approval',
      elements: [
        button('Review', links.show, 'review'),
        button('Approve', links.approve, 'approve', 'primary'),
        button('Deny', links.deny, 'deny', 'danger'),
      ],
    },
    section(`From the command line:\n\`\`\`${escapeMrkdwn(commands.approve)}\n${escapeMrkdwn(commands.deny)}\`\`\``),
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: clip(`${userText(`${approval.request.method} ${approval.request.target}`, summaryLimit)} · ${grantText(approval)}`, sectionLimit) }],
    },
  ];
  return { text: `airlock approval requested: ${summary} (${id})`, blocks };
}

function short(notification: ApprovalNotification, line: string, text: string): SlackMessage {
  const block = { ...section(line), accessory: button('Review', notification.links.show, 'review') };
  return { text, blocks: [block] };
}

function approvalsNeeded(approval: ApprovalRequest): string {
  const from = approval.approvers.length > 0 ? ` from ${userText(approval.approvers.join(', '), pieceLimit)}` : '';
  const given = approval.approvals.length > 0 ? ` (${approval.approvals.length} given)` : '';
  return `${approval.approvalsRequired}${from}${given}`;
}

function grantText(approval: ApprovalRequest): string {
  return approval.grant.kind === 'window'
    ? `approving opens a window${approval.grant.window ? ` of ${userText(approval.grant.window, pieceLimit)}` : ''} for matching requests`
    : 'approving allows this exact request once';
}

/** slackDate shows an ISO time in each reader's own time zone, with the ISO text as fallback. */
function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;
}

/** userText escapes text someone other than airlock wrote, and clips it to `max`. */
function userText(text: string, max: number): string {
  return clip(escapeMrkdwn(text), max);
}

function section(text: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, sectionLimit) } };
}

function field(label: string, value: string): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: clip(`*${label}*\n${value}`, fieldLimit) };
}

function button(text: string, url: string, actionId: string, style?: 'primary' | 'danger'): SlackBlock {
  return {
    type: 'button',
    text: { type: 'plain_text', text },
    url,
    action_id: `airlock-${actionId}`,
    ...(style && { style }),
  };
}

/**
 * clip shortens escaped mrkdwn to `max` characters with an ellipsis, never cutting an entity
 * (`&amp;`) or a surrogate pair in half, so a clipped text still shows what it began with.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  const amp = cut.lastIndexOf('&');
  if (amp !== -1 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
