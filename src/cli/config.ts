import type { Command } from 'commander';

/** registerConfig adds the `airlock config` command(s). */
export function registerConfig(_program: Command): void {
  // filled in by the config command group
}
