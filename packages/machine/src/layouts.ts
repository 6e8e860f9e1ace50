import type { Layout } from '@foliolab/memmap';
import { StructPageLayout } from '@foliolab/layout-struct-page';
import { MemdescLayout } from '@foliolab/layout-memdesc';

export interface LayoutEntry {
  name: string;
  summary: string;
  create(): Layout;
}

/** Every descriptor layout foliolab ships, by the name the CLI and results use. */
export const LAYOUTS: readonly LayoutEntry[] = [
  { name: 'struct-page', summary: '64-byte struct page per PFN (today\'s kernel)', create: () => new StructPageLayout() },
  { name: 'struct-page-hvo', summary: 'struct page with the HugeTLB vmemmap optimization', create: () => new StructPageLayout({ hvo: true }) },
  { name: 'memdesc', summary: '8-byte memdesc word per PFN + typed descriptors', create: () => new MemdescLayout() },
  { name: 'struct-page-32', summary: 'Wilcox\'s interim 32-byte struct page + typed descriptors', create: () => new MemdescLayout({ structPage32: true }) },
];

export class UnknownNameError extends Error {
  constructor(readonly option: string, readonly value: string, readonly known: readonly string[]) {
    super(`${option}: unknown ${option.replace(/^--/, '')} "${value}" (known: ${known.join(', ')})`);
    this.name = 'UnknownNameError';
  }
}

export function layout_entry(name: string, option = '--layout'): LayoutEntry {
  const e = LAYOUTS.find((l) => l.name === name);
  if (!e) throw new UnknownNameError(option, name, LAYOUTS.map((l) => l.name));
  return e;
}

/** Parse a comma-separated list of layout names, rejecting unknown ones before any work is done. */
export function parse_layout_list(list: string | undefined, option = '--layout'): LayoutEntry[] {
  if (list === undefined) return [...LAYOUTS];
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UnknownNameError(option, list, LAYOUTS.map((l) => l.name));
  return names.map((n) => layout_entry(n, option));
}
