import type { ContendParamsInput } from './contend-params.js';

/** A built-in `contend` workload: parameters plus the one-paragraph reason it exists. */
export interface ContendScenario {
  name: string;
  title: string;
  /** What it models and why these numbers, with the source. */
  doc: string;
  sources: readonly string[];
  params: ContendParamsInput;
}

export const CONTEND_SCENARIOS: readonly ContendScenario[] = [
  {
    name: 'numa-storm-2017',
    title: 'NUMA-balancing page-lock storm (2017)',
    doc:
      'Thousands of threads fault on a few hot shared pages while NUMA balancing migrates them; every fault ' +
      'on a page under migration sleeps on its PG_locked bit without taking it (migration_entry_wait_on_locked), ' +
      'so the unlock at the end of the copy wakes the whole herd. Tim Chen and Kan Liang (Intel) saw wait lists ' +
      '"up to 3700+ entries long in tests of large 4 and 8 socket systems", 0.8 s to traverse with interrupts ' +
      'off, and added wake-up bookmarks in v4.14; Kan Liang: "We tried both 12 and 16 bit table and that ' +
      "didn't make a difference. The long wake ups are mostly on the same page\". 3,800 tasks fault on 2 hot " +
      'folios; the herd gathers on whichever folio is under migration, so a queue reaches the 3,700+ of the report; cold folio locking puts a few foreign entries ' +
      'in the same buckets. walkCost is one remote cache miss per entry (200 ns), not the 216 us per entry the ' +
      '0.8 s figure implies, which included the queue-lock contention of 8 sockets.',
    sources: [
      'commit 2554db916586 "sched/wait: Break up long wake list walk" (Tim Chen, Aug 2017)',
      'commit 11a19c7b099f "sched/wait: Introduce wakeup bookmark in wake_up_page_bit"',
      'commit 9a1ea439b16b "mm: put_and_wait_on_page_locked() while page is migrated" (Hugh Dickins)',
    ],
    params: {
      tasks: 3800,
      hotFolios: 2,
      coldFolios: 4096,
      hotFraction: 0.97,
      pattern: 'migrate',
      holdTime: 2_000,
      thinkTime: 2_000,
      ioLatency: 200_000,
      migrateInterval: 400_000,
      walkCost: 200,
      wakeLatency: 5_000,
      duration: 3_000_000,
      seed: 2017,
    },
  },
  {
    name: 'bdev-large-folio-readers-2024',
    title: 'Large-folio block-device buffered reads with many readers (2024)',
    doc:
      'FIO doing buffered reads on a block device with large folios: the first reader of a folio that is not ' +
      'uptodate locks it for the read I/O, every other reader of the same (large) folio sleeps on PG_locked ' +
      '(folio_put_wait_locked in filemap_update_page) and retries, and reclaim keeps evicting folios so the ' +
      'reads recur. Bharata B Rao saw off-CPU time dominated by folio_wait_bit_common; Matthew Wilcox: "Most ' +
      'likely the waitqueue is just too damn long", "the easy way is to change #define PAGE_WAIT_TABLE_BITS 8 ' +
      'to a larger number", and "There\'s no space in struct folio to put a rwsem". Here 1,024 readers share 64 ' +
      'order-4 (64 KiB) folios with 100 us NVMe-class reads; a fifth of the reads go to a large, already ' +
      'cached, cold set.',
    sources: ['linux-fsdevel, Nov-Dec 2024, Bharata B Rao / Mateusz Guzik / Matthew Wilcox (spinics msg288267)'],
    params: {
      tasks: 1024,
      hotFolios: 64,
      coldFolios: 16_384,
      hotFraction: 0.8,
      pattern: 'read',
      folioOrder: 4,
      holdTime: 5_000,
      thinkTime: 1_000,
      ioLatency: 100_000,
      evictInterval: 2_000,
      walkCost: 50,
      wakeLatency: 3_000,
      duration: 10_000_000,
      seed: 2024,
    },
  },
  {
    name: 'file-server-uncontended',
    title: 'Mostly uncontended file server',
    doc:
      'A file server: 64 threads lock, dirty and write back folios spread over 64 Ki cached folios, and now and ' +
      'then truncate one. Two threads rarely want the same folio, so nearly every wait is short and the cost ' +
      'of the hashed table is only its collisions: a wake walks whatever other folios\' waiters share the ' +
      'bucket ("saves space at a cost of \'thundering herd\' phenomena during rare hash collisions", the ' +
      'comment above folio_wait_table in mm/filemap.c). This is where the attached design pays without ' +
      'gaining: each mapping read of a waited-on folio is one more dependent load, and truncation must see ' +
      'through the tag.',
    sources: ['mm/filemap.c, comment above PAGE_WAIT_TABLE_BITS / folio_wait_table', 'LWN, "Repurposing page->mapping" (LSF/MM 2018)'],
    params: {
      tasks: 64,
      hotFolios: 64,
      coldFolios: 65_536,
      hotFraction: 0.05,
      pattern: 'mixed',
      mixRatio: 0.6,
      truncateRate: 0.02,
      holdTime: 2_000,
      thinkTime: 5_000,
      ioLatency: 200_000,
      walkCost: 50,
      wakeLatency: 2_000,
      duration: 20_000_000,
      seed: 7,
    },
  },
];

/** A built-in scenario by name; the error lists the names. */
export function contendScenario(name: string): ContendScenario {
  const s = CONTEND_SCENARIOS.find((x) => x.name === name);
  if (!s) throw new RangeError(`unknown contend scenario ${JSON.stringify(name)} (known: ${CONTEND_SCENARIOS.map((x) => x.name).join(', ')})`);
  return s;
}
