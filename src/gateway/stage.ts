/**
 * A pipeline stage handles an exchange: it calls `next` exactly once or returns a refusal,
 * never both. Stages are composed in pipeline.ts, in the order a request meets them.
 */
import type { Exchange, Refusal } from './exchange.js';

export type Stage<X extends Exchange> = (x: X) => Promise<Refusal | void>;
