/**
 * loadPolicyFile reads and compiles a policy file. It is the only file in `policy/` that
 * does I/O, so the engine itself stays pure.
 */
import { readFile } from 'node:fs/promises';
import { AirlockError } from '../errors.js';
import { compilePolicy } from './compile.js';
import type { CompiledPolicy } from './compiled-policy.js';

/**
 * loadPolicyFile compiles the policy at `path`; it throws AIRLOCK_POLICY_NOT_FOUND when the
 * file cannot be read (naming the path and the reason) and AIRLOCK_POLICY_INVALID when it
 * does not compile.
 */
export async function loadPolicyFile(path: string): Promise<CompiledPolicy> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new AirlockError('AIRLOCK_POLICY_NOT_FOUND', `${path}: ${reason}`, { cause: err });
  }
  return compilePolicy(source, { file: path });
}
