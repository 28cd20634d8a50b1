/**
 * The fast path of Secret masking: for one complete JSON value (a list item, a Table row, a
 * watch event, a `get` answer) it validates the bytes, finds the few ranges that hold Secret
 * values (`data` and `stringData` values, the last-applied annotation) and splices
 * placeholders in, copying every other byte as it came. JSON.parse plus JSON.stringify of the
 * same value costs several times more, and would reformat it.
 *
 * It decides exactly as `maskResponseValue` does (same kinds, same watch-event rule, same
 * placeholders, the same marker annotation) and hands back `'slow'` whenever a value has a
 * shape it does not rewrite itself (a Table, a list inside a value, a duplicated key, a
 * `data` that is not an object); the caller then parses and masks that value whole. Tests
 * hold the two paths to the same result.
 *
 * Boundaries: pure; throws AIRLOCK_MASK_INVALID_JSON (from JsonReader) on invalid JSON.
 */
import { JsonReader, type Member } from './json-reader.js';
import { LAST_APPLIED_ANNOTATION, MASKED_ANNOTATION, memoized, type Placeholder } from './placeholder.js';
import { isSecretKind, type ResponseMasking } from './response-value.js';
import { MASKED_ANNOTATION_VALUE, maskLastApplied } from './secret-object.js';

/** What the rewriter is given: a whole value, a list item, or a Table row. */
export type RewriteContext = 'value' | 'item' | 'row';

/** A piece of output: a range of the input, or spliced text. */
export type Part = Buffer | string;

/** The masked parts, `'unchanged'` (emit the input), or `'slow'` (parse and mask it whole). */
export type RewriteResult = Part[] | 'unchanged' | 'slow';

interface Splice {
  start: number;
  end: number;
  text: string;
}

type Outcome = 'ok' | 'slow';

const QUOTE = 0x22;
const LBRACE = 0x7b;
const NULL = 0x6e;
const MARKER_MEMBER = `${JSON.stringify(MASKED_ANNOTATION)}:${JSON.stringify(MASKED_ANNOTATION_VALUE)}`;
/** Top-level members the decision depends on; a duplicate of one sends the value down the slow path. */
const decisive = new Set(['kind', 'data', 'stringData', 'metadata', 'type', 'object', 'items']);

/**
 * rewriteSecretValue masks the Secret values in one complete JSON value by splicing and
 * returns the output as parts (input ranges and placeholders, joined by the caller in one
 * copy); it throws AIRLOCK_MASK_INVALID_JSON when the bytes are not JSON.
 */
export function rewriteSecretValue(bytes: Buffer, masking: ResponseMasking, context: RewriteContext, impliedKind?: string): RewriteResult {
  const reader = new JsonReader(bytes);
  const doc = reader.document();
  if (!doc.members) return 'unchanged';
  const rewrite = new Rewrite(reader, masking);
  const outcome = context === 'row' ? rewrite.row(doc.members) : rewrite.object(doc.start, doc.members, impliedKind);
  if (outcome === 'slow') return 'slow';
  return rewrite.splices.length === 0 ? 'unchanged' : rewrite.apply();
}

class Rewrite {
  readonly splices: Splice[] = [];
  private readonly buf: Buffer;
  private readonly placeholder: Placeholder;

  constructor(
    private readonly reader: JsonReader,
    private readonly masking: ResponseMasking,
  ) {
    this.buf = reader.buf;
    this.placeholder = memoized(masking.placeholder);
  }

  /** row masks the object of a Table row, as maskTableRow does. */
  row(members: Member[]): Outcome {
    const named = this.index(members);
    if (!named) return 'slow';
    const object = named.get('object');
    if (!object || this.buf[object.valueStart] !== LBRACE) return 'ok';
    return this.object(object.valueStart, this.reader.members(object), undefined);
  }

  /** object decides by kind, as maskResponseValue does, and masks a Secret-shaped object. */
  object(start: number, members: Member[], impliedKind: string | undefined): Outcome {
    const named = this.index(members);
    if (!named) return 'slow';
    const kindMember = named.get('kind');
    const type = named.get('type');
    const object = named.get('object');
    if (!kindMember && type && object && this.buf[type.valueStart] === QUOTE && this.buf[object.valueStart] === LBRACE) {
      return this.object(object.valueStart, this.reader.members(object), undefined); // a watch event
    }
    const kind = kindMember && this.buf[kindMember.valueStart] === QUOTE ? this.reader.text(kindMember.valueStart, kindMember.valueEnd) : impliedKind;
    if (kind === 'Status') return 'ok';
    if (kind === 'Table' || named.has('items')) return 'slow';
    if (!isSecretKind(kind, this.masking)) return 'ok';
    return this.secret(start, members, named);
  }

  private secret(start: number, members: Member[], named: Map<string, Member>): Outcome {
    const before = this.splices.length;
    if (this.values(named.get('data'), 'data') === 'slow' || this.values(named.get('stringData'), 'stringData') === 'slow') return 'slow';
    const metadata = named.get('metadata');
    const metaOpen = metadata !== undefined && this.buf[metadata.valueStart] === LBRACE;
    if (metadata && !metaOpen && this.buf[metadata.valueStart] !== NULL) return 'slow';
    const metaMembers = metaOpen ? this.reader.members(metadata) : [];
    const annotations = this.unique(metaMembers, 'annotations');
    if (annotations === 'duplicate') return 'slow';
    const annOpen = annotations !== undefined && this.buf[annotations.valueStart] === LBRACE;
    if (annotations && !annOpen && this.buf[annotations.valueStart] !== NULL) return 'slow';
    const annMembers = annOpen ? this.reader.members(annotations) : [];
    const markers = this.lastApplied(annMembers);
    if (this.splices.length === before) return 'ok';
    // Mark the object, as markMasked does: replace an existing marker, or add one where it fits.
    if (markers.length > 0) for (const m of markers) this.replace(m, JSON.stringify(MASKED_ANNOTATION_VALUE));
    else if (annotations) {
      if (annOpen) this.insert(annotations.valueStart, MARKER_MEMBER, annMembers.length);
      else this.replace(annotations, `{${MARKER_MEMBER}}`);
    } else if (metadata) {
      if (metaOpen) this.insert(metadata.valueStart, `"annotations":{${MARKER_MEMBER}}`, metaMembers.length);
      else this.replace(metadata, `{"annotations":{${MARKER_MEMBER}}}`);
    } else this.insert(start, `"metadata":{"annotations":{${MARKER_MEMBER}}}`, members.length);
    return 'ok';
  }

  /** values replaces every non-null value of a `data` or `stringData` object. */
  private values(holder: Member | undefined, field: 'data' | 'stringData'): Outcome {
    if (!holder || this.buf[holder.valueStart] === NULL) return 'ok';
    if (this.buf[holder.valueStart] !== LBRACE) return 'slow';
    const placeholder = this.placeholder;
    for (const m of this.reader.members(holder)) {
      if (this.buf[m.valueStart] === NULL) continue;
      const key = this.reader.key(m);
      const clear = this.valueText(m);
      // Placeholders are base64 or `airlock-masked:<hex>`: nothing in them needs JSON escaping.
      this.replace(m, `"${field === 'data' ? placeholder.base64(key, clear) : placeholder.marker(key, clear)}"`);
    }
    return 'ok';
  }

  /** lastApplied masks the last-applied annotation and returns any existing marker members. */
  private lastApplied(annotations: Member[]): Member[] {
    const markers: Member[] = [];
    for (const m of annotations) {
      if (this.reader.keyIs(m, MASKED_ANNOTATION)) markers.push(m);
      if (!this.reader.keyIs(m, LAST_APPLIED_ANNOTATION) || this.buf[m.valueStart] === NULL) continue;
      const value: unknown = this.buf[m.valueStart] === QUOTE ? this.reader.text(m.valueStart, m.valueEnd) : JSON.parse(this.slice(m));
      const masked = maskLastApplied(value, this.placeholder);
      if (masked !== value) this.replace(m, JSON.stringify(masked));
    }
    return markers;
  }

  /** index maps the decisive keys to their members; undefined when one is duplicated. */
  private index(members: Member[]): Map<string, Member> | undefined {
    const named = new Map<string, Member>();
    for (const m of members) {
      const key = this.reader.key(m);
      if (!decisive.has(key)) continue;
      if (named.has(key)) return undefined;
      named.set(key, m);
    }
    return named;
  }

  private unique(members: Member[], key: string): Member | undefined | 'duplicate' {
    let found: Member | undefined;
    for (const m of members) {
      if (!this.reader.keyIs(m, key)) continue;
      if (found) return 'duplicate';
      found = m;
    }
    return found;
  }

  /** valueText is the clear value as text (base64 is ASCII, so decoding it is cheap). */
  private valueText(m: Member): string {
    if (this.buf[m.valueStart] === QUOTE) return this.reader.text(m.valueStart, m.valueEnd);
    const value: unknown = JSON.parse(this.slice(m));
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  private slice(m: Member): string {
    return this.buf.toString('utf8', m.valueStart, m.valueEnd);
  }

  private replace(m: Member, text: string): void {
    this.splices.push({ start: m.valueStart, end: m.valueEnd, text });
  }

  /** insert adds a member right after the `{` at `open`, with a comma if others follow. */
  private insert(open: number, member: string, others: number): void {
    this.splices.push({ start: open + 1, end: open + 1, text: others > 0 ? `${member},` : member });
  }

  /** apply returns the input cut around the splices, with each splice's text in its place. */
  apply(): Part[] {
    this.splices.sort((a, b) => a.start - b.start);
    const parts: Part[] = [];
    let at = 0;
    for (const s of this.splices) {
      if (s.start > at) parts.push(this.buf.subarray(at, s.start));
      parts.push(s.text);
      at = s.end;
    }
    if (at < this.buf.length) parts.push(this.buf.subarray(at));
    return parts;
  }
}

/** joinParts concatenates parts into one buffer. */
export function joinParts(parts: readonly Part[]): Buffer {
  let size = 0;
  for (const part of parts) size += typeof part === 'string' ? Buffer.byteLength(part) : part.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const part of parts) at += typeof part === 'string' ? out.write(part, at) : part.copy(out, at);
  return out;
}
