/**
 * Workload generators for the masking benchmark: a SecretList or a watch stream of a given
 * size, produced on demand as a Readable in 64 KiB chunks, so the benchmark never holds the
 * body it measures. Items cycle through 64 pre-built Secrets, so generation costs a copy, not
 * JSON work. Two mixes:
 *
 * - `credentials` (the worst case for masking): small Secrets only, credentials and TLS pairs,
 *   half with a last-applied annotation: about one value to hash per 600 bytes.
 * - `cluster`: the same, plus one Helm release Secret (`sh.helm.release.v1`, one ~48 KiB
 *   value) in eight, as in clusters that deploy with Helm: most bytes are a few large values.
 *
 * Every clear value starts with `benchclear`, so a sink can count leaks: `CLEAR_NEEDLE` is
 * the base64 of that prefix as it appears at the start of a data value.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** CLEAR_NEEDLE is what a clear data value looks like in base64 (the prefix `benchclear-`). */
export const CLEAR_NEEDLE = Buffer.from('benchclear-').toString('base64').slice(0, 14);

const CHUNK_BYTES = 64 * 1024;

function clear(bytes: number): string {
  return Buffer.from(`benchclear-${randomBytes(bytes).toString('hex')}`).toString('base64');
}

/** Mix names the kind of Secrets a workload is made of (see the module comment). */
export type Mix = 'credentials' | 'cluster';

function item(i: number, withKind: boolean, mix: Mix): Record<string, unknown> {
  const name = `secret-${i}`;
  const helm = mix === 'cluster' && i % 8 === 7;
  const data: Record<string, string> = helm ? { release: clear(18_000) } : { username: clear(6), password: clear(16) };
  if (i % 4 === 0) data['tls.crt'] = clear(900);
  if (i % 4 === 0) data['tls.key'] = clear(600);
  const metadata: Record<string, unknown> = {
    name,
    namespace: 'prod',
    uid: `6b1e2c3a-${i.toString(16).padStart(4, '0')}-4d5e-8f90-123456789abc`,
    resourceVersion: String(100000 + i),
    creationTimestamp: '2025-01-01T00:00:00Z',
    labels: { app: 'payments', tier: 'backend' },
    managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', time: '2025-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': Object.fromEntries(Object.keys(data).map((k) => [`f:${k}`, {}])) } }],
  };
  if (i % 2 === 1 && !helm) {
    const manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'prod' }, data, type: 'Opaque' };
    metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(manifest) + '\n' };
  }
  const type = helm ? 'helm.sh/release.v1' : i % 4 === 0 ? 'kubernetes.io/tls' : 'Opaque';
  const secret = { metadata, data, type };
  return withKind ? { kind: 'Secret', apiVersion: 'v1', ...secret } : secret;
}

/** generatedStream produces head, then templates cycled up to `bytes`, then tail. */
function generatedStream(bytes: number, head: string, templates: string[], separator: string, tail: string): Readable {
  let produced = 0;
  let index = 0;
  let started = false;
  let ended = false;
  return new Readable({
    read() {
      if (ended) return;
      let chunk = '';
      if (!started) {
        chunk = head;
        started = true;
      }
      while (chunk.length < CHUNK_BYTES && produced + chunk.length < bytes) {
        chunk += (index === 0 ? '' : separator) + templates[index % templates.length];
        index++;
      }
      if (produced + chunk.length >= bytes) {
        chunk += tail;
        ended = true;
      }
      produced += chunk.length;
      this.push(Buffer.from(chunk, 'latin1'));
      if (ended) this.push(null);
    },
  });
}

/** secretListStream is a SecretList of about `bytes` bytes, as `GET /api/v1/secrets` returns it. */
export function secretListStream(bytes: number, mix: Mix): Readable {
  const templates = Array.from({ length: 64 }, (_, i) => JSON.stringify(item(i, false, mix)));
  return generatedStream(bytes, '{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"100064"},"items":[', templates, ',', ']}\n');
}

/** watchStream is a newline-framed watch of about `bytes` bytes (ADDED/MODIFIED events). */
export function watchStream(bytes: number, mix: Mix): Readable {
  const templates = Array.from({ length: 64 }, (_, i) => JSON.stringify({ type: i % 3 === 0 ? 'ADDED' : 'MODIFIED', object: item(i, true, mix) }) + '\n');
  return generatedStream(bytes, '', templates, '', '');
}

/** secretListBuffer builds the same list in memory, for the naive whole-body baseline. */
export async function secretListBuffer(bytes: number, mix: Mix): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of secretListStream(bytes, mix)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
