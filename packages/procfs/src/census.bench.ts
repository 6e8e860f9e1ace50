// Benchmark, not a test: prints figures, asserts nothing.
// node --conditions=@foliolab/source --import tsx packages/procfs/src/census.bench.ts
import { fileURLToPath } from 'node:url';
import { benchCensus } from './bench.js';

const snapshotDir = fileURLToPath(new URL('../test-fixtures/kpage-snapshot-idle', import.meta.url));
const r = await benchCensus({ snapshotDir });
console.log(JSON.stringify(r, null, 2));
