import type { Command } from 'commander';

/** registerAudit adds the `airlock audit` command(s). */
export function registerAudit(_program: Command): void {
  // filled in by the audit command group
}
