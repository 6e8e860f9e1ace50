export { BufferHeadMapper, type BufferHeadOptions, type BufferHeadProfile } from './bh-mapper.js';
export {
  BufferHeads, BH_Uptodate, BH_Dirty, BH_Lock, BH_Req, BH_Mapped, BH_New, BH_Async_Read, BH_Async_Write,
  BH_Delay, BH_Boundary, BH_Write_EIO, BH_Unwritten,
} from './buffer-head.js';
export { MAX_WRITEPAGES_EXTENT_LEN } from './ext4.js';
import { BufferHeadMapper, type BufferHeadOptions } from './bh-mapper.js';

/** Factory for the machine's registry: `--fs buffer-head`. */
export function createBufferHeadMapper(options: BufferHeadOptions = {}): BufferHeadMapper {
  return new BufferHeadMapper(options);
}
