/**
 * The file list of one `kubectl cp` as its archive passes: which standard stream carries the
 * tar (stdout for a download, stdin for an upload), the entries read from it (tar-reader.ts),
 * at most MAX_LISTED_FILES of them listed and the rest counted, and the `transfer` summary of
 * the session's final entry. Transport-neutral: the WebSocket and SPDY sessions feed it the
 * archive bytes of their tar channel. Pure: no I/O.
 */
import type { TransferDirection } from './tar-command.js';
import { TarReader, type TarFile } from './tar-reader.js';

/** The most transferred files listed in the record; the rest are counted in `filesOmitted`. */
export const MAX_LISTED_FILES = 1000;

/** A `kubectl cp`, as recorded in the session's final entry. */
export interface TransferSummary {
  kind: 'cp';
  direction: TransferDirection;
  files: TarFile[];
  /** Entries past MAX_LISTED_FILES, counted but not listed. */
  filesOmitted?: number;
  /** Bytes of the archive seen. */
  bytes: number;
  /** True when the archive's end marker was seen. */
  complete: boolean;
}

/** The standard stream a transfer's archive travels on. */
export type TarChannel = 'stdin' | 'stdout';

/**
 * TransferListing reads one transfer's archive. `push` throws AIRLOCK_K8S_TAR_MALFORMED when
 * the bytes are not tar, so a stream recorded as a file list always is one.
 *
 * @example
 * const listing = new TransferListing('download');
 * listing.channel;           // 'stdout'
 * listing.push(chunk);       // for each piece of the archive, as it passes
 * listing.summary();         // { kind: 'cp', direction: 'download', files, bytes, complete }
 */
export class TransferListing {
  readonly direction: TransferDirection;
  readonly channel: TarChannel;
  readonly #tar = new TarReader();
  readonly #files: TarFile[] = [];
  #omitted = 0;

  constructor(direction: TransferDirection) {
    this.direction = direction;
    this.channel = direction === 'download' ? 'stdout' : 'stdin';
  }

  push(chunk: Uint8Array): void {
    for (const file of this.#tar.push(chunk)) {
      if (this.#files.length < MAX_LISTED_FILES) this.#files.push(file);
      else this.#omitted += 1;
    }
  }

  summary(): TransferSummary {
    return {
      kind: 'cp',
      direction: this.direction,
      files: [...this.#files],
      ...(this.#omitted > 0 ? { filesOmitted: this.#omitted } : {}),
      bytes: this.#tar.bytes,
      complete: this.#tar.ended,
    };
  }
}
