/** Split-read matrix for streaming decoders: every cut point, then one byte at a time. */

/** cuts yields, for input bytes, every way of splitting it in two plus the one-byte-at-a-time split. */
export function* splits(input: Uint8Array): Generator<[string, Uint8Array[]]> {
  for (let i = 0; i <= input.length; i++) yield [`cut at ${i}`, [input.subarray(0, i), input.subarray(i)]];
  yield ['one byte at a time', Array.from(input, (_, i) => input.subarray(i, i + 1))];
}
