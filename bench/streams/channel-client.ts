/**
 * A minimal exec client speaking `v5.channel.k8s.io`, as kubectl ≥1.30 does: every binary
 * message is one channel byte (0 stdin, 1 stdout, 2 stderr, 3 error, 255 CLOSE) and the
 * payload. It is the same client for both routes, so whatever it costs is paid on each side
 * of the ratio; it does no work per byte beyond counting, so the stream is what is measured.
 */
import WebSocket, { type RawData } from 'ws';

const STDIN = 0;
const STDOUT = 1;
const ERROR = 3;
const CLOSE = 255;

/** Where to open exec sessions: the API base URL (direct or airlock's `/k8s/<connection>`). */
export interface ExecTarget {
  name: string;
  /** `https://host:port` plus any path prefix, without a trailing slash */
  base: string;
  /** bearer token; none for kubectl proxy, which adds its own */
  token?: string;
  /** CA of an https base */
  ca?: string;
  namespace: string;
  pod: string;
  /** the gateway's process, whose CPU and RSS the benchmark reads (none for direct) */
  pid?: number;
}

function execUrl(t: ExecTarget, command: string[], stdin: boolean): string {
  const q = new URLSearchParams();
  for (const c of command) q.append('command', c);
  if (stdin) q.set('stdin', 'true');
  q.set('stdout', 'true');
  q.set('stderr', 'true');
  return `${t.base.replace(/^http/, 'ws')}/api/v1/namespaces/${t.namespace}/pods/${t.pod}/exec?${q}`;
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** openExec completes the WebSocket handshake and rejects if the gateway refuses it. */
function openExec(t: ExecTarget, command: string[], stdin: boolean): Promise<WebSocket> {
  const ws = new WebSocket(execUrl(t, command, stdin), ['v5.channel.k8s.io'], {
    ...(t.ca ? { ca: t.ca } : {}),
    headers: t.token ? { authorization: `Bearer ${t.token}` } : {},
    perMessageDeflate: false,
    maxPayload: 16 * 1024 * 1024,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      if (ws.protocol !== 'v5.channel.k8s.io') reject(new Error(`${t.name}: server chose subprotocol "${ws.protocol}"`));
      else resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(new Error(`${t.name}: exec refused with HTTP ${res.statusCode}: ${body.slice(0, 500)}`)));
    });
    ws.once('error', reject);
  });
}

/** What one `cat FILE` session delivered. */
export interface Download {
  stdoutBytes: number;
  /** stdout messages received (frames of at most 32 KiB from the fake) */
  messages: number;
  /** handshake start → first stdout byte (includes the fake's 25 ms stand-in for the kubelet dial) */
  firstByteMs: number;
  /** first stdout byte → last stdout byte: what MB/s is computed from */
  streamMs: number;
  /** handshake start → close */
  totalMs: number;
  /** the exit Status the error channel carried */
  status: string;
  /** how many stdout messages contained a masking placeholder */
  maskedMessages: number;
}

/** download runs `cat FILE` and counts its stdout until the server closes the session. */
export async function download(t: ExecTarget, file: string): Promise<Download> {
  const start = process.hrtime.bigint();
  const ws = await openExec(t, ['cat', file], false);
  let first: bigint | undefined;
  let last = start;
  let stdoutBytes = 0;
  let messages = 0;
  let maskedMessages = 0;
  let status = '';
  ws.on('message', (raw: RawData) => {
    const data = asBuffer(raw);
    const channel = data[0];
    if (channel === STDOUT) {
      last = process.hrtime.bigint();
      first ??= last;
      stdoutBytes += data.length - 1;
      messages++;
      if (data.indexOf('[masked', 1, 'latin1') !== -1) maskedMessages++;
    } else if (channel === ERROR) status += data.subarray(1).toString('utf8');
  });
  const end = await new Promise<bigint>((resolve, reject) => {
    ws.once('close', () => resolve(process.hrtime.bigint()));
    ws.once('error', reject);
  });
  const ms = (a: bigint, b: bigint) => Number(b - a) / 1e6;
  return {
    stdoutBytes,
    messages,
    firstByteMs: first ? ms(start, first) : Number.NaN,
    streamMs: first ? ms(first, last) : Number.NaN,
    totalMs: ms(start, end),
    status,
    maskedMessages,
  };
}

/** What a run of keystrokes through one `cat` session measured. */
export interface Keystrokes {
  /** round-trip of each timed keystroke, in milliseconds */
  roundTripsMs: number[];
  status: string;
}

/**
 * keystrokes opens `cat` with stdin and, one at a time, sends `key` on stdin and waits until
 * it comes back on stdout, as a person typing into a shell sees the echo. The first `warmup`
 * keystrokes are not timed. It then half-closes stdin (v5 CLOSE), so `cat` exits.
 */
export async function keystrokes(t: ExecTarget, count: number, warmup: number, key: number): Promise<Keystrokes> {
  const ws = await openExec(t, ['cat'], true);
  let status = '';
  let waiter: { resolve: (at: bigint) => void; reject: (err: Error) => void } | undefined;
  let pending = 0;
  ws.on('message', (raw: RawData) => {
    const data = asBuffer(raw);
    if (data[0] === ERROR) status += data.subarray(1).toString('utf8');
    if (data[0] !== STDOUT) return;
    pending -= data.length - 1;
    if (pending <= 0 && waiter) {
      const w = waiter;
      waiter = undefined;
      w.resolve(process.hrtime.bigint());
    }
  });
  const closed = new Promise<void>((resolve, reject) => {
    ws.once('close', () => {
      waiter?.reject(new Error(`${t.name}: the session closed mid-keystroke (status ${status || 'none'})`));
      resolve();
    });
    ws.once('error', reject);
  });
  const frame = Buffer.from([STDIN, key]);
  const roundTripsMs: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const echoed = new Promise<bigint>((resolve, reject) => (waiter = { resolve, reject }));
    pending = 1;
    const sent = process.hrtime.bigint();
    ws.send(frame);
    const back = await echoed;
    if (i >= warmup) roundTripsMs.push(Number(back - sent) / 1e6);
  }
  ws.send(Buffer.from([CLOSE, STDIN]));
  await closed;
  return { roundTripsMs, status };
}
