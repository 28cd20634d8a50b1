/**
 * The `ledger` section: where evidence is stored, how often it is checkpointed, who else
 * keeps a copy of the checkpoints (witnesses), and what happens when it cannot record.
 */
import * as z from 'zod';
import { countSchema, durationSchema, pathSchema, urlSchema } from './fields.js';

const postgresUrlSchema = urlSchema(['postgres', 'postgresql'], 'postgres://airlock@db.example.com:5432/airlock');

/** An HTTP header name (RFC 9110 §5.1 token). */
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected an HTTP header name' });

const witnessSchema = z
  .strictObject({
    file: pathSchema.optional(),
    url: urlSchema(['https', 'http'], 'https://witness.example.com/checkpoints').optional(),
    headers: z.record(headerName, z.string({ error: 'expected a header value (a string)' })).optional(),
  })
  .superRefine((witness, ctx) => {
    if ((witness.file === undefined) === (witness.url === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a witness needs exactly one of `file` or `url`' });
    }
    if (witness.headers !== undefined && witness.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['headers'], message: '`headers` only applies to a `url` witness' });
    }
  });

export type WitnessConfig = z.output<typeof witnessSchema>;

export const ledgerSchema = z
  .strictObject({
    store: z.enum(['sqlite', 'postgres'], { error: 'expected one of sqlite, postgres' }).default('sqlite'),
    sqlite: z
      .strictObject({
        // Relative to the data directory, not to the config file: the ledger lives with the keys.
        path: pathSchema.default('ledger.db'),
        // How long a write waits for a lock held by another process before the ledger counts as failing.
        busyTimeout: durationSchema.prefault('5s'),
      })
      .prefault({}),
    postgres: z
      .strictObject({
        url: postgresUrlSchema.optional(),
        schema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: 'expected a PostgreSQL schema name (lower-case letters, digits, _)' })
          .default('airlock'),
      })
      .prefault({}),
    chain: z
      .string({ error: 'expected a chain id' })
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: 'expected a chain id of letters, digits, ".", "_" and "-" (at most 63)' })
      .default('main'),
    checkpoint: z
      .strictObject({
        entries: countSchema(1, 'entries').default(1000),
        interval: durationSchema.prefault('60s'),
      })
      .prefault({}),
    witness: z.array(witnessSchema, { error: 'expected a list of witnesses' }).default([]),
    failureMode: z
      .enum(['closed', 'open'], { error: 'expected closed (refuse requests the ledger cannot record) or open' })
      .default('closed'),
    inlineLimit: countSchema(0, 'bytes').default(4096),
    // 64 KiB keeps every ordinary object whole; a large list is recorded capped, pinned by the SHA-256 of all of it.
    bodyLimit: countSchema(0, 'bytes').default(65_536),
  })
  .superRefine((ledger, ctx) => {
    if (ledger.store === 'postgres' && ledger.postgres.url === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['postgres', 'url'],
        message: 'required when store is postgres; e.g. url: ${AIRLOCK_LEDGER_URL}',
      });
    }
  });

export type LedgerConfig = z.output<typeof ledgerSchema>;
