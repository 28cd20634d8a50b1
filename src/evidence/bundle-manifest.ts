/**
 * The evidence bundle's manifest: every file of the bundle with its size and SHA-256, the
 * period and what it holds, signed with the ledger's Ed25519 key (`manifest.sig`, base64url over
 * the exact bytes of `manifest.json`). The public key ships in the bundle
 * (`ledger/public-key.pem`) and its key id is in the manifest; an auditor pins the key they
 * trust with `--public-key`, otherwise verification says it trusted the bundle's own key.
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ledgerKeyId, toPublicKey } from '../ledger/signing-key.js';

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
export const PUBLIC_KEY_FILE = 'ledger/public-key.pem';

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: 'airlock.evidence.v1';
  createdAt: string;
  period: { since?: string; until?: string };
  keyId: string;
  /** What the bundle holds, for the reader (counts, chains, segment ranges). */
  summary: Record<string, unknown>;
  files: ManifestFile[];
}

/** listFiles returns every file under `dir` (relative, `/`-separated, sorted), except the manifest and its signature. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.filter((p) => p !== MANIFEST_FILE && p !== SIGNATURE_FILE).sort();
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** writeManifest hashes every file of the bundle and writes the signed manifest. */
export async function writeManifest(dir: string, input: Omit<Manifest, 'format' | 'files' | 'keyId'>, key: { privateKey: KeyObject; publicKey: KeyObject }): Promise<Manifest> {
  const files: ManifestFile[] = [];
  for (const path of listFiles(dir)) {
    const full = join(dir, path);
    files.push({ path, size: statSync(full).size, sha256: await fileSha256(full) });
  }
  const manifest: Manifest = { format: 'airlock.evidence.v1', ...input, keyId: ledgerKeyId(key.publicKey), files };
  const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, MANIFEST_FILE), bytes);
  writeFileSync(join(dir, SIGNATURE_FILE), `${sign(null, bytes, key.privateKey).toString('base64url')}\n`);
  return manifest;
}

export interface ManifestCheck {
  manifest?: Manifest;
  publicKey?: KeyObject;
  /** True when the key came from the bundle itself rather than from the auditor. */
  selfTrusted: boolean;
  problems: string[];
}

/**
 * checkManifest verifies the signature (with the pinned key, else the bundle's), then every
 * listed file's size and SHA-256, and that no file was added or removed.
 */
export async function checkManifest(dir: string, pinned?: string | KeyObject): Promise<ManifestCheck> {
  const problems: string[] = [];
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) return { selfTrusted: false, problems: [`${MANIFEST_FILE} is missing: this is not an evidence bundle, or it was stripped`] };
  const bytes = readFileSync(manifestPath);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  } catch {
    return { selfTrusted: false, problems: [`${MANIFEST_FILE} is not valid JSON`] };
  }
  let publicKey: KeyObject | undefined;
  const selfTrusted = pinned === undefined;
  try {
    publicKey = toPublicKey(pinned ?? readFileSync(join(dir, PUBLIC_KEY_FILE), 'utf8'));
  } catch (err) {
    problems.push(`no usable public key (${pinned === undefined ? PUBLIC_KEY_FILE : 'the one given'}): ${err instanceof Error ? err.message : String(err)}`);
  }
  if (publicKey) {
    const sigPath = join(dir, SIGNATURE_FILE);
    const signature = existsSync(sigPath) ? Buffer.from(readFileSync(sigPath, 'utf8').trim(), 'base64url') : undefined;
    if (!signature) problems.push(`${SIGNATURE_FILE} is missing: the manifest is unsigned`);
    else if (!verify(null, bytes, publicKey, signature)) {
      problems.push(`the manifest signature does not verify with key ${ledgerKeyId(publicKey)}: ${MANIFEST_FILE} was changed after signing, or signed by another key`);
    }
    if (manifest.keyId !== ledgerKeyId(publicKey)) problems.push(`the manifest names key ${manifest.keyId}, but the key used is ${ledgerKeyId(publicKey)}`);
  }
  const listed = new Map((manifest.files ?? []).map((f) => [f.path, f]));
  const present = new Set(listFiles(dir));
  for (const [path, f] of listed) {
    const full = join(dir, path);
    if (!present.has(path)) {
      problems.push(`${path} is listed in the manifest but missing`);
      continue;
    }
    if (statSync(full).size !== f.size || (await fileSha256(full)) !== f.sha256) problems.push(`${path} was changed: its SHA-256 is not the one in the manifest`);
  }
  for (const path of present) if (!listed.has(path)) problems.push(`${path} is not in the manifest: it was added after the bundle was signed`);
  return { manifest, ...(publicKey ? { publicKey } : {}), selfTrusted, problems };
}
