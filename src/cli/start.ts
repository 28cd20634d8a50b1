import type { Command } from 'commander';

/** registerStart adds the `airlock start` command(s). */
export function registerStart(_program: Command): void {
  // filled in by the start command group
}
