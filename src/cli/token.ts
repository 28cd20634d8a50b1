import type { Command } from 'commander';

/** registerToken adds the `airlock token` command(s). */
export function registerToken(_program: Command): void {
  // filled in by the token command group
}
