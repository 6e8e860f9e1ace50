import { performance } from 'node:perf_hooks';
import { Memmap, PageType, layout_measure, page_type_by_name } from '@foliolab/memmap';
import { LAYOUTS } from '@foliolab/machine';
import { PAGE_CLASSES, readSnapshotCensus } from '@foliolab/procfs';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  budget?: string;
  ok?: boolean;
}

/** Host bytes per simulated PFN for each layout, with the idle snapshot loaded (budget: memdesc <= 16 B, struct-page 64 + <= 4 B). */
export async function bench_host_bytes(snapshotDir: string): Promise<Figure[]> {
  const census = await readSnapshotCensus(snapshotDir);
  const typeOfClass = PAGE_CLASSES.map((c) => page_type_by_name(c)!);
  const o = census.objects;
  const type = new Uint8Array(o.count);
  for (let i = 0; i < o.count; i++) type[i] = typeOfClass[o.cls[i]!]!;
  const out: Figure[] = [];
  for (const l of LAYOUTS) {
    const t0 = performance.now();
    const m = layout_measure(l.create(), census.pfns, { count: o.count, start: o.start, nrPages: o.nrPages, type });
    const ms = performance.now() - t0;
    const per = m.hostBytes / census.pfns;
    const budget = l.name === 'memdesc' ? 16 : l.name.startsWith('struct-page') && l.name !== 'struct-page-32' ? 68 : undefined;
    out.push({ name: `host bytes per PFN, ${l.name} (idle snapshot, ${Math.round(ms)} ms to describe)`, value: per, unit: 'B', ...(budget ? { budget: `<= ${budget} B`, ok: per <= budget } : {}) });
  }
  return out;
}

function rate(n: number, ms: number): number {
  return (n / ms) * 1000;
}

/** Buddy and folio allocation throughput, and the host cost of a 1 TiB machine. */
export function bench_allocator(): Figure[] {
  const out: Figure[] = [];
  for (const l of LAYOUTS.filter((x) => x.name === 'struct-page' || x.name === 'memdesc')) {
    const mm = new Memmap({ layout: l.create(), memory: 4 * 2 ** 30, eagerInit: true });
    const ids = new Int32Array(1 << 20);
    // warm-up
    for (let i = 0; i < 1 << 16; i++) ids[i] = mm.folio_alloc(0, PageType.anon);
    for (let i = 0; i < 1 << 16; i++) mm.folio_put(ids[i]!);
    let t0 = performance.now();
    for (let i = 0; i < ids.length; i++) ids[i] = mm.folio_alloc(0, PageType.anon);
    for (let i = 0; i < ids.length; i++) mm.folio_put(ids[i]!);
    out.push({ name: `order-0 folio_alloc + folio_put pairs/s, ${l.name}`, value: rate(ids.length, performance.now() - t0), unit: '/s' });
    t0 = performance.now();
    let n = 0;
    for (let r = 0; r < 4; r++) {
      for (let i = 0; i < 2048; i++, n++) ids[i] = mm.alloc_object(PageType.anon, 9);
      for (let i = 0; i < 2048; i++) mm.free_object(PageType.anon, ids[i]!);
    }
    out.push({ name: `order-9 alloc + free pairs/s, ${l.name}`, value: rate(n, performance.now() - t0), unit: '/s' });
  }
  for (const l of LAYOUTS.filter((x) => x.name === 'struct-page' || x.name === 'memdesc')) {
    const mm = new Memmap({ layout: l.create(), memory: 2 ** 40 });
    for (let i = 0; i < 512; i++) mm.folio_alloc(9, PageType.anon); // 1 GiB of THPs
    out.push({ name: `host MiB for a 1 TiB machine with 1 GiB allocated, ${l.name}`, value: mm.host_bytes() / 2 ** 20, unit: 'MiB', budget: '< 24 GiB host', ok: mm.host_bytes() < 24 * 2 ** 30 });
  }
  return out;
}
