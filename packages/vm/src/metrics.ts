/** Query kinds scored against the oracle. */
export const QUERY_KINDS = [
  'page_mapcount',
  'folio_mapcount',
  'mapped',
  'maybe_mapped_shared',
  'partially_mapped',
  'cow_reuse',
  'deferred_split',
  'khugepaged_shared',
  'smaps',
] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

export interface QueryScore {
  right: number;
  wrong: number;
  /** For yes/no questions: said yes where the truth is no (e.g. "maybe shared" for an exclusive folio). */
  falsePositive: number;
  /** Said no where the truth is yes (e.g. "exclusive" for a shared folio: the dangerous direction). */
  falseNegative: number;
}

export interface VmMetrics {
  faults: {
    total: number;
    anon: number;
    anonMthp: number;
    anonPmd: number;
    zeroPage: number;
    hugeZeroPage: number;
    file: number;
    wp: number;
    unshare: number;
  };
  cow: {
    reuses: number;
    copies: number;
    /** Copies the oracle says were not needed: only this mm mapped the folio and nothing else held it. */
    unnecessaryCopies: number;
    /** Reuses while another process mapped the page: a write another process can see (CVE-2020-29374 class). */
    unsafeReuses: number;
    /** fork copied a possibly-pinned exclusive page for the child instead of sharing it (-EBUSY). */
    forkPinnedCopies: number;
  };
  /** Writes into a page another process maps, or that a pin taken elsewhere still references. */
  leakedWrites: number;
  /** Writes that a pin of the writing process at that address no longer sees (the pin holds another page). */
  stalePinWrites: number;
  split: {
    pmd: number;
    folioQueued: number;
    folioSplit: number;
    folioSplitFailed: number;
    collapse: number;
    collapseFailed: number;
  };
  oom: number;
  queries: Record<QueryKind, QueryScore>;
}

export function metrics_new(): VmMetrics {
  const queries = {} as Record<QueryKind, QueryScore>;
  for (const k of QUERY_KINDS) queries[k] = { right: 0, wrong: 0, falsePositive: 0, falseNegative: 0 };
  return {
    faults: { total: 0, anon: 0, anonMthp: 0, anonPmd: 0, zeroPage: 0, hugeZeroPage: 0, file: 0, wp: 0, unshare: 0 },
    cow: { reuses: 0, copies: 0, unnecessaryCopies: 0, unsafeReuses: 0, forkPinnedCopies: 0 },
    leakedWrites: 0,
    stalePinWrites: 0,
    split: { pmd: 0, folioQueued: 0, folioSplit: 0, folioSplitFailed: 0, collapse: 0, collapseFailed: 0 },
    oom: 0,
    queries,
  };
}

/** Score a yes/no answer. */
export function score_bool(s: QueryScore, said: boolean, truth: boolean): void {
  if (said === truth) s.right++;
  else {
    s.wrong++;
    if (said) s.falsePositive++;
    else s.falseNegative++;
  }
}

export function score_num(s: QueryScore, said: number, truth: number): void {
  if (said === truth) s.right++;
  else s.wrong++;
}
