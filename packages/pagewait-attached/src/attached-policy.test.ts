import {
  CONTEND_FUZZ_NATS,
  checkTrace,
  contend_fuzz_params,
  contend_problems,
  contendScenario,
  createStandaloneHost,
  PagewaitSim,
  PG_locked,
  runContend,
  SITE_FIND_LOCK_ENTRY,
  SITE_PAGE_CACHE_DELETE,
  SITE_TRUNCATE_INODE_FOLIO,
  type StandaloneHost,
} from '@foliolab/pagewait';
import { createHashedWaitPolicy } from '@foliolab/pagewait-hashed';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttachedWaitPolicy, createAttachedWaitPolicy, mappingIsWaitTagged, PAGE_WAIT_BYTES, pageWaitBytes } from './index.js';

describe('page_wait', () => {
  it('is 112 bytes: 2 queue heads (48) + entry (40) + page_mapping (16) + spinlock (4) + bool (1), padded to 8', () => {
    expect(PAGE_WAIT_BYTES).toBe(112);
    expect(pageWaitBytes(2)).toBe(Math.ceil((2 * 24 + 40 + 16 + 4 + 1) / 8) * 8);
    expect(pageWaitBytes(3)).toBe(136);
  });
});

/** Task 0 locks folio 1 for 10 us; tasks 1..3 folio_lock it; `during` runs at 5 us while they wait. */
function threeWaiters(during: (sim: PagewaitSim, policy: AttachedWaitPolicy, host: StandaloneHost) => void) {
  const host = createStandaloneHost({ nrFolios: 4 });
  const policy = createAttachedWaitPolicy();
  const sim = new PagewaitSim({ host, policy, nrTasks: 4, seed: 1, verify: true, trace: true });
  const pc = new Int32Array(4);
  sim.run({
    step(s, t) {
      if (t === 0) {
        if (pc[0]++ === 0) {
          s.folioLock(0, 1);
          s.timer(5_000, 0, 0);
          s.delay(0, 10_000);
        } else {
          s.folioUnlock(0, 1);
          s.exit(0);
        }
        return;
      }
      if (pc[t]++ === 0 && !s.folioLock(t, 1)) return;
      s.folioUnlock(t, 1);
      s.exit(t);
    },
    timer(s) {
      during(s, policy, host);
    },
  });
  expect(sim.stuckTasks()).toBe(0);
  expect(checkTrace(sim.trace(), 4, 4)).toEqual([]);
  return { sim, policy, host };
}

describe('pagewait-attached', () => {
  it('tags mapping on the first waiter, pays an indirection per read, restores on the last', () => {
    let seen: Record<string, unknown> = {};
    const { sim, policy, host } = threeWaiters((s, p, h) => {
      seen = {
        tagged: mappingIsWaitTagged(h.mappingRead(1)),
        read: s.folioMapping(1),
        live: p.livePageWaits(),
        bytes: p.attachedBytes(),
        queues: Array.from(p.queueLengths()),
      };
    });
    expect(seen).toEqual({ tagged: true, read: host.originalMapping(1), live: 1, bytes: 112, queues: [3, 0] });
    expect(host.mappingRead(1)).toBe(host.originalMapping(1));
    expect(policy.livePageWaits()).toBe(0);
    expect(policy.attachedBytes()).toBe(0);
    const m = sim.metrics();
    expect(m.mappingIndirections).toBe(1);
    expect(m.memory).toEqual({ staticTableBytes: 0, peakAttachedBytes: 112 });
    expect(m.foreignEntriesWalked).toBe(0);
  });

  it('truncation sees through the tag, and the last waiter restores the updated mapping', () => {
    let seen: Record<string, unknown> = {};
    const { sim, host } = threeWaiters((s, _p, h) => {
      const ok = s.folioMappingIs(1, h.originalMapping(1), SITE_TRUNCATE_INODE_FOLIO);
      s.folioSetMapping(1, 0, SITE_PAGE_CACHE_DELETE);
      seen = { ok, stillTagged: mappingIsWaitTagged(h.mappingRead(1)), read: s.folioMapping(1) };
    });
    expect(seen).toEqual({ ok: true, stillTagged: true, read: 0 });
    expect(host.mappingRead(1)).toBe(0);
    const m = sim.metrics();
    expect(m.truncateSeeThroughs).toBe(2);
    expect(m.truncateSeeThroughSites).toBe(2);
    expect(m.mappingIndirections).toBe(3);
  });

  it('an untagged mapping costs nothing extra', () => {
    const { sim, host } = threeWaiters(() => {});
    const before = sim.metrics().mappingIndirections;
    expect(sim.folioMappingIs(2, host.originalMapping(2), SITE_FIND_LOCK_ENTRY)).toBe(true);
    expect(sim.metrics().mappingIndirections).toBe(before);
    expect(sim.metrics().truncateSeeThroughs).toBe(0);
  });

  it('restores the original mapping after the last waiter in every random schedule', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: CONTEND_FUZZ_NATS, maxLength: CONTEND_FUZZ_NATS }),
        // Runs without truncation are common, so that the strict mapping check below is made often.
        fc.constantFrom(0, 0, 0.2),
        (n, truncateRate) => {
          const params = { ...contend_fuzz_params(n), truncateRate };
          const mappings: number[] = [];
          const expected: number[] = [];
          const policy = createAttachedWaitPolicy();
          const { problems, result: r } = contend_problems(params, policy, (_sim, host) => {
            for (let f = 0; f < host.nrFolios; f++) {
              mappings.push(host.mappingRead(f));
              expected.push((host as StandaloneHost).originalMapping(f));
            }
          });
          expect(problems).toEqual([]);
          expect(policy.livePageWaits()).toBe(0);
          expect(policy.attachedBytes()).toBe(0);
          expect(r.metrics.foreignEntriesWalked).toBe(0);
          if (truncateRate === 0) expect(mappings).toEqual(expected);
          // With truncation a folio may end deleted (NULL) but never tagged.
          else mappings.forEach((m, f) => expect([expected[f], 0]).toContain(m));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the 2017 storm: a per-page queue of thousands, no foreign entries, a few page_waits', () => {
    const storm = contendScenario('numa-storm-2017').params;
    const r = runContend(storm, { policy: createAttachedWaitPolicy(), verify: true });
    expect(r.stuckTasks).toBe(0);
    expect(r.violations.count).toBe(0);
    const m = r.metrics;
    expect(m.longestQueue).toBeGreaterThanOrEqual(3700);
    expect(m.foreignEntriesWalked).toBe(0);
    expect(m.memory.staticTableBytes).toBe(0);
    expect(m.memory.peakAttachedBytes % PAGE_WAIT_BYTES).toBe(0);
    expect(m.memory.peakAttachedBytes).toBeGreaterThanOrEqual(PAGE_WAIT_BYTES);
  });

  it('file server: hashed pays collisions, attached pays indirections and see-through', () => {
    const p = contendScenario('file-server-uncontended').params;
    const h = runContend(p, { policy: createHashedWaitPolicy() }).metrics;
    const a = runContend(p, { policy: createAttachedWaitPolicy() }).metrics;
    expect(h.foreignEntriesWalked).toBeGreaterThan(0);
    expect(a.foreignEntriesWalked).toBe(0);
    expect(h.mappingIndirections).toBe(0);
    expect(a.mappingIndirections).toBeGreaterThan(0);
    expect(h.truncateSeeThroughSites).toBe(0);
    expect(a.truncateSeeThroughSites).toBeGreaterThan(0);
    expect(Object.keys(a)).toEqual(Object.keys(h));
  });

  it('the same workload and seed give identical results', () => {
    const p = { ...contendScenario('bdev-large-folio-readers-2024').params, duration: 2_000_000 };
    const a = runContend(p, { policy: createAttachedWaitPolicy() });
    const b = runContend(p, { policy: createAttachedWaitPolicy() });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('only PG_locked and PG_writeback have queues', () => {
    const host = createStandaloneHost({ nrFolios: 1 });
    const sim = new PagewaitSim({ host, policy: createAttachedWaitPolicy(), nrTasks: 2, seed: 1 });
    expect(() =>
      sim.run({
        step(s, t) {
          if (t === 0) {
            s.folioLock(0, 0);
            return;
          }
          // PG_uptodate is bit 3; set it so the waiter queues
          s.folioMarkUptodate(0);
          s.folioWaitBit(1, 0, 3);
        },
      }),
    ).toThrow(/no queue for page-flag bit 3/);
    expect(PG_locked).toBe(0);
  });
});
