import { PAGES_PER_SECTION, PFN_SECTION_SHIFT, PageType, VmBug, field_get, memmap_check } from '@foliolab/memmap';
import { PTES_SAT } from './page-state.js';
import { E_HUGE, PTRS } from './pagetable.js';
import { GUP_PIN_COUNTING_BIAS, type Vm } from './vm.js';

export interface VmCheckOptions {
  /** Also require the policy to agree with the oracle on every query it claims exactness for. Default true. */
  policyClaims?: boolean;
}

/**
 * CONFIG_DEBUG_VM for the address-space layer, O(page tables + PFNs):
 * - memmap_check(): every PFN in exactly one place;
 * - every leaf entry maps a live folio (no PTE to a free PFN) or the zero page; every PMD map has a
 *   deposited page table;
 * - the oracle's counts equal a recount from the page tables; a free PFN has page state 0 (no
 *   PageAnonExclusive, no PTE count);
 * - refcount == mappings + pins for every anonymous folio (so refcount >= mapcount), and no anonymous
 *   folio is alive without a mapping or a pin;
 * - a PageAnonExclusive page is mapped by at most one entry;
 * - the policy agrees with the oracle wherever it claims to be exact.
 */
export function vm_check(vm: Vm, opts: VmCheckOptions = {}): void {
  const mm0 = vm.memmap;
  const layout = vm.layout;
  memmap_check(mm0);
  const ent = vm.pt.ent;
  const ptes = new Map<number, number>();
  const pmds = new Map<number, number>();
  const live = (pfn: number, what: string) => {
    const t = layout.page_type(pfn);
    if (t !== PageType.anon && t !== PageType.file && t !== PageType.ksm) {
      throw new VmBug(`vm_check: ${what} maps pfn ${pfn}, which is ${t === PageType.buddy || t === PageType.none ? 'free' : `of type ${t}`}`);
    }
  };
  for (const mm of vm.mms.values()) {
    let rss = 0;
    const walk = (slot: number, level: number, base: number) => {
      for (let i = 0; i < PTRS; i++) {
        const e = ent[slot * PTRS + i]!;
        if (e === 0) continue;
        const addr = base + i * 2 ** (12 + 9 * (level - 1));
        if (level === 1) {
          const pfn = e >>> 4;
          if (vm.is_zero_pfn(pfn)) continue;
          live(pfn, `${mm.name}'s PTE for 0x${addr.toString(16)}`);
          ptes.set(pfn, (ptes.get(pfn) ?? 0) + 1);
          if (layout.page_type(pfn) === PageType.anon) rss++;
        } else if (level === 2 && e & E_HUGE) {
          const pfn = e >>> 4;
          if (!vm.deposit.has(slot * PTRS + i)) throw new VmBug(`vm_check: ${mm.name}'s PMD map at 0x${addr.toString(16)} has no deposited page table`);
          if (vm.is_zero_pfn(pfn)) continue;
          live(pfn, `${mm.name}'s PMD for 0x${addr.toString(16)}`);
          pmds.set(pfn, (pmds.get(pfn) ?? 0) + 1);
          rss += 512;
        } else walk(e >>> 4, level - 1, addr);
      }
    };
    walk(mm.pgd, 4, 0);
    if (rss !== mm.rssAnon) throw new VmBug(`vm_check: ${mm.name} maps ${rss} anon pages but rssAnon says ${mm.rssAnon}`);
  }
  const st = vm.pageState;
  for (const [pfn, n] of ptes) if (st.ptes(pfn) !== n) throw new VmBug(`vm_check: oracle counts ${st.ptes(pfn)} PTEs for pfn ${pfn}, page tables have ${n}`);
  st.bytes.chunks.forEach((c, s) => {
    for (let k = 0; k < c.length; k++) {
      if (c[k] === 0) continue;
      const pfn = s * PAGES_PER_SECTION + k;
      if ((c[k]! & PTES_SAT) !== 0 && ptes.get(pfn) !== st.ptes(pfn)) throw new VmBug(`vm_check: oracle counts ${st.ptes(pfn)} PTEs for pfn ${pfn}, page tables have ${ptes.get(pfn) ?? 0}`);
      const t = layout.page_type(pfn);
      if (t === PageType.buddy || t === PageType.none) throw new VmBug(`vm_check: free pfn ${pfn} has page state 0x${c[k]!.toString(16)} (PageAnonExclusive or a PTE count), not 0`);
    }
  });
  for (const [pfn, n] of st.over) if (!(n > 0) || (st.bytes.get(pfn) & PTES_SAT) !== PTES_SAT) throw new VmBug(`vm_check: pfn ${pfn} has ${n} PTEs over 127 but its count byte is ${st.bytes.get(pfn) & PTES_SAT}`);
  for (const [h, n] of pmds) if (vm.oracle.pmds.get(h) !== n) throw new VmBug(`vm_check: oracle counts ${vm.oracle.pmds.get(h)} PMD maps of ${h}, page tables have ${n}`);
  if (vm.oracle.pmds.size !== pmds.size) throw new VmBug(`vm_check: oracle knows ${vm.oracle.pmds.size} PMD-mapped folios, page tables ${pmds.size}`);
  // Pins per folio, in refcount units.
  const pinRefs = new Map<number, number>();
  for (const p of vm.pins) {
    for (const pfn of p.pfns) {
      if (pfn < 0 || vm.is_zero_pfn(pfn)) continue;
      const f = layout.page_object(pfn);
      pinRefs.set(f, (pinRefs.get(f) ?? 0) + (mm0.folio_test_large(f) ? 1 : GUP_PIN_COUNTING_BIAS));
    }
  }
  const claims = opts.policyClaims ?? true;
  for (let s = 0; s < mm0.sections; s++) {
    if (!layout.section_online(s)) continue;
    const end = Math.min((s + 1) << PFN_SECTION_SHIFT, mm0.pfns);
    for (let pfn = s << PFN_SECTION_SHIFT; pfn < end; ) {
      if (layout.page_type(pfn) !== PageType.anon) {
        pfn++;
        continue;
      }
      const f = layout.page_object(pfn);
      const nr = mm0.folio_nr_pages(f);
      const mapcount = vm.oracle.folio_mapcount(pfn, nr);
      const ref = mm0.folio_ref_count(f);
      const pins = pinRefs.get(f) ?? 0;
      if (ref !== mapcount + pins) throw new VmBug(`vm_check: anon folio ${f} (pfn ${pfn}, ${nr} pages) has refcount ${ref}, but ${mapcount} mappings and ${pins} pin references`);
      if (nr > 1 && field_get(vm.pincount, f) * 1 !== (pins > 0 ? pins : 0)) throw new VmBug(`vm_check: folio ${f} _pincount ${field_get(vm.pincount, f)} but ${pins} pins`);
      for (let j = 0; j < nr; j++) {
        if (vm.pae(pfn + j) && vm.oracle.page_mapcount(pfn + j, pfn) > 1) throw new VmBug(`vm_check: pfn ${pfn + j} is PageAnonExclusive but mapped ${vm.oracle.page_mapcount(pfn + j, pfn)} times`);
      }
      if (claims && mapcount > 0) policy_claims_check(vm, f, pfn, nr);
      pfn += nr;
    }
  }
}

function policy_claims_check(vm: Vm, f: number, head: number, nr: number): void {
  const pol = vm.policy;
  const c = pol.claims;
  const o = vm.oracle;
  const tell = (q: string, said: unknown, truth: unknown) => {
    throw new VmBug(`vm_check: ${pol.name} says ${q} of folio ${f} (pfn ${head}, ${nr} pages) is ${String(said)}, the page tables say ${String(truth)}`);
  };
  const mc = o.folio_mapcount(head, nr);
  if (c.folio_mapcount && pol.folio_mapcount(f) !== mc) tell('folio_mapcount', pol.folio_mapcount(f), mc);
  if (c.mapped && pol.folio_mapped(f) !== mc > 0) tell('folio_mapped', pol.folio_mapped(f), mc > 0);
  if (c.page_mapcount) {
    for (let j = 0; j < nr; j++) {
      const t = o.page_mapcount(head + j, head);
      const p = pol.page_mapcount(f, head + j);
      if (p !== t) tell(`page_mapcount(pfn ${head + j})`, p, t);
    }
  }
  if (c.partially_mapped) {
    const t = o.folio_partially_mapped(head, nr);
    if (pol.folio_partially_mapped(f) !== t) tell('folio_partially_mapped', pol.folio_partially_mapped(f), t);
  }
  const shared = o.folio_mms(head, nr, nr > 1) > 1;
  const said = pol.folio_maybe_mapped_shared(f);
  if (c.maybe_mapped_shared === 'exact' && said !== shared) tell('folio_maybe_mapped_shared', said, shared);
  if (c.maybe_mapped_shared === 'no-false-negatives' && shared && !said) tell('folio_maybe_mapped_shared', said, shared);
}
