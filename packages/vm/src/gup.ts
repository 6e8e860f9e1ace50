import { PageType, field_add } from '@foliolab/memmap';
import { VmStepError } from './errors.js';
import type { Mm } from './mm.js';
import { E_HUGE, E_WRITE, PMD_SIZE, PTRS } from './pagetable.js';
import { PROT_READ, PROT_WRITE, VM_SHARED } from './vma.js';
import { GUP_PIN_COUNTING_BIAS, type Pin, type Vm } from './vm.js';

const PAGE = 4096;

export interface PinMode {
  write: boolean;
  longterm: boolean;
}

export function pin_mode(mode: string): PinMode | undefined {
  switch (mode) {
    case 'ro': return { write: false, longterm: false };
    case 'rw': return { write: true, longterm: false };
    case 'ro-longterm': return { write: false, longterm: true };
    case 'rw-longterm': return { write: true, longterm: true };
    default: return undefined;
  }
}

/**
 * pin_user_pages() (FOLL_PIN) over [start, start+len). Each page is faulted in as needed: FOLL_WRITE
 * breaks COW first; an R/O pin of an anonymous page that is not PageAnonExclusive in a private
 * mapping triggers FAULT_FLAG_UNSHARE (gup_must_unshare()), as does an R/O long-term pin of the
 * shared zeropage or a page-cache page in a private mapping. Then the pin: a small folio's refcount
 * gains GUP_PIN_COUNTING_BIAS, a large folio's gains 1 and its _pincount 1. The mm gets MMF_HAS_PINNED.
 */
export function vm_pin(vm: Vm, mm: Mm, start: number, len: number, mode: PinMode, name: string): Pin {
  const first = start - (start % PAGE);
  const n = Math.ceil((start + len - first) / PAGE);
  const pfns = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const va = first + i * PAGE;
    const vma = mm.find_vma(va);
    if (vma === undefined) throw new VmStepError('offset', `pin: 0x${va.toString(16)} is not mapped in ${mm.name} (-EFAULT)`);
    if (!(vma.prot & PROT_READ) || (mode.write && !(vma.prot & PROT_WRITE))) {
      throw new VmStepError('mode', `pin ${mode.write ? 'rw' : 'ro'} of 0x${va.toString(16)} in ${mm.name}: the mapping does not allow it (-EFAULT)`);
    }
    if (vm.follow_page(mm, va) < 0 || mode.write) vm.touch(mm, va, 1, mode.write);
    if (!mode.write && vma.cow()) gup_unshare(vm, mm, vma, va, mode.longterm);
    const pfn = vm.follow_page(mm, va);
    if (pfn < 0) {
      // The fault ran out of memory: GUP fails with -ENOMEM and gives back what it pinned so far.
      pins_release(vm, pfns.subarray(0, i));
      throw new VmStepError('size', `pin: out of memory faulting in 0x${va.toString(16)} of ${mm.name} (-ENOMEM)`);
    }
    pfns[i] = pfn;
    if (vm.is_zero_pfn(pfn)) continue;
    const folio = vm.memmap.page_folio(pfn);
    if (vm.memmap.folio_test_large(folio)) {
      vm.memmap.folio_ref_add(folio, 1);
      field_add(vm.pincount, folio, 1);
    } else vm.memmap.folio_ref_add(folio, GUP_PIN_COUNTING_BIAS);
  }
  mm.hasPinned = true;
  const pin: Pin = { name, mm, start: first, pfns, write: mode.write, longterm: mode.longterm };
  vm.pins.push(pin);
  return pin;
}

function gup_unshare(vm: Vm, mm: Mm, vma: import('./vma.js').Vma, va: number, longterm: boolean): void {
  const loc = vm.pmd_loc(mm, Math.floor(va / PMD_SIZE), false);
  if (loc < 0) return;
  let e = vm.pt.ent[loc]!;
  if (e & E_HUGE) {
    const pfn = e >>> 4;
    if (pfn === vm.hugeZeroPfn) {
      if (!longterm) return;
      vm.split_huge_pmd(mm, vma, loc);
    } else {
      if (vm.pae(pfn)) return;
      if (vm.do_huge_pmd_wp_page(mm, vma, loc, true)) return;
    }
    e = vm.pt.ent[loc]!;
  }
  const idx = (e >>> 4) * PTRS + ((va / PAGE) & 511);
  const pe = vm.pt.ent[idx]!;
  const pfn = pe >>> 4;
  if (pe & E_WRITE) return;
  if (pfn === vm.zeroPfn) {
    if (longterm) vm.do_wp_page(mm, vma, va, e >>> 4, idx, true);
    return;
  }
  const anon = vm.memmap.folio_type(vm.folio_of(pfn)) === PageType.anon;
  if (anon ? !vm.pae(pfn) : longterm && !(vma.flags & VM_SHARED)) vm.do_wp_page(mm, vma, va, e >>> 4, idx, true);
}

/** unpin_user_pages(): drop what vm_pin took. The last reference frees the folio. */
export function vm_unpin(vm: Vm, pin: Pin): void {
  const i = vm.pins.indexOf(pin);
  if (i < 0) return;
  vm.pins.splice(i, 1);
  pins_release(vm, pin.pfns);
}

/** Drop the references (and _pincount) a pin holds on each of its pages. */
function pins_release(vm: Vm, pfns: Int32Array): void {
  for (const pfn of pfns) {
    if (pfn < 0 || vm.is_zero_pfn(pfn)) continue;
    const folio = vm.memmap.page_folio(pfn);
    if (vm.memmap.folio_test_large(folio)) {
      field_add(vm.pincount, folio, -1);
      vm.folio_put_refs(folio, 1);
    } else vm.folio_put_refs(folio, GUP_PIN_COUNTING_BIAS);
  }
}
