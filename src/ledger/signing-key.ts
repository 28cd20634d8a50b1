/**
 * The ledger's Ed25519 checkpoint key. The private key lives in the data dir
 * (`keys/ledger-ed25519.pem`, PKCS#8 PEM, mode 0600) and is created on first use; the public
 * key is what an auditor pins and passes to `verifyLedger`. Its key id is the first 16 hex
 * digits of SHA-256 over the DER (SPKI) public key, so an auditor can recompute it with
 * `openssl pkey -pubin -outform DER | sha256sum`.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../errors.js';
import { sha256Hex } from './canonical.js';

/** Where the key lives, relative to the data dir. */
export const SIGNING_KEY_FILE = join('keys', 'ledger-ed25519.pem');

export interface LedgerSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/**
 * loadLedgerSigningKey reads the data dir's checkpoint key, creating it (0600, in a 0700
 * `keys/` dir) when absent. Two processes racing to create it agree on one key: the file is
 * created exclusively and the loser reads the winner's. Throws AIRLOCK_CONFIG_INVALID when the
 * file exists but is not an Ed25519 private key.
 */
export function loadLedgerSigningKey(dataDir: string): LedgerSigningKey {
  const path = join(dataDir, SIGNING_KEY_FILE);
  let pem = readIfExists(path);
  if (pem === undefined) {
    mkdirSync(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const created = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    try {
      writeFileSync(path, created, { flag: 'wx', mode: 0o600 });
      pem = created;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      pem = readFileSync(path, 'utf8');
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `${SIGNING_KEY_FILE} is not a PEM private key`, { cause: err });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `${SIGNING_KEY_FILE} must be an Ed25519 key, not ${privateKey.asymmetricKeyType}`);
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: ledgerKeyId(publicKey) };
}

/**
 * exportLedgerPublicKey returns the data dir's checkpoint public key as SPKI PEM, for an
 * auditor to pin. Throws AIRLOCK_LEDGER_KEY_MISSING when the data dir has no key yet (it is
 * never created by exporting).
 */
export function exportLedgerPublicKey(dataDir: string): string {
  if (readIfExists(join(dataDir, SIGNING_KEY_FILE)) === undefined) {
    throw new AirlockError('AIRLOCK_LEDGER_KEY_MISSING', `no ${SIGNING_KEY_FILE} in the data dir`);
  }
  return loadLedgerSigningKey(dataDir).publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

/** ledgerKeyId is the key id recorded in checkpoints: 16 hex digits of SHA-256(SPKI DER). */
export function ledgerKeyId(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ format: 'der', type: 'spki' })).slice(0, 16);
}

/** toPublicKey accepts a KeyObject or a PEM (public, or private from which the public half is taken). */
export function toPublicKey(key: KeyObject | string): KeyObject {
  if (typeof key !== 'string') return key.type === 'private' ? createPublicKey(key) : key;
  try {
    return createPublicKey(key);
  } catch (err) {
    throw new AirlockError('AIRLOCK_INPUT_INVALID', 'the ledger public key is not a PEM key', { cause: err });
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
