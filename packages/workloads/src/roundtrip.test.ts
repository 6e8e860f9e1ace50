import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWorkload } from './parse.js';
import { stringifyWorkload } from './serialize.js';
import type { Step, Workload } from './types.js';
import { validateWorkload } from './validate.js';

const PAGE = 4096;

/** Sizes written either as a number or with a unit, as users do. */
function spell(bytes: number, asString: boolean): number | string {
  if (!asString) return bytes;
  if (bytes % (1 << 20) === 0 && bytes > 0) return `${bytes / (1 << 20)}MiB`;
  if (bytes % 1024 === 0 && bytes > 0) return `${bytes / 1024}KiB`;
  return `${bytes}B`;
}

type Intent = [kind: number, a: number, b: number, flag: boolean];

/**
 * Builds a workload in file form that validateWorkload accepts, by interpreting random intents against a
 * model of live processes, their (fully mapped) regions, named pins and open files.
 */
function build(seed: number, thp: string, intents: Intent[], strings: boolean): Record<string, unknown> {
  const procs: { name: string; regions: Map<string, number> }[] = [];
  let nproc = 0;
  let nregion = 0;
  let npin = 0;
  const pins: string[] = [];
  const open: string[] = [];
  const steps: unknown[] = [];
  const sz = (n: number) => spell(n, strings);
  const region_pick = (a: number): [string, string, number] | null => {
    const withRegions = procs.filter((p) => p.regions.size);
    if (!withRegions.length) return null;
    const p = withRegions[a % withRegions.length]!;
    const names = [...p.regions.keys()];
    const r = names[a % names.length]!;
    return [p.name, r, p.regions.get(r)!];
  };
  const range = (size: number, a: number, b: number) => {
    const pages = size / PAGE;
    const first = a % pages;
    const n = 1 + (b % (pages - first));
    return { offset: first * PAGE, size: n * PAGE };
  };
  for (const [kind, a, b, flag] of intents) {
    switch (kind % 12) {
      case 0: {
        const name = `p${nproc++}`;
        procs.push({ name, regions: new Map() });
        steps.push({ spawn: { proc: name } });
        break;
      }
      case 1: {
        if (!procs.length) break;
        const p = procs[a % procs.length]!;
        const size = (1 + (b % 1024)) * PAGE;
        const name = `r${nregion++}`;
        p.regions.set(name, size);
        const args: Record<string, unknown> = { proc: p.name, region: name, size: sz(size) };
        if (flag) Object.assign(args, { align: '2MiB', advice: 'hugepage' });
        steps.push({ mmap: args });
        break;
      }
      case 2:
      case 3: {
        const r = region_pick(a);
        if (!r) break;
        const off = flag ? { random: sz(r[2]), align: '4KiB' } : sz(range(r[2], a, b).offset);
        const size = flag ? PAGE : range(r[2], a, b).size;
        steps.push({ touch: { proc: r[0], region: r[1], offset: off, size: sz(size), write: (a & 1) === 1 } });
        break;
      }
      case 4: {
        if (!procs.length) break;
        const p = procs[a % procs.length]!;
        const child = `p${nproc++}`;
        procs.push({ name: child, regions: new Map(p.regions) });
        steps.push({ fork: { proc: p.name, child } });
        break;
      }
      case 5: {
        if (procs.length < 2) break;
        const i = a % procs.length;
        steps.push({ exit: { proc: procs[i]!.name } });
        procs.splice(i, 1);
        break;
      }
      case 6: {
        const r = region_pick(a);
        if (!r) break;
        const { offset, size } = range(r[2], a, b);
        if (flag) steps.push({ mprotect: { proc: r[0], region: r[1], offset: sz(offset), size: sz(size), prot: ['r', 'rw', 'none'][b % 3] } });
        else steps.push({ madvise: { proc: r[0], region: r[1], offset: sz(offset), size: sz(size), advice: ['dontneed', 'hugepage', 'nohugepage', 'collapse'][b % 4] } });
        break;
      }
      case 7: {
        if (flag && pins.length) {
          steps.push({ unpin: { name: pins.splice(a % pins.length, 1)[0] } });
          break;
        }
        const r = region_pick(a);
        if (!r) break;
        const { offset, size } = range(r[2], a, b);
        const name = `pin${npin++}`;
        pins.push(name);
        steps.push({ pin: { proc: r[0], region: r[1], offset: sz(offset), size: sz(size), mode: ['ro', 'rw', 'ro-longterm', 'rw-longterm'][b % 4], name } });
        break;
      }
      case 8: {
        const r = region_pick(a);
        if (!r) break;
        const { offset, size } = range(r[2], a, b);
        steps.push({ observe: { label: `o${steps.length}`, procs: [r[0]], region: r[1], offset: sz(offset), size: sz(size) } });
        break;
      }
      case 9: {
        const file = `f${a % 3}`;
        if (!open.includes(file)) {
          open.push(file);
          steps.push({ open: { file } });
        } else if (flag) {
          steps.push({ write: { file, offset: sz(a % 100_000), size: sz(1 + (b % 100_000)), ...(b & 1 ? { chunk: '4KiB' } : {}) } });
        } else {
          steps.push({ read: { file, offset: { random: '1MiB', align: sz(512 << (b % 4)) }, size: sz(1 + (b % 8192)) } });
        }
        break;
      }
      case 10: {
        if (open.length && flag) {
          const file = open.splice(a % open.length, 1)[0]!;
          steps.push({ fsync: { file } }, { close: { file } });
        } else steps.push([{ sync: {} }, { drop_caches: {} }, { crash: {} }, { mark: { label: 'm' } }][a % 4]);
        break;
      }
      case 11: {
        if (flag)
          steps.push({
            contend: { tasks: 1 + (a % 64), hotFolios: 1 + (b % 8), coldFolios: b % 100, holdTime: `${1 + (a % 50)}us`, ioLatency: a % 1000, duration: '1ms', pattern: ['lock', 'writeback', 'mixed'][b % 3] },
          });
        else steps.push({ repeat: { times: 1 + (a % 4), steps: [{ mark: { label: 'r{i}' } }, { sync: {} }] } });
        break;
      }
    }
  }
  if (!steps.length) steps.push({ sync: {} });
  return { name: `gen-${seed}`, description: 'generated', machine: { memory: '1GiB', thp, mthp: ['64KiB'], seed }, steps };
}

function shape(w: Workload): unknown {
  const steps = (ss: Step[]): unknown[] => ss.map((s) => (s.op === 'repeat' ? { op: s.op, times: s.args.times, steps: steps(s.args.steps) } : { op: s.op, args: s.args }));
  return { name: w.name, description: w.description, source: w.source, machine: w.machine, steps: steps(w.steps) };
}

describe('YAML serialization round trip (property)', () => {
  it('any valid generated workload parses back to itself from its YAML', () => {
    fc.assert(
      fc.property(
        fc.nat(0xffffffff),
        fc.constantFrom('always', 'madvise', 'never'),
        fc.array(fc.tuple(fc.nat(1000), fc.nat(1_000_000), fc.nat(1_000_000), fc.boolean()), { maxLength: 40 }),
        fc.boolean(),
        (seed, thp, intents, strings) => {
          const raw = build(seed, thp, intents, strings);
          const w1 = parseWorkload(JSON.stringify(raw), 'gen.json');
          const v1 = validateWorkload(w1);
          const yaml = stringifyWorkload(w1);
          const w2 = parseWorkload(yaml, 'gen.yaml');
          expect(shape(w2)).toEqual(shape(w1));
          expect(validateWorkload(w2)).toEqual(v1);
          expect(stringifyWorkload(w2)).toBe(yaml);
        },
      ),
      { numRuns: 300 },
    );
  });
});
