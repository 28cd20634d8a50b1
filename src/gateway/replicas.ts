/**
 * Several airlock replicas on one PostgreSQL ledger: each writes its own chain, and follows the
 * others' approval entries so that an approval given through any replica releases a request held
 * on another (src/review/follow.ts). With the SQLite store there is one airlock and nothing to
 * follow.
 */
import type { AirlockConfig } from '../config/index.js';
import { openLedgerReader } from '../ledger/index.js';
import type { Logger } from '../log.js';
import type { Approvals } from '../review/approvals.js';
import { followApprovals, type Follower } from '../review/follow.js';
import { readerOptionsFromConfig } from './ledger-options.js';

/** followReplicas starts following the other chains when the store is shared; undefined otherwise. */
export async function followReplicas(config: AirlockConfig, approvals: Approvals, logger: Logger): Promise<(() => Promise<void>) | undefined> {
  if (config.ledger.store !== 'postgres') return undefined;
  const reader = await openLedgerReader(readerOptionsFromConfig(config));
  let follower: Follower;
  try {
    follower = await followApprovals({ reader, chain: config.ledger.chain, approvals, logger: logger.child({ component: 'replicas' }) });
  } catch (err) {
    await reader.close();
    throw err;
  }
  return async () => {
    await follower.close();
    await reader.close();
  };
}
