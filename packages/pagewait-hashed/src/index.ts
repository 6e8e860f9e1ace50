export { GOLDEN_RATIO_64_HI, GOLDEN_RATIO_64_LO, hash64, mulhi32 } from './hash.js';
export {
  HashedWaitPolicy,
  HashedOptionError,
  createHashedWaitPolicy,
  PAGE_WAIT_TABLE_BITS,
  MIN_TABLE_BITS,
  MAX_TABLE_BITS,
  type HashedWaitPolicyOptions,
} from './hashed-policy.js';
