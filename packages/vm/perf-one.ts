import { Memmap } from '@foliolab/memmap';
import { vm_compose, NoMapcountPolicy } from '@foliolab/vm';
import { StructPageLayout } from '@foliolab/layout-struct-page';
import { MemdescLayout } from '@foliolab/layout-memdesc';
import { PerPagePolicy } from '@foliolab/mapcount-per-page';
import { PerFolioPolicy } from '@foliolab/mapcount-per-folio';
import { UpstreamPolicy } from '@foliolab/mapcount-upstream';
const all: Record<string, () => any> = { none: () => new NoMapcountPolicy(), 'per-page': () => new PerPagePolicy(), 'per-folio': () => new PerFolioPolicy(), upstream: () => new UpstreamPolicy(), 'upstream-npm': () => new UpstreamPolicy({ pageMapcount: false }) };
const layouts: Record<string, () => any> = { 'struct-page': () => new StructPageLayout(), memdesc: () => new MemdescLayout() };
const pages = Number(process.env.PAGES ?? 1 << 20);
const out: string[] = [];
for (const l of process.argv[2]!.split(',')) for (const p of process.argv[3]!.split(',')) {
  const c = vm_compose({ memmap: new Memmap({ layout: layouts[l]!(), memory: pages * 4096 + (64 << 20), eagerInit: true }), policy: all[p]!(), thp: 'never' });
  if (!c.ok) { out.push(`${l} ${p} refused`); continue; }
  const vm = c.vm; const mm = vm.spawn('b'); const len = pages * 4096; const v = vm.mmap(mm, len, { align: 4096 });
  const warm = 16 << 20; vm.touch(mm, v.start, warm, true);
  const c0 = process.cpuUsage(); const t0 = process.hrtime.bigint();
  vm.touch(mm, v.start + warm, len - warm, true);
  const ns = Number(process.hrtime.bigint() - t0); const cu = process.cpuUsage(c0);
  const n = (len - warm) / 4096;
  out.push(`${l.padEnd(12)} ${p.padEnd(13)} wall ${(n / ns * 1e3).toFixed(2).padStart(6)} M/s  cpu ${(n / (cu.user + cu.system)).toFixed(2).padStart(6)} M/s`);
}
console.log(out.join('\n'));
