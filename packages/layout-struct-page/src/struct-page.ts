import {
  HPAGE_PMD_NR,
  NR_PAGE_TYPES,
  PAGE_SIZE,
  PAGE_TYPE_NAMES,
  PG_head,
  PageType,
  SectionArray,
  STRUCT_PAGE_SIZE,
  anon_record_words,
  anon_writes_make,
  field_handle,
  folio_mapping_bits,
  u64_hi,
  type UnitRuns,
  page_type_is_folio,
  type AnonRecordWords,
  type AnonRmapWrite,
  type CoreFolioFields,
  type FieldDecl,
  type FieldHandle,
  type Layout,
  type LayoutBytes,
  type NewAnonRmap,
  type PfnSpace,
  type PlacementResult,
} from '@foliolab/memmap';

/**
 * struct page, one 64-byte record per PFN, at the kernel's x86-64 offsets. Slots are 32-bit:
 *
 *   0  flags (low word)            1  flags (high word: the simulator's page type in the top byte,
 *                                     where the kernel keeps section/node/zone ids)
 *   2  lru.next / compound_head    3  (high word)
 *   4  lru.prev                    5
 *   6  mapping                     7
 *   8  index                       9
 *  10  private                    11
 *  12  _mapcount / page_type      13  _refcount
 *  14  memcg_data                 15
 *
 * A folio is named by its head PFN. Folio fields of large folios live in the tail pages as upstream
 * (struct folio overlays page[0..3]): page[1] holds _flags_1 (order in the low byte), _large_mapcount,
 * _nr_pages_mapped, _entire_mapcount, _pincount, _mm_id_mapcount[2], _mm_ids and _nr_pages;
 * page[2] holds _deferred_list; page[3] the hugetlb fields.
 *
 * Invariant: a tail page's compound_head slot holds head*2+1 (bit 0 set, PageTail); no other user of
 * that slot ever sets bit 0 (the buddy list position is stored doubled).
 */
export const SLOT = {
  flags: 0,
  flags_hi: 1,
  compound_head: 2,
  lru_next: 2,
  lru_prev: 4,
  mapping: 6,
  index: 8,
  private: 10,
  mapcount: 12,
  page_type: 12,
  refcount: 13,
  memcg: 14,
} as const;
/** Names of the words, for messages: the first name the kernel gives a slot (page_type shares _mapcount's). */
const SLOT_NAMES: Record<number, string> = {};
for (const [name, slot] of Object.entries(SLOT)) SLOT_NAMES[slot] ??= name;
const W = STRUCT_PAGE_SIZE / 4;
// object_destroy() clears a record in 16 straight-line stores.
if (W !== 16) throw new Error(`struct page: ${STRUCT_PAGE_SIZE} bytes, the layout is written for 64`);
const TYPE_SHIFT = 24;

/** Top byte of page_type for typed pages (include/linux/page-flags.h, enum pagetype). */
export const PGTY = { buddy: 0xf0, offline: 0xf1, table: 0xf2, guard: 0xf3, hugetlb: 0xf4, slab: 0xf5, zsmalloc: 0xf6, unaccepted: 0xf7 } as const;

/** Homes the kernel gives to folio fields: [page index within the folio, slot, words, minimum order]. */
const LARGE_FOLIO_HOMES: Record<string, [number, number, number, number]> = {
  _large_mapcount: [1, 4, 1, 1],
  _nr_pages_mapped: [1, 5, 1, 1],
  _entire_mapcount: [1, 6, 1, 1],
  _pincount: [1, 7, 1, 1],
  _mm_id_mapcount: [1, 8, 2, 1],
  _mm_ids: [1, 10, 2, 1],
  _deferred_list: [2, 4, 4, 2],
};
/** Slots left over in page[2] and page[3] (order >= 2) for folio fields the kernel does not have. */
const SPARE_LARGE: Array<[number, number]> = [
  [2, 8], [2, 9], [2, 10], [2, 11], [3, 4], [3, 5], [3, 6], [3, 7], [3, 8], [3, 9], [3, 10], [3, 11],
];

interface PlacedInit {
  handle: FieldHandle;
  words: number;
  init: number;
  scope: 'page' | 'folio' | 'large-folio';
  minOrder: number;
}

export interface StructPageOptions {
  /** HugeTLB Vmemmap Optimization: free 7 of 8 vmemmap pages per 2 MiB hugetlb folio, 4095 of 4096 per 1 GiB. */
  hvo?: boolean;
}

export class StructPageLayout implements Layout {
  readonly name: string;
  readonly pageBytes = STRUCT_PAGE_SIZE;
  readonly folioIdIsPfn = true;
  readonly hvo: boolean;
  private readonly pages = new SectionArray(W);
  private readonly extras: SectionArray[] = [];
  private readonly globals: Int32Array[] = [];
  private readonly inits: PlacedInit[] = [];
  private readonly used = new Set<string>();
  private space: PfnSpace = { pfns: 0, sections: 0 };
  private hvoFreed = 0;
  readonly core: CoreFolioFields;
  /**
   * What an order-0 folio gets from declared fields, rebuilt on every place(): words inside its own
   * struct page (slot, init value), and handles of extra arrays (with their inits) to write one unit of.
   */
  private init0Slot = new Int32Array(0);
  private init0Val = new Int32Array(0);
  private init0Extra: PlacedInit[] = [];

  constructor(opts: StructPageOptions = {}) {
    this.hvo = opts.hvo ?? false;
    this.name = this.hvo ? 'struct-page-hvo' : 'struct-page';
    const h = (slot: number) => this.pages.handle(slot);
    this.core = { flags: h(SLOT.flags), refcount: h(SLOT.refcount), mapping: h(SLOT.mapping), index: h(SLOT.index), private: h(SLOT.private), memcg: h(SLOT.memcg) };
  }

  attach(space: PfnSpace): void {
    this.space = space;
  }

  online_section(section: number): void {
    const wasOnline = this.section_online(section);
    this.pages.online(section);
    if (!wasOnline) {
      const a = this.pages.chunks[section]!;
      // A struct page starts with _mapcount = -1 (page_mapcount_reset()).
      for (let k = SLOT.mapcount; k < a.length; k += W) a[k] = -1;
    }
    for (const e of this.extras) e.online(section);
  }

  section_online(section: number): boolean {
    return section < this.pages.chunks.length && this.pages.chunks[section]!.length > 0;
  }

  private rec(pfn: number): Int32Array {
    return this.pages.chunks[pfn >>> 15]!;
  }

  // ---- buddy state: PageBuddy in page_type, the order in private, the list position in lru ----
  buddy_mark(pfn: number, order: number, pos: number): void {
    const a = this.rec(pfn);
    const k = (pfn & 0x7fff) * W;
    a[k + SLOT.page_type] = (PGTY.buddy << TYPE_SHIFT) | 0;
    a[k + SLOT.private] = order;
    a[k + SLOT.lru_next] = pos * 2;
  }

  buddy_clear(pfn: number): void {
    const a = this.rec(pfn);
    const k = (pfn & 0x7fff) * W;
    a[k + SLOT.page_type] = -1;
    a[k + SLOT.private] = 0;
    a[k + SLOT.lru_next] = 0;
  }

  buddy_order(pfn: number): number {
    const a = this.rec(pfn);
    const k = (pfn & 0x7fff) * W;
    return a[k + SLOT.page_type]! >>> TYPE_SHIFT === PGTY.buddy ? a[k + SLOT.private]! : -1;
  }

  buddy_pos(pfn: number): number {
    return this.rec(pfn)[(pfn & 0x7fff) * W + SLOT.lru_next]! >>> 1;
  }

  buddy_set_pos(pfn: number, pos: number): void {
    this.rec(pfn)[(pfn & 0x7fff) * W + SLOT.lru_next] = pos * 2;
  }

  // ---- field placement ----
  place(decl: FieldDecl): PlacementResult {
    const p = this.place_field(decl);
    const slots: number[] = [];
    const vals: number[] = [];
    const extra: PlacedInit[] = [];
    for (const f of this.inits) {
      if (f.scope === 'large-folio' && f.minOrder > 0) continue;
      if (f.handle.chunks !== this.pages.chunks) {
        extra.push(f);
        continue;
      }
      for (let w = 0; w < f.words; w++) {
        slots.push(f.handle.off + w);
        vals.push(f.init);
      }
    }
    this.init0Slot = Int32Array.from(slots);
    this.init0Val = Int32Array.from(vals);
    this.init0Extra = extra;
    return p;
  }

  private place_field(decl: FieldDecl): PlacementResult {
    const words = decl.words ?? 1;
    if (decl.scope === 'global') {
      const len = (decl.length ?? 1) * words;
      const a = new Int32Array(len);
      if (decl.init) a.fill(decl.init);
      this.globals.push(a);
      return { decl, handle: field_handle([a], 30, words, 0), where: 'global array', bytesPerUnit: words * 4 };
    }
    if (decl.scope === 'page' || decl.scope === 'folio') {
      if (decl.name === '_mapcount' && words === 1 && !this.used.has('0:12')) {
        this.used.add('0:12');
        this.inits.push({ handle: this.pages.handle(SLOT.mapcount), words, init: decl.init ?? -1, scope: decl.scope, minOrder: 0 });
        return { decl, handle: this.pages.handle(SLOT.mapcount), where: 'struct page +48 (_mapcount)', bytesPerUnit: 0 };
      }
      return this.place_extra(decl, words, decl.scope);
    }
    const home = LARGE_FOLIO_HOMES[decl.name];
    const minOrder = decl.minOrder ?? 1;
    if (home && home[2] === words && !this.used.has(`${home[0]}:${home[1]}`) && minOrder >= home[3]) {
      this.used.add(`${home[0]}:${home[1]}`);
      const handle = this.pages.handle(home[0] * W + home[1]);
      this.inits.push({ handle, words, init: decl.init ?? 0, scope: 'large-folio', minOrder });
      return { decl, handle, where: `page[${home[0]}] +${home[1] * 4} (${decl.name})`, bytesPerUnit: 0 };
    }
    if (minOrder >= 2) {
      for (let i = 0; i + words <= SPARE_LARGE.length; i++) {
        const run = SPARE_LARGE.slice(i, i + words);
        if (run.some(([p, s], j) => p !== run[0]![0] || s !== run[0]![1] + j || this.used.has(`${p}:${s}`))) continue;
        for (const [p, s] of run) this.used.add(`${p}:${s}`);
        const [p, s] = run[0]!;
        const handle = this.pages.handle(p * W + s);
        this.inits.push({ handle, words, init: decl.init ?? 0, scope: 'large-folio', minOrder });
        return { decl, handle, where: `page[${p}] +${s * 4} (spare)`, bytesPerUnit: 0 };
      }
    }
    return this.place_extra(decl, words, 'large-folio');
  }

  /** No room in struct page: an extra per-PFN array, charged for every PFN. */
  private place_extra(decl: FieldDecl, words: number, scope: 'page' | 'folio' | 'large-folio'): PlacementResult {
    const e = new SectionArray(words);
    for (let s = 0; s < this.pages.chunks.length; s++) if (this.section_online(s)) e.online(s);
    this.extras.push(e);
    const handle = e.handle(0);
    this.inits.push({ handle, words, init: decl.init ?? 0, scope, minOrder: decl.minOrder ?? (scope === 'large-folio' ? 1 : 0) });
    return { decl, handle, where: `extra per-PFN array (${words * 4} B per page)`, bytesPerUnit: words * 4 };
  }

  // ---- objects ----
  object_create(type: PageType, pfn: number, nrPages: number): number {
    const a = this.rec(pfn);
    const k = (pfn & 0x7fff) * W;
    if (nrPages === 1 && (type === PageType.anon || type === PageType.file || type === PageType.ksm)) {
      // An order-0 folio (the anon fault path): type, mapping, the declared fields of its one page.
      a[k + SLOT.flags_hi] = type << TYPE_SHIFT;
      const mapping = folio_mapping_bits(type);
      if (mapping !== 0) a[k + SLOT.mapping] = mapping;
      const slots = this.init0Slot;
      const vals = this.init0Val;
      for (let i = 0; i < slots.length; i++) a[k + slots[i]!] = vals[i]!;
      this.init0_extras(pfn);
      return pfn;
    }
    const tbits = type << TYPE_SHIFT;
    if (type === PageType.buddy) {
      this.buddy_mark(pfn, 0, 0);
      return -1;
    }
    a[k + SLOT.flags_hi] = tbits;
    if (type === PageType.none) return -1;
    if (nrPages > 1) {
      a[k + SLOT.flags] = 1 << PG_head;
      // folio_set_order(): _flags_1 low byte; _nr_pages overlays page[1].memcg_data.
      a[k + W + SLOT.flags] = 31 - Math.clz32(nrPages);
      a[k + W + SLOT.memcg] = nrPages;
      // Tails may span sections only for gigantic (1 GiB) hugetlb folios read from a real machine.
      for (let j = 1; j < nrPages; j++) {
        const c = this.rec(pfn + j);
        const t = ((pfn + j) & 0x7fff) * W;
        c[t + SLOT.compound_head] = pfn * 2 + 1;
        c[t + SLOT.flags_hi] = tbits;
      }
    }
    switch (type) {
      case PageType.slab: a[k + SLOT.page_type] = PGTY.slab << TYPE_SHIFT; break;
      case PageType.pagetable: a[k + SLOT.page_type] = PGTY.table << TYPE_SHIFT; break;
      case PageType.hugetlb: a[k + SLOT.page_type] = PGTY.hugetlb << TYPE_SHIFT; break;
      case PageType.offline: a[k + SLOT.page_type] = PGTY.offline << TYPE_SHIFT; break;
      default: {
        const mapping = folio_mapping_bits(type);
        if (mapping !== 0) a[k + SLOT.mapping] = mapping;
      }
    }
    if (type === PageType.hugetlb && this.hvo) this.hvoFreed += hvo_freed_bytes(nrPages);
    if (page_type_is_folio(type)) this.init_fields(pfn, nrPages);
    return pfn;
  }

  folio_create_bulk(type: PageType, pfns: Int32Array, _n: number, out: Int32Array, runs: UnitRuns): void {
    this.create_bulk(type, pfns, runs, out, this.init0Slot, this.init0Val, 0, 0, 0);
  }

  folio_create_bulk_anon(pfns: Int32Array, n: number, out: Int32Array, anon: NewAnonRmap, runs: UnitRuns): void {
    const w = this.anon_words(anon.writes);
    this.create_bulk(PageType.anon, pfns, runs, out, w.off, w.val, anon.index | 0, u64_hi(anon.index), 1);
    // Writes outside struct page (extra arrays) come after the init values, as they would one by one.
    anon_writes_make(w.later, pfns, out, n);
  }

  /**
   * The struct page words of a new anon folio (anon_record_words()), kept while the writes and the
   * placements stay the same objects. Folio ids are PFNs here: a per-page and a per-folio field in
   * struct page are the same record.
   */
  private anon_words(writes: readonly AnonRmapWrite[]): AnonRecordWords {
    const c = this.anonCache;
    if (c !== null && c.writes === writes && c.init === this.init0Slot) return c.words;
    const words = anon_record_words(this.init0Slot, this.init0Val, writes, (x) => x.handle.chunks === this.pages.chunks);
    this.anonCache = { writes, init: this.init0Slot, words };
    return words;
  }

  private anonCache: { writes: readonly AnonRmapWrite[]; init: Int32Array; words: AnonRecordWords } | null = null;

  /**
   * One pass over each struct page: buddy_clear(), the order-0 object_create(), _refcount = 1,
   * folio->index = idxLo + i * step (high word idxHi; all 0 for a folio that is not anon yet: pristine).
   * One declared word (the common case, such as _mapcount) is written in the same pass; more get a
   * pass of their own, which is cheaper than a loop over the slots inside this one, and so do the
   * declared fields that live in extra arrays.
   */
  private create_bulk(type: PageType, pfns: Int32Array, runs: UnitRuns, out: Int32Array, slots: Int32Array, vals: Int32Array, idxLo: number, idxHi: number, step: number): void {
    const chunks = this.pages.chunks;
    const hi = type << TYPE_SHIFT;
    const mapping = folio_mapping_bits(type);
    // With no declared word, _mapcount gets its reset value again (buddy_clear() just wrote it).
    const s0 = slots.length === 1 ? slots[0]! : SLOT.mapcount;
    const v0 = slots.length === 1 ? vals[0]! : -1;
    const at = runs.at;
    const n = at[runs.count]!;
    // Run by run of consecutive PFNs (the allocator's), cut at sections: the struct pages of a piece
    // are consecutive records of one chunk.
    for (let q = 0; q < runs.count; q++) {
      const end = at[q + 1]!;
      for (let i = at[q]!; i < end; ) {
        const p0 = pfns[i]!;
        const r = Math.min(end - i, 0x8000 - (p0 & 0x7fff));
        const a = chunks[p0 >>> 15]!;
        const l0 = idxLo + i * step;
        for (let j = 0, k = (p0 & 0x7fff) * W; j < r; j++, k += W) {
          a[k + SLOT.page_type] = -1;
          a[k + SLOT.private] = 0;
          a[k + SLOT.lru_next] = 0;
          a[k + SLOT.flags_hi] = hi;
          if (mapping !== 0) a[k + SLOT.mapping] = mapping;
          a[k + SLOT.index] = (l0 + j * step) | 0;
          a[k + SLOT.index + 1] = idxHi;
          a[k + s0] = v0;
          a[k + SLOT.refcount] = 1;
        }
        i += r;
      }
    }
    // An order-0 folio's id is its PFN: nothing to write when the caller gave one array for both.
    if (out !== pfns) out.set(pfns.subarray(0, n));
    if (slots.length > 1) {
      for (let i = 0; i < n; i++) {
        const pfn = pfns[i]!;
        const a = chunks[pfn >>> 15]!;
        const k = (pfn & 0x7fff) * W;
        for (let j = 0; j < slots.length; j++) a[k + slots[j]!] = vals[j]!;
      }
    }
    if (this.init0Extra.length > 0) for (let i = 0; i < n; i++) this.init0_extras(pfns[i]!);
  }

  /** An order-0 folio's declared fields that live in extra arrays get their init values. */
  private init0_extras(pfn: number): void {
    const extra = this.init0Extra;
    for (let i = 0; i < extra.length; i++) {
      const f = extra[i]!;
      const h = f.handle;
      const c = h.chunks[pfn >>> h.shift]!;
      const base = (pfn & h.mask) * h.stride + h.off;
      for (let w = 0; w < f.words; w++) c[base + w] = f.init;
    }
  }

  private init_fields(pfn: number, nr: number): void {
    const order = 31 - Math.clz32(nr);
    for (const f of this.inits) {
      if (f.scope === 'large-folio' && order < f.minOrder) continue;
      const n = f.scope === 'page' ? nr : 1;
      for (let j = 0; j < n; j++) {
        const c = f.handle.chunks[(pfn + j) >>> f.handle.shift]!;
        const base = ((pfn + j) & f.handle.mask) * f.handle.stride + f.handle.off;
        for (let w = 0; w < f.words; w++) c[base + w] = f.init;
      }
    }
  }

  object_destroy(type: PageType, id: number): void {
    const a0 = this.rec(id);
    const k0 = (id & 0x7fff) * W;
    if (!(a0[k0 + SLOT.flags]! & (1 << PG_head)) && type !== PageType.hugetlb) {
      // One page: back to pristine (zero, _mapcount -1), the 16 words written straight-line: V8 runs a
      // loop over them about 4 times slower, and fill()'s call costs more still.
      a0[k0] = 0;
      a0[k0 + 1] = 0;
      a0[k0 + 2] = 0;
      a0[k0 + 3] = 0;
      a0[k0 + 4] = 0;
      a0[k0 + 5] = 0;
      a0[k0 + 6] = 0;
      a0[k0 + 7] = 0;
      a0[k0 + 8] = 0;
      a0[k0 + 9] = 0;
      a0[k0 + 10] = 0;
      a0[k0 + 11] = 0;
      a0[k0 + 12] = 0;
      a0[k0 + 13] = 0;
      a0[k0 + 14] = 0;
      a0[k0 + 15] = 0;
      a0[k0 + SLOT.mapcount] = -1;
      for (const e of this.extras) {
        const c = e.chunks[id >>> 15]!;
        for (let j = (id & 0x7fff) * e.stride, end = j + e.stride; j < end; j++) c[j] = 0;
      }
      return;
    }
    const nr = this.object_nr_pages(type, id);
    if (type === PageType.hugetlb && this.hvo) this.hvoFreed -= hvo_freed_bytes(nr);
    // free_pages_prepare(): every struct page of the block goes back to its pristine state.
    for (let pfn = id, left = nr; left > 0; ) {
      const n = Math.min(left, 0x8000 - (pfn & 0x7fff));
      const a = this.rec(pfn);
      const k = (pfn & 0x7fff) * W;
      a.fill(0, k, k + n * W);
      for (let j = 0; j < n; j++) a[k + j * W + SLOT.mapcount] = -1;
      for (const e of this.extras) e.chunks[pfn >>> 15]!.fill(0, (pfn & 0x7fff) * e.stride, ((pfn & 0x7fff) + n) * e.stride);
      pfn += n;
      left -= n;
    }
  }

  free_page_bad_reason(pfn: number): string | null {
    const a = this.rec(pfn);
    const k = (pfn & 0x7fff) * W;
    const marked = this.buddy_order(pfn) >= 0;
    for (let w = 0; w < W; w++) {
      // A free block's first page carries PageBuddy (page_type), its order (private) and list position (lru).
      if (marked && (w === SLOT.page_type || w === SLOT.private || w === SLOT.lru_next)) continue;
      const want = w === SLOT.mapcount ? -1 : 0;
      if (a[k + w] !== want) return `struct page word ${w} (${SLOT_NAMES[w] ?? 'unused'}) is ${a[k + w]}, not ${want}`;
    }
    for (const e of this.extras) {
      const c = e.chunks[pfn >>> 15]!;
      for (let j = (pfn & 0x7fff) * e.stride, end = j + e.stride; j < end; j++) if (c[j] !== 0) return `a word of an extra per-page array is ${c[j]}, not 0`;
    }
    return null;
  }

  page_object(pfn: number): number {
    const a = this.rec(pfn);
    const k = (pfn & 0x7fff) * W;
    const ch = a[k + SLOT.compound_head]!;
    if (ch & 1) return ch >>> 1;
    return a[k + SLOT.flags_hi]! >>> TYPE_SHIFT === 0 || a[k + SLOT.page_type]! >>> TYPE_SHIFT === PGTY.buddy ? -1 : pfn;
  }

  page_type(pfn: number): PageType {
    const a = this.rec(pfn);
    const k = (pfn & 0x7fff) * W;
    if (a[k + SLOT.page_type]! >>> TYPE_SHIFT === PGTY.buddy) return PageType.buddy;
    return (a[k + SLOT.flags_hi]! >>> TYPE_SHIFT) as PageType;
  }

  object_pfn(_type: PageType, id: number): number {
    return id;
  }

  object_nr_pages(_type: PageType, id: number): number {
    const a = this.rec(id);
    const k = (id & 0x7fff) * W;
    return a[k + SLOT.flags]! & (1 << PG_head) ? a[k + W + SLOT.memcg]! : 1;
  }

  bytes(pagesByType: ArrayLike<number>): LayoutBytes {
    const pfns = this.space.pfns;
    const memmap = pfns * STRUCT_PAGE_SIZE;
    let extraPerPage = 0;
    for (const e of this.extras) extraPerPage += e.stride * 4;
    let globals = 0;
    for (const g of this.globals) globals += g.byteLength;
    const extra = extraPerPage * pfns + globals;
    const byType = {} as Record<(typeof PAGE_TYPE_NAMES)[number], number>;
    for (let t = 0; t < NR_PAGE_TYPES; t++) byType[PAGE_TYPE_NAMES[t]!] = (pagesByType[t] ?? 0) * (STRUCT_PAGE_SIZE + extraPerPage);
    byType.hugetlb -= this.hvoFreed;
    return { layout: this.name, total: memmap + extra - this.hvoFreed, memmap, descriptors: {}, extra, hvoFreed: this.hvoFreed, byType };
  }

  host_bytes(): number {
    let b = this.pages.host_bytes();
    for (const e of this.extras) b += e.host_bytes();
    for (const g of this.globals) b += g.byteLength;
    return b;
  }
}

/**
 * Vmemmap bytes HVO frees for one hugetlb folio: of the struct pages' vmemmap pages, all but one are
 * remapped to the first and freed (vmemmap_dedup.rst): 7 of 8 for 2 MiB, 4095 of 4096 for 1 GiB.
 */
export function hvo_freed_bytes(nrPages: number): number {
  const vmemmapPages = (nrPages * STRUCT_PAGE_SIZE) / PAGE_SIZE;
  if (nrPages < HPAGE_PMD_NR || !Number.isInteger(vmemmapPages)) return 0;
  return (vmemmapPages - 1) * PAGE_SIZE;
}
