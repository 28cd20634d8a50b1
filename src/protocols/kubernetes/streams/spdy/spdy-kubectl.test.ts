/**
 * A real Go client against the SPDY code: kubectl 1.27 (SPDY by default for exec) talks to a tiny
 * server written here that answers the upgrade with 101 SPDY/3.1, reads every frame with
 * SpdySession, answers each SYN_STREAM with a SYN_REPLY compressed by HeaderDeflater (kubectl
 * waits for it), echoes stdin to stdout and closes the streams. If the dictionary, the zlib
 * state or a frame layout were wrong, kubectl or the session would fail.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { encodeDataFrame, encodeSynReply } from './spdy-frame-encoder.js';
import { HeaderDeflater } from './spdy-headers.js';
import { SpdySession, type SpdySessionEvent } from './spdy-session.js';

function findKubectl127(): string | undefined {
  try {
    const kubectl = realpathSync(execFileSync('which', ['kubectl'], { encoding: 'utf8' }).trim());
    const versioned = join(dirname(kubectl), 'kubectl.1.27');
    return existsSync(versioned) ? versioned : undefined;
  } catch {
    return undefined;
  }
}

const kubectl = findKubectl127();
const pod = {
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
  spec: { containers: [{ name: 'app', image: 'busybox' }] }, status: { phase: 'Running' },
};

/** Just enough discovery for kubectl to resolve `pods`. */
const discovery: Record<string, unknown> = {
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] },
  '/apis': { kind: 'APIGroupList', apiVersion: 'v1', groups: [] },
  '/api/v1': {
    kind: 'APIResourceList', groupVersion: 'v1',
    resources: [
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] },
      { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
    ],
  },
};

interface Capture { upgrade?: IncomingMessage; events: SpdySessionEvent[]; errors: unknown[] }

/** serveExec plays the kubelet's part of remotecommand v4: echo stdin on stdout, exit 0. */
function serveExec(socket: Socket, head: Buffer, capture: Capture): void {
  const session = new SpdySession();
  const deflater = new HeaderDeflater();
  const ids = new Map<string, number>();
  const onChunk = (chunk: Buffer): void => {
    let events: SpdySessionEvent[];
    try {
      events = session.observe('client', chunk);
    } catch (err) {
      capture.errors.push(err);
      socket.destroy();
      return;
    }
    for (const event of events) {
      capture.events.push(event);
      if (event.kind === 'stream-open') {
        ids.set(event.stream.streamType ?? '?', event.stream.id);
        socket.write(encodeSynReply(event.stream.id, deflater.compress({})));
      }
      if (event.kind === 'data' && event.streamType === 'stdin') {
        const stdout = ids.get('stdout');
        if (stdout !== undefined && event.bytes.byteLength > 0) socket.write(encodeDataFrame(stdout, event.bytes));
        if (event.fin) {
          for (const type of ['stdout', 'stderr', 'error']) {
            const id = ids.get(type);
            if (id !== undefined) socket.write(encodeDataFrame(id, new Uint8Array(0), { fin: true }));
          }
        }
      }
    }
  };
  socket.on('data', onChunk);
  socket.on('error', () => undefined);
  if (head.byteLength > 0) onChunk(head);
}

let server: Server;
let port = 0;
let workDir = '';
const capture: Capture = { events: [], errors: [] };

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'airlock-spdy-'));
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const body = path === '/api/v1/namespaces/default/pods/web' ? pod : discovery[path];
    if (req.method === 'GET' && body !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404 }));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    capture.upgrade = req;
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
      'X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
    serveExec(socket, head, capture);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(workDir, { recursive: true, force: true });
});

function runKubectl(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const kubeconfig = join(workDir, 'kubeconfig');
  writeFileSync(kubeconfig, '');
  const child = spawn(kubectl as string, [`--server=http://127.0.0.1:${port}`, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: workDir, KUBECONFIG: kubeconfig, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('kubectl 1.27 exec -i over SPDY: every frame decodes, streams carry their types, stdin is echoed back', { skip: kubectl === undefined ? 'kubectl.1.27 not installed' : false, timeout: 60_000 }, async () => {
  const result = await runKubectl(['exec', '-i', 'web', '-c', 'app', '--', 'cat'], 'secret-free input\n');
  assert.deepEqual(capture.errors, []);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'secret-free input\n');

  assert.equal(capture.upgrade?.method, 'POST');
  assert.equal(capture.upgrade?.headers.upgrade, 'SPDY/3.1');
  assert.match(String(capture.upgrade?.headers['x-stream-protocol-version']), /v4\.channel\.k8s\.io/);

  const opened = capture.events.flatMap((e) => (e.kind === 'stream-open' ? [e.stream] : []));
  assert.deepEqual(opened.map((s) => s.streamType), ['error', 'stdin', 'stdout', 'stderr']);
  assert.deepEqual(opened.map((s) => s.id), [1, 3, 5, 7], 'the client opens odd ids in order');
  for (const stream of opened) assert.deepEqual(stream.headers.streamtype, [stream.streamType]);

  const stdin = capture.events.flatMap((e) => (e.kind === 'data' && e.streamType === 'stdin' ? [e] : []));
  assert.equal(Buffer.concat(stdin.map((e) => e.bytes)).toString(), 'secret-free input\n');
  assert.equal(stdin.at(-1)?.fin, true, 'stdin is half-closed at EOF');
});
