export {
  IomapMapper, IOMAP_HOLE, IOMAP_DELALLOC, IOMAP_MAPPED, IOMAP_UNWRITTEN, IOMAP_WRITE, IOMAP_ZERO, IOMAP_FAULT,
  IOMAP_F_NEW, IOEND_BATCH_SIZE, XFS_MAX_BMBT_EXTLEN, XFS_ALLOCSIZE_BYTES, type Iomap, type IomapOptions, type IomapProfile,
} from './iomap-mapper.js';
export { FolioStates, IFS_HEADER, ifs_raw_size } from './ifs.js';
import { IomapMapper, type IomapOptions } from './iomap-mapper.js';

/** Factory for the machine's registry: `--fs iomap`. */
export function createIomapMapper(options: IomapOptions = {}): IomapMapper {
  return new IomapMapper(options);
}
