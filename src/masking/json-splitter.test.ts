import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAirlockError } from '../errors.js';
import { JsonSplitter, type SplitOptions } from './json-splitter.js';

const list: SplitOptions = { streamContainers: true, multipleValues: false, maxValueBytes: 1 << 20 };
const watch: SplitOptions = { streamContainers: false, multipleValues: true, maxValueBytes: 1 << 20 };

/** pieces splits `text` cut at every offset and checks all cuts report the same pieces. */
function pieces(options: SplitOptions, text: string): string[] {
  const run = (cuts: number[]): string[] => {
    const out: string[] = [];
    const splitter = new JsonSplitter(options, {
      onRaw: (b) => out.push(`raw ${b.toString()}`),
      onValue: (b) => out.push(`value ${b.toString()}`),
      onEnvelope: (b, envelope, key) => out.push(`envelope(${key},${JSON.stringify(envelope)}) ${b.toString()}`),
      onElement: (b, key) => out.push(`${key} ${b.toString()}`),
    });
    let at = 0;
    for (const cut of [...cuts, text.length]) {
      splitter.push(Buffer.from(text.slice(at, cut)));
      at = cut;
    }
    splitter.end();
    return merge(out);
  };
  const whole = run([]);
  for (let cut = 1; cut < text.length; cut++) assert.deepEqual(run([cut]), whole, `cut at ${cut}`);
  return whole;
}

/** merge joins adjacent raw pieces, which a cut may divide. */
function merge(out: string[]): string[] {
  const merged: string[] = [];
  for (const piece of out) {
    const last = merged[merged.length - 1];
    if (last?.startsWith('raw ') && piece.startsWith('raw ')) merged[merged.length - 1] = last + piece.slice(4);
    else merged.push(piece);
  }
  return merged;
}

const rows: { name: string; options: SplitOptions; text: string; pieces: string[] }[] = [
  {
    name: 'a list: envelope, each item, then the rest raw',
    options: list,
    text: '{"kind":"SecretList","metadata":{},"items":[{"a":1}, {"b":"]"}]}\n',
    pieces: ['envelope(items,{"kind":"SecretList","metadata":{}}) {"kind":"SecretList","metadata":{},"items":[', 'items {"a":1}', 'raw , ', 'items {"b":"]"}', 'raw ]}\n'],
  },
  {
    name: 'two streamed arrays with members between',
    options: list,
    text: '{"items":[{"a":1}],"n":1,"rows":[{"b":2}]}',
    pieces: ['envelope(items,{}) {"items":[', 'items {"a":1}', 'raw ],"n":1,"rows":[', 'rows {"b":2}', 'raw ]}'],
  },
  {
    name: 'a "list" with Secret data is held whole',
    options: list,
    text: '{"data":{"k":"v"},"items":[{}]}',
    pieces: ['value {"data":{"k":"v"},"items":[{}]}'],
  },
  {
    name: 'a value with no array is held whole',
    options: list,
    text: '{"kind":"Status","code":410}',
    pieces: ['value {"kind":"Status","code":410}'],
  },
  {
    name: 'an "items" key that is not top-level is not streamed',
    options: list,
    text: '{"spec":{"items":[{"a":1}]}}',
    pieces: ['value {"spec":{"items":[{"a":1}]}}'],
  },
  {
    name: 'escapes and brackets inside strings do not confuse the scanner',
    options: list,
    text: '{"it\\"ems":"[","items":[{"s":"\\\\\\"}{"}]}',
    pieces: ['envelope(items,{"it\\"ems":"["}) {"it\\"ems":"[","items":[', 'items {"s":"\\\\\\"}{"}', 'raw ]}'],
  },
  {
    name: 'watch events, newline-framed and back to back',
    options: watch,
    text: '{"type":"ADDED","object":{}}\n{"type":"DELETED","object":{}}{"type":"BOOKMARK","object":{}}\n',
    pieces: ['value {"type":"ADDED","object":{}}', 'raw \n', 'value {"type":"DELETED","object":{}}', 'value {"type":"BOOKMARK","object":{}}', 'raw \n'],
  },
];

describe('JsonSplitter reports the same pieces however the input is cut', () => {
  for (const r of rows) it(r.name, () => assert.deepEqual(pieces(r.options, r.text), r.pieces));
});

describe('JsonSplitter refuses what it cannot pass on safely', () => {
  const refusals: { name: string; options: SplitOptions; text: string; code: string }[] = [
    { name: 'metadata after a streamed array', options: list, text: '{"items":[],"metadata":{"annotations":{}}}', code: 'AIRLOCK_MASK_INVALID_JSON' },
    { name: 'an unterminated top-level value', options: watch, text: '{"type":"ADDED"', code: 'AIRLOCK_MASK_INVALID_JSON' },
    { name: 'a value over the cap', options: { ...watch, maxValueBytes: 8 }, text: '{"type":"ADDED"}', code: 'AIRLOCK_MASK_TOO_LARGE' },
    { name: 'a held piece over the cap across chunks', options: { ...list, maxValueBytes: 8 }, text: '{"items":[{"a":"0123456789"}]}', code: 'AIRLOCK_MASK_TOO_LARGE' },
  ];
  for (const r of refusals) {
    it(`${r.name} → ${r.code}`, () => {
      const splitter = new JsonSplitter(r.options, { onRaw() {}, onValue() {}, onEnvelope() {}, onElement() {} });
      assert.throws(
        () => {
          for (const byte of Buffer.from(r.text)) splitter.push(Buffer.from([byte]));
          splitter.end();
        },
        (err: unknown) => isAirlockError(err) && err.code === r.code,
      );
    });
  }
});
