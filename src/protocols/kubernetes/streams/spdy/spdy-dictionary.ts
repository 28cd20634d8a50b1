/**
 * The SPDY/3 header-compression dictionary (SPDY/3 draft §2.6.10.1, byte for byte the
 * `headerDictionary` constant of github.com/moby/spdystream, which client-go and the kubelet use).
 *
 * Every SPDY/3 header block is a zlib stream primed with these 1423 bytes. A single wrong byte
 * changes its Adler-32 (the DICTID in the zlib header, 0xe3c6a7c2), and the peer refuses the whole
 * session, so the bytes are rebuilt here from readable parts and pinned by a test on the length,
 * the Adler-32 and the SHA-256.
 */

/** The first part of the dictionary: names and values, each prefixed by a 32-bit big-endian length. */
const lengthPrefixedWords: readonly string[] = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset',
  'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'allow', 'authorization',
  'cache-control', 'connection', 'content-base', 'content-encoding', 'content-language',
  'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date',
  'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match',
  'if-range', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma',
  'proxy-authenticate', 'proxy-authorization', 'range', 'referer', 'retry-after', 'server', 'te',
  'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public',
  'set-cookie', 'keep-alive', 'origin',
];

/** The rest is raw text: status codes and reason phrases, dates, and common values, no lengths. */
const rawTail = [
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505',
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Una',
  'uthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service',
  ' UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, ',
  'Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,applicat',
  'ion/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf',
  '-8charset=iso-8859-1,utf-,*,enq=0.',
].join('');

function buildDictionary(): Buffer {
  const parts: Buffer[] = [];
  for (const word of lengthPrefixedWords) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(word.length);
    parts.push(length, Buffer.from(word, 'latin1'));
  }
  parts.push(Buffer.from(rawTail, 'latin1'));
  return Buffer.concat(parts);
}

/** spdyDictionary is the zlib dictionary for SPDY/3 header blocks (1423 bytes). */
export const spdyDictionary: Buffer = buildDictionary();

/** spdyDictionaryId is the Adler-32 of the dictionary, the DICTID every header zlib stream names. */
export const spdyDictionaryId = 0xe3c6a7c2;
