/**
 * The `airlock` command line. One file per command group registers its commands here.
 */
import { Command, CommanderError } from 'commander';
import { isAirlockError } from '../errors.js';
import { registerStart } from './start.js';
import { registerToken } from './token.js';
import { registerConfig } from './config.js';
import { registerPolicy } from './policy.js';
import { registerAudit } from './audit.js';
import { registerReplay } from './replay.js';
import { registerKubeconfig } from './kubeconfig.js';
import { registerApprovals } from './approvals.js';
import { registerImport } from './import.js';
import { registerSessions } from './sessions.js';
import { registerExport } from './export.js';
import { registerEvidence } from './evidence.js';

export function buildProgram(): Command {
  const program = new Command('airlock')
    .description('airlock: one recorded, policy-checked path from agents to production systems')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError();
  registerStart(program);
  registerToken(program);
  registerConfig(program);
  registerPolicy(program);
  registerAudit(program);
  registerReplay(program);
  registerKubeconfig(program);
  registerApprovals(program);
  registerSessions(program);
  registerExport(program);
  registerEvidence(program);
  registerImport(program);
  return program;
}

/** run parses argv and runs a command; errors are printed in plain words with their code. */
export async function run(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (isAirlockError(err)) {
      console.error(`airlock: ${err.message} [${err.code}]`);
      process.exitCode = 2;
      return;
    }
    console.error(`airlock: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
