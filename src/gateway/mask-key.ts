/**
 * The installation's masking key: placeholders are `HMAC(key, value)` prefixes, so an auditor
 * can see that a masked value changed between two reads without learning it. Kept in the data
 * dir (mode 0600), created on first use; never logged, never recorded.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, linkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export function loadMaskKey(dataDir: string): Buffer {
  const dir = join(dataDir, 'keys');
  const file = join(dir, 'mask-key');
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Write aside, then link into place: two processes starting together agree on one key.
  const aside = `${file}.${process.pid}.tmp`;
  writeFileSync(aside, randomBytes(32), { mode: 0o600 });
  try {
    linkSync(aside, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(aside);
  }
  return readFileSync(file);
}
