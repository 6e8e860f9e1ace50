// Prints foliolab's page-types-style summary for a snapshot directory, or captures the live
// kpageflags/kpagecount as raw files and prints the summary of exactly those bytes.
//   node --conditions=@foliolab/source --import tsx tools/page-types-check/dump.ts snapshot DIR [--no-raw]
//   node --conditions=@foliolab/source --import tsx tools/page-types-check/dump.ts live OUTDIR [--no-raw]
//   node --conditions=@foliolab/source --import tsx tools/page-types-check/dump.ts live-direct [--no-raw]
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { flagsCensus, formatFlagsCensus, readLive, readSnapshot, u64WordsToBytes } from '@foliolab/procfs';

const [mode, dir] = process.argv.slice(2);
const raw = !process.argv.includes('--no-raw');
if (mode === 'snapshot' && dir) {
  const s = await readSnapshot(dir);
  process.stdout.write(formatFlagsCensus(flagsCensus(s.flags, { raw })));
} else if (mode === 'live' && dir) {
  const a = await readLive({ meminfo: false });
  await writeFile(join(dir, 'kpageflags'), u64WordsToBytes(a.flags));
  await writeFile(join(dir, 'kpagecount'), u64WordsToBytes(a.counts));
  process.stdout.write(formatFlagsCensus(flagsCensus(a.flags, { raw })));
} else if (mode === 'live-direct') {
  const a = await readLive({ meminfo: false });
  process.stdout.write(formatFlagsCensus(flagsCensus(a.flags, { raw })));
} else {
  console.error('usage: dump.ts snapshot DIR | live OUTDIR | live-direct  [--no-raw]');
  process.exit(2);
}
