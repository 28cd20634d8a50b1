/**
 * Maps a position inside a YAML scalar's value (a CEL expression) back to a line and
 * column of the policy file, so that a compile error points at the offending token in the
 * file, not only inside the expression. Plain, single-quoted, double-quoted (single-line)
 * and literal block (`|`) scalars are mapped exactly; for others (folded `>` or multi-line
 * flow scalars) the position of the scalar itself is given, marked as inexact.
 */
import type { LineCounter, Scalar } from 'yaml';

/** A 1-based position in the policy file. */
export interface FilePosition {
  line: number;
  column: number;
  /** False when only the scalar's start could be located, not the exact character. */
  exact: boolean;
}

/** scalarPositions returns a function from an offset in the scalar's value to a file position. */
export function scalarPositions(
  node: Scalar,
  source: string,
  lines: LineCounter,
): (offset: number) => FilePosition {
  const [start = 0, end = start] = node.range ?? [];
  const value = typeof node.value === 'string' ? node.value : '';
  const at = (fileOffset: number, exact: boolean): FilePosition => {
    const p = lines.linePos(fileOffset);
    return { line: p.line, column: p.col, exact };
  };
  const fallback = (): FilePosition => at(start, false);
  const raw = source.slice(start, end);

  switch (node.type) {
    case 'PLAIN':
      return raw === value ? (o) => at(start + o, true) : fallback;
    case 'QUOTE_SINGLE':
    case 'QUOTE_DOUBLE': {
      if (raw.includes('\n')) return fallback;
      const map = quotedOffsets(raw, node.type === 'QUOTE_DOUBLE');
      return map.length === value.length + 1 ? (o) => at(start + (map[o] ?? 0), true) : fallback;
    }
    case 'BLOCK_LITERAL':
      return literalBlock(raw, value, start, at) ?? fallback;
    default:
      return fallback;
  }
}

/** quotedOffsets returns, for each value index (and one past the end), its offset in `raw`. */
function quotedOffsets(raw: string, double: boolean): number[] {
  const map: number[] = [];
  let i = 1;
  const close = raw.length - 1;
  while (i < close) {
    map.push(i);
    const ch = raw[i];
    if (double && ch === '\\') {
      const kind = raw[i + 1];
      i += kind === 'x' ? 4 : kind === 'u' ? 6 : kind === 'U' ? 10 : 2;
    } else if (!double && ch === "'" && raw[i + 1] === "'") {
      i += 2;
    } else {
      // An astral character is one CEL offset per UTF-16 unit, like the value string.
      i += 1;
    }
  }
  map.push(close);
  return map;
}

function literalBlock(
  raw: string,
  value: string,
  start: number,
  at: (fileOffset: number, exact: boolean) => FilePosition,
): ((offset: number) => FilePosition) | undefined {
  const headerEnd = raw.indexOf('\n');
  if (headerEnd === -1 || !/^\|[+-]?\s*(#.*)?$/.test(raw.slice(0, headerEnd))) return undefined;
  const contentStart = headerEnd + 1;
  const srcLines = raw.slice(contentStart).split('\n');
  const firstText = srcLines.find((l) => l.trim() !== '');
  if (firstText === undefined) return undefined;
  const indent = firstText.length - firstText.trimStart().length;
  const valueLines = value.split('\n');
  const lineStarts: number[] = [];
  let offset = contentStart;
  for (const l of srcLines) {
    lineStarts.push(offset);
    offset += l.length + 1;
  }
  return (o) => {
    const before = value.slice(0, o);
    const k = before.split('\n').length - 1;
    const c = o - (before.lastIndexOf('\n') + 1);
    const srcLine = srcLines[k];
    const lineStart = lineStarts[k];
    if (srcLine === undefined || lineStart === undefined || srcLine.slice(indent) !== valueLines[k]) {
      return at(start, false);
    }
    return at(start + lineStart + indent + c, true);
  };
}
