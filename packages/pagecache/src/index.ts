export { FsError, type FsErrorCode } from './errors.js';
export { Prng } from './prng.js';
export { FsStats, FS_METRIC_KEYS, BUFFER_HEAD_SIZE, type FsMetrics, type FsDetail } from './metrics.js';
export { KmemCache, KMALLOC_SIZES, kmalloc_size_roundup } from './slab.js';
export { PageData } from './page-data.js';
export { BlockDevice, Bio, DEFAULT_DEVICE, device_profile_check, BIO_MAX_VECS, REQ_OP_READ, REQ_OP_WRITE, type DeviceProfile } from './bdev.js';
export {
  ExtentMap, EXT_HOLE, EXT_DELALLOC, EXT_MAPPED, EXT_UNWRITTEN, EXTENT_STATE_NAMES, new_mapping,
  type BlockMapping, type ExtentState,
} from './extent-map.js';
export { BlockAllocator } from './balloc.js';
export { SimFs, check_block_size, type SimFsOptions } from './simfs.js';
export { PageIndex } from './page-index.js';
export { PG_readahead } from './flags.js';
export { WB_SYNC_ALL, WB_SYNC_NONE, type BlockMapper, type ReadaheadBatch, type WritebackControl } from './mapper.js';
export { PageCache, AddressSpace, type PageCacheOptions } from './pagecache.js';
export { Readahead } from './readahead.js';
export { generic_perform_write, type WriteBeginEnd } from './generic-write.js';
export { fsSteps, type FileStepHandlers, type OpenArgs, type ReadArgs, type WriteArgs, type FsyncArgs, type TruncateArgs, type CloseArgs } from './steps.js';
export { fsx_run, fsx_check, fsx_data_pagecache, fsx_problems, type FsxOptions, type FsxResult, type FsxOp, type FsxDataCacheOptions, type FsxCheckOptions } from './fsx.js';
export { benchFs, type BenchFsOptions, type BenchFsResult } from './bench.js';
export { fileFaultOps, type FileFaultOps } from './fault.js';
