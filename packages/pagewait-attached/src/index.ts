export { pageWaitBytes, PAGE_WAIT_BYTES, WAITABLE_BITS_DEFAULT } from './page-wait.js';
export {
  AttachedWaitPolicy,
  createAttachedWaitPolicy,
  mappingIsWaitTagged,
  PAGE_MAPPING_WAIT,
  PAGE_WAIT_ARENA_BASE,
  PAGE_WAIT_STRIDE,
} from './attached-policy.js';
