import type { MapcountPolicy } from '@foliolab/vm';
import type { WaitPolicy } from '@foliolab/pagewait';
import type { BlockMapper } from '@foliolab/pagecache';
import * as perPage from '@foliolab/mapcount-per-page';
import * as perFolio from '@foliolab/mapcount-per-folio';
import * as upstream from '@foliolab/mapcount-upstream';
import { createHashedWaitPolicy } from '@foliolab/pagewait-hashed';
import { createAttachedWaitPolicy } from '@foliolab/pagewait-attached';
import { createBufferHeadMapper } from '@foliolab/fs-buffer-head';
import { createIomapMapper } from '@foliolab/fs-iomap';
import { UnknownNameError } from './layouts.js';

/** One registered implementation of a design choice. */
export interface RegistryEntry<T> {
  name: string;
  summary: string;
  /** Package that implements it, for the result's versions. */
  package: string;
  create(options: RegistryOptions): T;
}

/** Machine-wide knobs a policy may take. */
export interface RegistryOptions {
  waitTableBits?: number;
}

/** Registered mapcount policies; register_external() appends policies loaded from outside the repo. */
export const MAPCOUNT_POLICIES: RegistryEntry<MapcountPolicy>[] = [
  { name: 'per-page', package: '@foliolab/mapcount-per-page', summary: 'legacy: _mapcount per page + entire mapcount + _nr_pages_mapped (6.2–6.9)', create: () => perPage.createPolicy() },
  { name: 'per-folio', package: '@foliolab/mapcount-per-folio', summary: 'Wilcox Jan 2023: one count of (vma, page table) tuples per folio', create: () => perFolio.createPolicy() },
  { name: 'per-folio-vmas', package: '@foliolab/mapcount-per-folio', summary: 'Wilcox\'s follow-up: VMAs mapping the folio', create: () => perFolio.createPolicy({ variant: 'vmas' }) },
  { name: 'upstream', package: '@foliolab/mapcount-upstream', summary: '6.15+: _large_mapcount, entire mapcount, two MM-id slots, CONFIG_PAGE_MAPCOUNT=y', create: () => upstream.createPolicy({ pageMapcount: true }) },
  { name: 'upstream-no-page-mapcount', package: '@foliolab/mapcount-upstream', summary: '6.15+ with CONFIG_NO_PAGE_MAPCOUNT', create: () => upstream.createPolicy({ pageMapcount: false }) },
];

export const PAGEWAIT_POLICIES: RegistryEntry<WaitPolicy>[] = [
  { name: 'hashed', package: '@foliolab/pagewait-hashed', summary: '2^PAGE_WAIT_TABLE_BITS hashed wait queues (256 by default)', create: (o) => createHashedWaitPolicy({ tableBits: o.waitTableBits ?? 8 }) },
  { name: 'hashed-bookmarks', package: '@foliolab/pagewait-hashed', summary: 'hashed queues with 4.14–6.6 wake bookmarks every 64 entries', create: (o) => createHashedWaitPolicy({ tableBits: o.waitTableBits ?? 8, bookmarks: true }) },
  { name: 'attached', package: '@foliolab/pagewait-attached', summary: 'Glisse 2018: a page_wait attached through page->mapping', create: () => createAttachedWaitPolicy() },
];

export const FS_BACKENDS: RegistryEntry<BlockMapper>[] = [
  { name: 'buffer-head', package: '@foliolab/fs-buffer-head', summary: 'generic fs/buffer.c: get_block per block, 104-byte buffer heads, one bio per block', create: () => createBufferHeadMapper({ profile: 'generic' }) },
  { name: 'buffer-head-mpage', package: '@foliolab/fs-buffer-head', summary: 'buffer_head with the mpage read/write paths (run-length get_block, merged bios)', create: () => createBufferHeadMapper({ profile: 'mpage' }) },
  { name: 'ext4', package: '@foliolab/fs-buffer-head', summary: 'buffer_head, ext4 profile: per-block delalloc, extent writeback, mpage readahead', create: () => createBufferHeadMapper({ profile: 'ext4' }) },
  { name: 'iomap', package: '@foliolab/fs-iomap', summary: 'generic iomap: iomap_begin per extent, iomap_folio_state bitmaps, ioends', create: () => createIomapMapper({ profile: 'generic' }) },
  { name: 'xfs', package: '@foliolab/fs-iomap', summary: 'iomap, xfs profile: delalloc per write, cached writeback mapping', create: () => createIomapMapper({ profile: 'xfs' }) },
];

export type ChoiceKind = 'mapcount' | 'pagewait' | 'fs';

export function registry_of(kind: ChoiceKind): readonly RegistryEntry<unknown>[] {
  return kind === 'mapcount' ? MAPCOUNT_POLICIES : kind === 'pagewait' ? PAGEWAIT_POLICIES : FS_BACKENDS;
}

export function registry_entry<T>(list: readonly RegistryEntry<T>[], name: string, option: string): RegistryEntry<T> {
  const e = list.find((x) => x.name === name);
  if (!e) throw new UnknownNameError(option, name, list.map((x) => x.name));
  return e;
}
