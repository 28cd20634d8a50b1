/**
 * Test material for the notifiers: a sample approval notification, and a real node:http
 * receiver that records every delivery and answers from a script.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ApprovalNotification } from '../types.js';

/** sampleNotification is a pending approval as the review stage would announce it. */
export function sampleNotification(overrides: Partial<ApprovalNotification> = {}): ApprovalNotification {
  const id = 'apr-0123456789abcdefghijklmnop';
  return {
    event: 'approval.requested',
    approval: {
      id,
      state: 'pending',
      connection: 'prod',
      requester: { subject: 'agent:deploy-bot', issuer: 'https://issuer.test', groups: ['ci'], kind: 'agent' },
      request: {
        protocol: 'kubernetes',
        method: 'DELETE',
        target: '/api/v1/namespaces/default/pods/debug',
        summary: 'delete pods "debug" in default',
        action: { verb: 'delete', resource: 'pods', namespace: 'default', name: 'debug' },
      },
      rules: ['review-deletes'],
      message: 'deleting pods needs a second pair of eyes',
      approvers: ['group:sre'],
      approvalsRequired: 1,
      approvals: [],
      digest: 'a'.repeat(64),
      grant: { kind: 'request' },
      createdAt: '2030-01-01T12:00:00.000Z',
      expiresAt: '2030-01-01T12:15:00.000Z',
      requestEntryId: '00000000000000000001',
    },
    links: {
      show: `https://airlock.test:8444/approvals/${id}`,
      approve: `https://airlock.test:8444/approvals/${id}/approve`,
      deny: `https://airlock.test:8444/approvals/${id}/deny`,
    },
    commands: {
      approve: `airlock approvals approve ${id}`,
      deny: `airlock approvals deny ${id} --reason "…"`,
    },
    ...overrides,
  };
}

/** One request as the receiver saw it. */
export interface Delivery {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The raw body bytes. */
  body: Buffer;
}

/** What the receiver answers; called with the delivery and its 0-based index. */
export type Answer = (delivery: Delivery, index: number) => { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface Receiver {
  /** `http://127.0.0.1:<port>` (or https://localhost:<port>). */
  origin: string;
  deliveries: Delivery[];
  close(): Promise<void>;
}

/**
 * startReceiver listens on an ephemeral port and answers each request as `answer` says;
 * `'hang'` never answers (the connection is dropped on close). With `tls`, it serves https.
 */
export async function startReceiver(answer: Answer, tls?: { cert: string; key: string }): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const delivery: Delivery = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      const index = deliveries.push(delivery) - 1;
      const reply = answer(delivery, index);
      if (reply === 'hang') return;
      res.writeHead(reply.status, reply.headers).end(reply.body ?? '');
    });
  };
  const server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${tls ? 'https://localhost' : 'http://127.0.0.1'}:${port}`,
    deliveries,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** answers replies with the statuses in order, then with the last one. */
export function answers(...statuses: Array<number | { status: number; headers?: Record<string, string>; body?: string }>): Answer {
  return (_delivery, index) => {
    const reply = statuses[Math.min(index, statuses.length - 1)] ?? 200;
    return typeof reply === 'number' ? { status: reply } : reply;
  };
}

/** recordingSleep is a DeliveryDeps.sleep that records each wait and does not wait. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => { waits.push(ms); } };
}
