import type { Command } from 'commander';

/** registerPolicy adds the `airlock policy` command(s). */
export function registerPolicy(_program: Command): void {
  // filled in by the policy command group
}
