/**
 * The built-in issuer's signing key: an ES256 (P-256) key pair kept as a private JWK in
 * `<dataDir>/keys/issuer-key.json`, created on first use. ES256 rather than EdDSA because
 * every OIDC verifier (Kubernetes structured authentication, cloud IAM federation, older
 * libraries) supports it. The file is created atomically (written aside, then hard-linked
 * into place, which fails if another process got there first) so two airlock processes
 * starting together end up with one key. The key never leaves this module except as
 * public JWK and as a jose signing key.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK,
  type CryptoKey, type JWK,
} from 'jose';
import { AirlockError } from '../errors.js';

export const builtinAlgorithm = 'ES256';

export interface BuiltinKey {
  kid: string;
  privateKey: CryptoKey;
  /** The public half, as published in the JWKS (`kid`, `alg`, `use` set). */
  publicJwk: JWK;
}

/** keyFilePath is where the key of a data dir lives. */
export function keyFilePath(dataDir: string): string {
  return join(dataDir, 'keys', 'issuer-key.json');
}

/**
 * loadOrCreateBuiltinKey reads the key file, creating it if absent; it throws
 * AIRLOCK_ISSUER_KEY_INVALID when the file is unreadable, malformed or readable by others.
 */
export async function loadOrCreateBuiltinKey(dataDir: string): Promise<BuiltinKey> {
  const path = keyFilePath(dataDir);
  const existing = readKeyFile(path);
  if (existing !== undefined) return importKey(existing, path);
  const keysDir = join(dataDir, 'keys');
  try {
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    chmodSync(keysDir, 0o700);
  } catch (err) {
    throw keyError(keysDir, `cannot create a private key directory: ${(err as Error).message}`);
  }
  const jwk = await generateJwk();
  const aside = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(aside, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(aside, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw keyError(path, (err as Error).message);
  } finally {
    unlinkSync(aside);
  }
  const stored = readKeyFile(path);
  if (stored === undefined) throw keyError(path, 'the file vanished while it was being created');
  return importKey(stored, path);
}

async function generateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(builtinAlgorithm, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicPart(jwk));
  return { ...jwk, kid, alg: builtinAlgorithm, use: 'sig' };
}

function readKeyFile(path: string): JWK | undefined {
  let text: string;
  try {
    if (process.platform !== 'win32') {
      const mode = statSync(path).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw keyError(path, `it is accessible by other users (mode ${mode.toString(8)}); run \`chmod 600 ${path}\``);
      }
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof AirlockError) throw err;
    throw keyError(path, (err as Error).message);
  }
  try {
    return JSON.parse(text) as JWK;
  } catch {
    throw keyError(path, 'it is not JSON');
  }
}

async function importKey(jwk: JWK, path: string): Promise<BuiltinKey> {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') {
    throw keyError(path, 'it is not a private P-256 (ES256) JWK');
  }
  const publicJwk = publicPart(jwk);
  const kid = await calculateJwkThumbprint(publicJwk);
  if (jwk.kid !== undefined && jwk.kid !== kid) throw keyError(path, 'its kid does not match the key');
  let privateKey: CryptoKey;
  try {
    privateKey = (await importJWK(jwk, builtinAlgorithm)) as CryptoKey;
  } catch (err) {
    throw keyError(path, (err as Error).message);
  }
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: builtinAlgorithm, use: 'sig' } };
}

/** publicPart keeps only the members that define an EC public key (RFC 7638 order-free). */
function publicPart(jwk: JWK): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

function keyError(path: string, why: string): AirlockError {
  return new AirlockError('AIRLOCK_ISSUER_KEY_INVALID', `${path}: ${why}`);
}
