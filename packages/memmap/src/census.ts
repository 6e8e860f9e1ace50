import { NR_PAGE_TYPES, PAGE_TYPE_NAMES, type PageType } from './memdesc.js';
import { PAGES_PER_SECTION } from './constants.js';
import type { Layout, LayoutBytes } from './layout.js';

/** One row per object of a real machine's memmap: a folio (head + tails) or a single page. */
export interface MemmapObjects {
  count: number;
  start: ArrayLike<number>;
  nrPages: ArrayLike<number>;
  /** Page type per object (PageType values). */
  type: ArrayLike<number>;
}

export interface MeasuredLayout {
  bytes: LayoutBytes;
  hostBytes: number;
  pfns: number;
}

/**
 * Describe a real machine's PFNs in a layout, object by object, as the kernel would have allocated
 * them, and return what the layout allocated. Nothing is estimated: descriptors are allocated one per
 * object that needs one, and per-PFN storage for every present section.
 */
export function layout_measure(layout: Layout, pfns: number, objects: MemmapObjects): MeasuredLayout {
  const sections = Math.ceil(pfns / PAGES_PER_SECTION);
  layout.attach({ pfns, sections });
  for (let s = 0; s < sections; s++) layout.online_section(s);
  const pagesByType = new Float64Array(NR_PAGE_TYPES);
  let covered = 0;
  for (let i = 0; i < objects.count; i++) {
    const t = objects.type[i]! as PageType;
    const nr = objects.nrPages[i]!;
    if (t < 0 || t >= NR_PAGE_TYPES) throw new RangeError(`layout_measure: object ${i} has type ${t}, not one of ${PAGE_TYPE_NAMES.join(', ')}`);
    layout.object_create(t, objects.start[i]!, nr);
    pagesByType[t]! += nr;
    covered += nr;
  }
  if (covered > pfns) throw new RangeError(`layout_measure: objects cover ${covered} pages but the machine has ${pfns}`);
  // Pages no object covers are holes or tails of free blocks: the census's "none".
  pagesByType[0]! += pfns - covered;
  return { bytes: layout.bytes(pagesByType), hostBytes: layout.host_bytes(), pfns };
}
