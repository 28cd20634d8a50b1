/**
 * A fetch for IdPs whose TLS certificate is signed by a private CA (common for in-house
 * Keycloak or Dex). Node's global fetch cannot take a CA per request without undici's
 * Agent, so this speaks node:https directly and hands back a standard Response, which is
 * what jose's `customFetch` and the discovery client expect. Only that CA is trusted for
 * the issuer, not the public roots: a private IdP has no business presenting a public cert.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AirlockError } from '../errors.js';

/** The subset of fetch that discovery and JWKS retrieval use. */
export type FetchLike = (
  url: string,
  init: { method: 'GET'; headers: Headers; redirect: 'manual'; signal: AbortSignal },
) => Promise<Response>;

/** Discovery documents and key sets are small; refuse anything larger than this. */
const maxBodyBytes = 1024 * 1024;

/** loadCaFetch reads the PEM file now (startup) and throws AIRLOCK_CONFIG_INVALID if it cannot. */
export function loadCaFetch(caFile: string): FetchLike {
  let ca: string;
  try {
    ca = readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `cannot read caFile ${caFile}: ${(err as Error).message}`);
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `caFile ${caFile} holds no PEM certificate`);
  }
  return createCaFetch(ca);
}

/** createCaFetch returns a fetch that trusts only `ca` for https URLs; failures reject like fetch. */
export function createCaFetch(ca: string): FetchLike {
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      const headers = Object.fromEntries(init.headers.entries());
      const options = { method: init.method, headers, signal: init.signal };
      const req = target.protocol === 'https:'
        ? httpsRequest(target, { ...options, ca })
        : httpRequest(target, options);
      req.on('error', reject);
      req.on('response', (res) => {
        readBody(res).then(
          (body) => resolve(toResponse(res, body)),
          (err: unknown) => reject(err),
        );
      });
      req.end();
    });
}

function readBody(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        res.destroy(new Error(`response larger than ${maxBodyBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

function toResponse(res: IncomingMessage, body: Buffer): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  const status = res.statusCode ?? 502;
  // Responses with these statuses must not carry a body (the Response constructor enforces it).
  const bodyless = [101, 204, 205, 304].includes(status);
  return new Response(bodyless ? null : body, { status, headers });
}
