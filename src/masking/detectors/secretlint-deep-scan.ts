/**
 * The secretlint deep scan: runs the full @secretlint/secretlint-rule-preset-recommend over a
 * finished text (a whole `logs` response, a closed session's transcript) and returns its
 * findings as ranges. It is asynchronous and file-oriented and runs at a few MiB/s (see
 * bench/masking-streams), so it is an optional second pass, never on the keystroke path; the
 * `secretlint` name on streams means the fast regex detector (`secret-patterns-detector.ts`).
 */
import { lintSource } from '@secretlint/core';
import { creator as presetRecommend } from '@secretlint/secretlint-rule-preset-recommend';
import type { Finding } from './detector.js';

const config = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: presetRecommend }] };

/** secretlintScan lints text with the recommended preset; a rule failure rejects the promise. */
export async function secretlintScan(text: string): Promise<Finding[]> {
  const result = await lintSource({
    source: { content: text, filePath: 'stream.txt', contentType: 'text' },
    options: { config, noPhysicFilePath: true, maskSecrets: true },
  });
  return result.messages.map((m) => ({ start: m.range[0], end: m.range[1], kind: `secretlint:${m.ruleId}` }));
}
