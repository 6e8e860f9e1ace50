import {
  DescriptorArena,
  MemdescTag,
  NR_PAGE_TYPES,
  PAGE_TYPE_NAMES,
  PG_head,
  PageType,
  SectionArray,
  TWO32,
  anon_record_words,
  anon_writes_make,
  field_handle,
  folio_mapping_bits,
  u64_hi,
  memdesc_subtype_of,
  memdesc_tag_of,
  page_type_is_folio,
  page_type_of_subtype,
  type AnonRecordWords,
  type AnonRmapWrite,
  type CoreFolioFields,
  type FieldDecl,
  type Layout,
  type LayoutBytes,
  type NewAnonRmap,
  type PfnSpace,
  type PlacementResult,
} from '@foliolab/memmap';

/** Default descriptor sizes in bytes, each a multiple of 16 (the memdesc tag takes the low 4 bits). */
export const DEFAULT_DESCRIPTOR_SIZES = { folio: 80, hugetlb: 96, slab: 64, ptdesc: 64 } as const;
export type DescriptorKind = keyof typeof DEFAULT_DESCRIPTOR_SIZES;

export interface MemdescOptions {
  /**
   * Wilcox's interim step: a 32-byte struct page {flags; union{buddy_list; {memdesc; _refcount}};
   * union{private; _mapcount}} plus the same descriptors.
   */
  structPage32?: boolean;
  descriptorSizes?: Partial<Record<DescriptorKind, number>>;
}

/**
 * Folio descriptor (80 B, the interim struct folio of kernelnewbies' FolioAlloc page): flags 0-1,
 * lru 2-5, mapping 6-7, index 8-9, private 10-11, _refcount 12, _mapcount 13, _pincount 14,
 * nr_pages 15, pfn 16-17, memcg_data 18-19. slab/ptdesc keep flags, list, pfn and nr_pages at the
 * same slots as far as their 64 bytes allow (pfn 12, nr_pages 14).
 */
const FOLIO = { flags: 0, mapping: 6, index: 8, private: 10, refcount: 12, mapcount: 13, pincount: 14, nr: 15, pfn: 16, memcg: 18, words: 20 } as const;
const SMALL = { pfn: 12, nr: 14, words: 16 } as const;

/** Where the memdesc word sits in the per-PFN record, and the record's size in 32-bit slots. */
interface PageRecord {
  words: number;
  lo: number;
  hi: number;
  mapcount: number;
}
const REC8: PageRecord = { words: 2, lo: 0, hi: 1, mapcount: -1 };
/** 32-byte page: flags 0-1, memdesc word (or buddy_list) 2-3, _refcount 4, pad 5, private/_mapcount 6-7. */
const REC32: PageRecord = { words: 8, lo: 2, hi: 3, mapcount: 6 };

/** Undescribed words carry the subtype in bits 4-10 and the allocation order in bits 12-17 (kernelnewbies "Misc"). */
const ORDER_SHIFT = 12;

/**
 * One 8-byte tagged word per PFN plus descriptor arenas per type, allocated and freed with the
 * objects they describe. A folio is named by its index in the folio arena.
 *
 * Invariant: every page of a described object holds the same word (tag | descriptor address), so
 * page_folio() is one load and a decode; undescribed and free pages carry everything in the word
 * and cost no descriptor.
 */
export class MemdescLayout implements Layout {
  readonly name: string;
  readonly pageBytes: number;
  private readonly rec: PageRecord;
  private readonly pages: SectionArray;
  private readonly arenas: Record<DescriptorKind, DescriptorArena>;
  /** Arena for each memdesc tag (undefined: no descriptor). */
  private readonly arenaOfTag: Array<DescriptorArena | undefined> = [];
  private readonly liveByType = new Float64Array(NR_PAGE_TYPES);
  private readonly globals: Int32Array[] = [];
  private readonly inits: Array<{ off: number; words: number; init: number; minOrder: number }> = [];
  private extraFolioBytes = 0;
  private space: PfnSpace = { pfns: 0, sections: 0 };
  private mapcountPlaced = false;
  readonly core: CoreFolioFields;
  /** The record's layout, copied into plain fields: the buddy and fault paths read them on every call. */
  private readonly rl: number;
  private readonly rh: number;
  private readonly rw: number;
  private readonly rm: number;
  private readonly folioArena: DescriptorArena;
  /**
   * The folio-descriptor words an order-0 folio gets from declared fields (offset, init value), one
   * entry per 32-bit word, rebuilt on every place(): the small-folio fast path writes them in a loop.
   */
  private init0Off = new Int32Array(0);
  private init0Val = new Int32Array(0);

  constructor(opts: MemdescOptions = {}) {
    this.rec = opts.structPage32 ? REC32 : REC8;
    this.name = opts.structPage32 ? 'struct-page-32' : 'memdesc';
    this.pageBytes = this.rec.words * 4;
    this.pages = new SectionArray(this.rec.words);
    this.rl = this.rec.lo;
    this.rh = this.rec.hi;
    this.rw = this.rec.words;
    this.rm = this.rec.mapcount;
    const sizes = { ...DEFAULT_DESCRIPTOR_SIZES, ...opts.descriptorSizes };
    const kinds: DescriptorKind[] = ['folio', 'hugetlb', 'slab', 'ptdesc'];
    this.arenas = {} as Record<DescriptorKind, DescriptorArena>;
    kinds.forEach((k, i) => {
      const minimum = k === 'folio' || k === 'hugetlb' ? FOLIO.words * 4 : SMALL.words * 4;
      if (sizes[k] < minimum) throw new RangeError(`memdesc: ${k} descriptor size ${sizes[k]} B is smaller than its ${minimum} B of fields`);
      // Each arena gets its own 1 TiB of simulated kernel address space.
      const a = new DescriptorArena(k, sizes[k], (i + 1) * 2 ** 40);
      a.usedWords = k === 'folio' || k === 'hugetlb' ? FOLIO.words : SMALL.words;
      this.arenas[k] = a;
    });
    for (const t of [MemdescTag.anon, MemdescTag.file, MemdescTag.ksm]) this.arenaOfTag[t] = this.arenas.folio;
    this.arenaOfTag[MemdescTag.hugetlb] = this.arenas.hugetlb;
    this.arenaOfTag[MemdescTag.slab] = this.arenas.slab;
    this.arenaOfTag[MemdescTag.pagetable] = this.arenas.ptdesc;
    const f = this.arenas.folio;
    this.folioArena = f;
    this.core = { flags: f.handle(FOLIO.flags), refcount: f.handle(FOLIO.refcount), mapping: f.handle(FOLIO.mapping), index: f.handle(FOLIO.index), private: f.handle(FOLIO.private), memcg: f.handle(FOLIO.memcg) };
  }

  /** The simulated kernel address of an object's descriptor (what a memdesc word points at), or -1 if it has none. */
  descriptor_address(type: PageType, id: number): number {
    const arena = this.arenaOfTag[memdesc_tag_of(type)];
    return arena ? arena.address(id) : -1;
  }

  descriptor_size(kind: DescriptorKind): number {
    return this.arenas[kind].size;
  }

  attach(space: PfnSpace): void {
    this.space = space;
  }

  /** One folio descriptor per page (all order-0 folios) and one ptdesc per 512 (page tables mapping them all). */
  descriptors_reserve(pfns: number): void {
    this.folioArena.reserve(pfns);
    this.arenas.ptdesc.reserve(Math.ceil(pfns / 512) + 64);
  }

  online_section(section: number): void {
    this.pages.online(section);
  }

  section_online(section: number): boolean {
    return section < this.pages.chunks.length && this.pages.chunks[section]!.length > 0;
  }

  private chunk(pfn: number): Int32Array {
    return this.pages.chunks[pfn >>> 15]!;
  }

  private k(pfn: number): number {
    return (pfn & 0x7fff) * this.rw;
  }

  // ---- buddy: the buddy memdesc is embedded in the word: tag, order, free-list position ----
  buddy_mark(pfn: number, order: number, pos: number): void {
    const c = this.pages.chunks[pfn >>> 15]!;
    const k = (pfn & 0x7fff) * this.rw;
    c[k + this.rl] = MemdescTag.buddy | (order << 4);
    c[k + this.rh] = pos;
  }

  buddy_clear(pfn: number): void {
    const c = this.pages.chunks[pfn >>> 15]!;
    const k = (pfn & 0x7fff) * this.rw;
    c[k + this.rl] = 0;
    c[k + this.rh] = 0;
  }

  buddy_order(pfn: number): number {
    const lo = this.pages.chunks[pfn >>> 15]![(pfn & 0x7fff) * this.rw + this.rl]!;
    return (lo & 15) === MemdescTag.buddy ? (lo >>> 4) & 31 : -1;
  }

  buddy_pos(pfn: number): number {
    return this.pages.chunks[pfn >>> 15]![(pfn & 0x7fff) * this.rw + this.rh]!;
  }

  buddy_set_pos(pfn: number, pos: number): void {
    this.pages.chunks[pfn >>> 15]![(pfn & 0x7fff) * this.rw + this.rh] = pos;
  }

  // ---- field placement ----
  place(decl: FieldDecl): PlacementResult {
    const p = this.place_field(decl);
    const off: number[] = [];
    const val: number[] = [];
    for (const f of this.inits) {
      if (f.minOrder > 0) continue;
      for (let w = 0; w < f.words; w++) {
        off.push(f.off + w);
        val.push(f.init);
      }
    }
    this.init0Off = Int32Array.from(off);
    this.init0Val = Int32Array.from(val);
    return p;
  }

  private place_field(decl: FieldDecl): PlacementResult {
    const words = decl.words ?? 1;
    if (decl.scope === 'global') {
      const a = new Int32Array((decl.length ?? 1) * words);
      if (decl.init) a.fill(decl.init);
      this.globals.push(a);
      return { decl, handle: field_handle([a], 30, words, 0), where: 'global array', bytesPerUnit: words * 4 };
    }
    if (decl.scope === 'page') {
      if (this.rec.mapcount >= 0 && decl.name === '_mapcount' && words === 1 && !this.mapcountPlaced) {
        this.mapcountPlaced = true;
        return { decl, handle: this.pages.handle(this.rec.mapcount), where: '32-byte struct page +24 (_mapcount)', bytesPerUnit: 0 };
      }
      return {
        decl,
        refused: `${this.name}: per-page field ${decl.name} has no home: a page is ${this.pageBytes} bytes and all of them are taken; every piece of per-page state would have to come back as an extra array on every PFN`,
      };
    }
    const folio = this.arenas.folio;
    if (decl.scope === 'folio' && words === 1 && decl.name === '_mapcount' && !this.usedSlot.has(FOLIO.mapcount)) {
      this.usedSlot.add(FOLIO.mapcount);
      this.inits.push({ off: FOLIO.mapcount, words, init: decl.init ?? -1, minOrder: 0 });
      return { decl, handle: folio.handle(FOLIO.mapcount), where: 'folio descriptor +52 (_mapcount)', bytesPerUnit: 0 };
    }
    if (decl.name === '_pincount' && words === 1 && !this.usedSlot.has(FOLIO.pincount)) {
      this.usedSlot.add(FOLIO.pincount);
      this.inits.push({ off: FOLIO.pincount, words, init: decl.init ?? 0, minOrder: decl.scope === 'large-folio' ? (decl.minOrder ?? 1) : 0 });
      return { decl, handle: folio.handle(FOLIO.pincount), where: 'folio descriptor +56 (_pincount)', bytesPerUnit: 0 };
    }
    // Every folio descriptor grows: there is one folio type, so small folios pay for large-folio fields too.
    const before = folio.size;
    const { off } = folio.extend(words);
    this.extraFolioBytes += folio.size - before;
    this.inits.push({ off, words, init: decl.init ?? 0, minOrder: decl.scope === 'large-folio' ? (decl.minOrder ?? 1) : 0 });
    return { decl, handle: folio.handle(off), where: `folio descriptor +${off * 4} (descriptor now ${folio.size} B)`, bytesPerUnit: folio.size - before };
  }

  private readonly usedSlot = new Set<number>();

  // ---- objects ----
  object_create(type: PageType, pfn: number, nrPages: number): number {
    if (nrPages === 1 && page_type_is_folio(type)) {
      // An order-0 folio (the single fault path): the batch build with a batch of one, no reference yet.
      this.onePfn[0] = pfn;
      this.create_bulk(type, this.onePfn, 1, this.oneId, this.init0Off, this.init0Val, -1, 0, 0, 0, 0);
      return this.oneId[0]!;
    }
    const tag = memdesc_tag_of(type);
    if (type === PageType.buddy) {
      this.buddy_mark(pfn, 31 - Math.clz32(nrPages), 0);
      return -1;
    }
    const arena = this.arenaOfTag[tag];
    let lo: number;
    let hi: number;
    let id: number;
    if (arena === undefined) {
      // Undescribed: subtype and order in the word; the object is named by its first PFN.
      const order = 31 - Math.clz32(nrPages);
      lo = (memdesc_subtype_of(type) << 4) | (order << ORDER_SHIFT);
      hi = 0;
      id = type === PageType.none ? -1 : pfn;
    } else {
      id = arena.alloc();
      const c = arena.chunks[id >>> DescriptorArena.CHUNK_SHIFT]!;
      const b = (id & ((1 << DescriptorArena.CHUNK_SHIFT) - 1)) * arena.stride;
      const folioLike = arena === this.arenas.folio || arena === this.arenas.hugetlb;
      c[b + (folioLike ? FOLIO.pfn : SMALL.pfn)] = pfn;
      c[b + (folioLike ? FOLIO.nr : SMALL.nr)] = nrPages;
      if (nrPages > 1) c[b] = 1 << PG_head;
      if (folioLike) {
        c[b + FOLIO.mapcount] = -1;
        c[b + FOLIO.mapping] = folio_mapping_bits(type);
      }
      if (page_type_is_folio(type)) {
        const order = 31 - Math.clz32(nrPages);
        for (const f of this.inits) if (order >= f.minOrder) for (let w = 0; w < f.words; w++) c[b + f.off + w] = f.init;
      }
      const addr = arena.address(id);
      lo = ((addr % TWO32) | tag) >>> 0;
      hi = Math.floor(addr / TWO32);
      this.liveByType[type]! += 1;
    }
    const rl = this.rec.lo;
    const rh = this.rec.hi;
    const rm = this.rec.mapcount;
    for (let j = 0; j < nrPages; j++) {
      const c = this.chunk(pfn + j);
      const k = this.k(pfn + j);
      c[k + rl] = lo | 0;
      c[k + rh] = hi;
      if (rm >= 0) c[k + rm] = -1;
    }
    return id;
  }

  folio_create_bulk(type: PageType, pfns: Int32Array, n: number, out: Int32Array): void {
    this.create_bulk(type, pfns, n, out, this.init0Off, this.init0Val, -1, 0, 0, 0, 1);
  }

  folio_create_bulk_anon(pfns: Int32Array, n: number, out: Int32Array, anon: NewAnonRmap): void {
    const w = this.anon_words(anon.writes);
    this.create_bulk(PageType.anon, pfns, n, out, w.words.off, w.words.val, w.pageMapcount, anon.index | 0, u64_hi(anon.index), 1, 1);
    anon_writes_make(w.words.later, pfns, out, n);
  }

  /**
   * The folio descriptor words of a new anon folio (anon_record_words()) and the value of the 32-byte
   * page's _mapcount (-1 unless a write sets it), kept while the writes and placements stay the same.
   */
  private anon_words(writes: readonly AnonRmapWrite[]): { words: AnonRecordWords; pageMapcount: number } {
    const c = this.anonCache;
    if (c !== null && c.writes === writes && c.init === this.init0Off) return c;
    const pageMapcount = (x: AnonRmapWrite) => x.unit === 'page' && x.handle.chunks === this.pages.chunks && x.handle.off === this.rm;
    const words = anon_record_words(
      this.init0Off,
      this.init0Val,
      writes.filter((x) => !pageMapcount(x)),
      (x) => x.unit === 'folio' && x.handle.chunks === this.folioArena.chunks,
    );
    this.anonCache = { writes, init: this.init0Off, words, pageMapcount: writes.find(pageMapcount)?.value ?? -1 };
    return this.anonCache;
  }

  private anonCache: { writes: readonly AnonRmapWrite[]; init: Int32Array; words: AnonRecordWords; pageMapcount: number } | null = null;

  private readonly onePfn = new Int32Array(1);
  private readonly oneId = new Int32Array(1);

  /**
   * n order-0 folios at pfns[0..n), ids to out: the descriptors taken (and zeroed) in one go, their core
   * words, the declared words (off[j] = val[j]), _refcount = refcount and folio->index = idxLo + i * step
   * (high word idxHi; all 0: not set), and each page's memdesc word (its _mapcount = pageMapcount in a
   * 32-byte page). The memdesc word is written whole: buddy_clear() would only have zeroed it first.
   */
  private create_bulk(type: PageType, pfns: Int32Array, n: number, out: Int32Array, off: Int32Array, val: Int32Array, pageMapcount: number, idxLo: number, idxHi: number, step: number, refcount: number): void {
    const arena = this.folioArena;
    arena.alloc_bulk(n, out);
    const stride = arena.size >>> 2;
    const chunks = arena.chunks;
    const mapping = folio_mapping_bits(type);
    const tag = memdesc_tag_of(type);
    const pages = this.pages.chunks;
    const rw = this.rw;
    const rl = this.rl;
    const rh = this.rh;
    const rm = this.rm;
    const base = arena.base;
    const size = arena.size;
    for (let i = 0; i < n; i++) {
      const id = out[i]!;
      const pfn = pfns[i]!;
      const c = chunks[id >>> DescriptorArena.CHUNK_SHIFT]!;
      const b = (id & DescriptorArena.CHUNK_MASK) * stride;
      c[b + FOLIO.pfn] = pfn;
      c[b + FOLIO.nr] = 1;
      c[b + FOLIO.mapcount] = -1;
      c[b + FOLIO.refcount] = refcount;
      c[b + FOLIO.index] = (idxLo + i * step) | 0;
      c[b + FOLIO.index + 1] = idxHi;
      if (mapping !== 0) c[b + FOLIO.mapping] = mapping;
      for (let j = 0; j < off.length; j++) c[b + off[j]!] = val[j]!;
      const addr = base + id * size;
      const low = addr >>> 0;
      const p = pages[pfn >>> 15]!;
      const k = (pfn & 0x7fff) * rw;
      p[k + rl] = low | tag;
      p[k + rh] = (addr - low) / TWO32;
      if (rm >= 0) p[k + rm] = pageMapcount;
    }
    this.liveByType[type]! += n;
  }

  object_destroy(type: PageType, id: number): void {
    const pfn = this.object_pfn(type, id);
    const nr = this.object_nr_pages(type, id);
    const arena = this.arenaOfTag[memdesc_tag_of(type)];
    if (arena) {
      arena.free(id);
      this.liveByType[type]! -= 1;
    }
    const w = this.rw;
    for (let j = 0; j < nr; j++) {
      const c = this.pages.chunks[(pfn + j) >>> 15]!;
      for (let k = ((pfn + j) & 0x7fff) * w, end = k + w; k < end; k++) c[k] = 0;
    }
  }

  free_page_bad_reason(pfn: number): string | null {
    const c = this.chunk(pfn);
    const k = this.k(pfn);
    // A free block's first page holds the buddy memdesc (tag, order, list position) in its word.
    const marked = this.buddy_order(pfn) >= 0;
    for (let w = 0; w < this.rw; w++) {
      if (marked && (w === this.rl || w === this.rh)) continue;
      if (c[k + w] !== 0) return `${this.name} page word ${w} is ${c[k + w]}, not 0`;
    }
    return null;
  }

  page_object(pfn: number): number {
    const c = this.chunk(pfn);
    const k = this.k(pfn);
    const lo = c[k + this.rec.lo]!;
    const tag = lo & 15;
    const arena = this.arenaOfTag[tag];
    if (arena) return arena.index_of(c[k + this.rec.hi]! * TWO32 + ((lo & ~15) >>> 0));
    if (tag !== MemdescTag.undescribed || lo === 0) return -1;
    return pfn & ~((1 << ((lo >>> ORDER_SHIFT) & 63)) - 1);
  }

  page_type(pfn: number): PageType {
    const lo = this.chunk(pfn)[this.k(pfn) + this.rec.lo]!;
    switch (lo & 15) {
      case MemdescTag.undescribed: return page_type_of_subtype((lo >>> 4) & 0x7f);
      case MemdescTag.buddy: return PageType.buddy;
      case MemdescTag.anon: return PageType.anon;
      case MemdescTag.file: return PageType.file;
      case MemdescTag.ksm: return PageType.ksm;
      case MemdescTag.slab: return PageType.slab;
      case MemdescTag.pagetable: return PageType.pagetable;
      case MemdescTag.hugetlb: return PageType.hugetlb;
      default: return PageType.unknown;
    }
  }

  private slot(type: PageType, id: number, folioSlot: number, smallSlot: number): number {
    const arena = this.arenaOfTag[memdesc_tag_of(type)];
    if (!arena) return -1;
    const folioLike = arena === this.arenas.folio || arena === this.arenas.hugetlb;
    return arena.chunks[id >>> DescriptorArena.CHUNK_SHIFT]![(id & ((1 << DescriptorArena.CHUNK_SHIFT) - 1)) * arena.stride + (folioLike ? folioSlot : smallSlot)]!;
  }

  object_pfn(type: PageType, id: number): number {
    if (type === PageType.anon) {
      // The folio API (folio_pfn) always asks for the folio arena: one load.
      const a = this.folioArena;
      return a.chunks[id >>> DescriptorArena.CHUNK_SHIFT]![(id & DescriptorArena.CHUNK_MASK) * (a.size >>> 2) + FOLIO.pfn]!;
    }
    const v = this.slot(type, id, FOLIO.pfn, SMALL.pfn);
    return v < 0 ? id : v;
  }

  object_nr_pages(type: PageType, id: number): number {
    if (type === PageType.anon) {
      const a = this.folioArena;
      return a.chunks[id >>> DescriptorArena.CHUNK_SHIFT]![(id & DescriptorArena.CHUNK_MASK) * (a.size >>> 2) + FOLIO.nr]!;
    }
    const v = this.slot(type, id, FOLIO.nr, SMALL.nr);
    if (v >= 0) return v;
    const lo = this.chunk(id)[this.k(id) + this.rec.lo]!;
    return 1 << ((lo >>> ORDER_SHIFT) & 63);
  }

  bytes(pagesByType: ArrayLike<number>): LayoutBytes {
    const pfns = this.space.pfns;
    const memmap = pfns * this.pageBytes;
    const descriptors: Record<string, number> = {};
    let desc = 0;
    for (const [k, a] of Object.entries(this.arenas)) {
      descriptors[k] = a.bytes();
      desc += a.bytes();
    }
    let extra = 0;
    for (const g of this.globals) extra += g.byteLength;
    const byType = {} as Record<(typeof PAGE_TYPE_NAMES)[number], number>;
    for (let t = 0; t < NR_PAGE_TYPES; t++) {
      const arena = this.arenaOfTag[memdesc_tag_of(t as PageType)];
      byType[PAGE_TYPE_NAMES[t]!] = (pagesByType[t] ?? 0) * this.pageBytes + (arena ? this.liveByType[t]! * arena.size : 0);
    }
    return { layout: this.name, total: memmap + desc + extra, memmap, descriptors, extra, hvoFreed: 0, byType };
  }

  host_bytes(): number {
    let b = this.pages.host_bytes();
    for (const a of Object.values(this.arenas)) b += a.host_bytes();
    for (const g of this.globals) b += g.byteLength;
    return b;
  }
}
