/**
 * `airlock replay SESSION`: play a recorded exec or attach session in the terminal with its
 * timing, or write it as an asciicast v2 file (`--out FILE.cast`) for asciinema players.
 * SESSION is the exec request's ledger entry id (or a unique prefix), as `audit tail` shows.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { AirlockError } from '../errors.js';
import { parseAsciicast, writeAsciicast } from '../evidence/asciicast.js';
import { playAsciicast } from '../evidence/asciicast-player.js';
import { readTerminalSession } from '../evidence/terminal-session.js';
import { readerOptionsFromConfig } from '../gateway/ledger-options.js';
import { openLedgerReader } from '../ledger/index.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from './common-options.js';

interface ReplayOptions extends ConfigOptions {
  out?: string;
  speed?: string;
  maxIdle?: string;
}

/** registerReplay adds `airlock replay`. */
export function registerReplay(program: Command): void {
  const replay = program
    .command('replay')
    .description('play a recorded terminal session (exec, attach), or write it as asciicast v2')
    .argument('<session>', 'the exec request id (or a unique prefix) from `airlock audit tail`')
    .option('-o, --out <file>', 'write an asciicast v2 file instead of playing')
    .option('--speed <n>', 'playback speed (2 = twice as fast)', '1')
    .option('--max-idle <seconds>', 'shorten pauses longer than this');
  addConfigOptions(replay).action(async (id: string, options: ReplayOptions) => {
    const config = configFromOptions(options);
    const reader = await openLedgerReader(readerOptionsFromConfig(config));
    try {
      const session = await readTerminalSession(reader, id);
      if (!session) throw new AirlockError('AIRLOCK_INPUT_INVALID', `no recorded terminal session for "${id}"`);
      if (session.missingParts) {
        // Evidence that cannot be read in full is not passed off as whole: say so, and fail.
        process.stderr.write(`airlock replay: ${session.missingParts} recorded part(s) of this session are missing from the ledger's blob store; the replay is incomplete (run airlock audit verify)\n`);
        process.exitCode = 1;
      }
      const command = Array.isArray(session.request.action?.command) ? (session.request.action.command as string[]).join(' ') : undefined;
      const cast = writeAsciicast(session.events, {
        startedAt: Date.parse(session.request.time),
        ...(command ? { command } : {}),
        title: `${session.request.identity?.subject ?? 'unknown'} ${session.request.action?.subresource ?? 'exec'} ${session.request.action?.namespace ?? ''}/${session.request.action?.name ?? ''}`,
      });
      if (options.out) {
        writeFileSync(options.out, cast);
        process.stdout.write(`${options.out}: ${session.events.length} events\n`);
        return;
      }
      const { events } = parseAsciicast(cast);
      await playAsciicast(events, (data) => process.stdout.write(data), {
        speed: Number(options.speed ?? '1'),
        ...(options.maxIdle !== undefined ? { maxIdle: Number(options.maxIdle) } : {}),
      });
    } finally {
      await reader.close();
    }
  });
}
