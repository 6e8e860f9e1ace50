/**
 * The live probe: check the host, apply the workload's THP settings, compile kprobe.c into a temp dir,
 * feed it the plan, turn its observe lines into a ProbeResult, and restore the settings — always, also
 * when the run fails or the process is interrupted (see probe_session()).
 */
import { spawn, execFileSync } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Workload } from '@foliolab/workloads';
import { probe_plan, type ProbePlan } from './plan.js';
import { PROBE_SCHEMA, runs_determinism, type KernelObserve, type KernelPage, type ProbeMachine, type ProbeResult } from './result.js';
import { ThpSettings, THP_ROOT } from './settings.js';

/** An error the CLI prints as one line; exit 2 = bad input or unmet precondition, 1 = runtime failure. */
export class ProbeError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
  }
}

const KPF_COMPOUND_HEAD = 15n;
const KPF_COMPOUND_TAIL = 16n;
const KPF_THP = 22n;
const LOCK_PATH = join(tmpdir(), 'foliolab-kernel-probe.lock');
const VMSTAT_KEYS = /^(thp_|nr_anon_transparent_hugepages)/;

export interface HostView {
  euid: number;
  readable: (path: string) => boolean;
  exists: (path: string) => boolean;
  thpEnabled: () => string | null;
}

export function host_view_real(root = THP_ROOT): HostView {
  return {
    euid: process.geteuid ? process.geteuid() : -1,
    readable: (p) => {
      try {
        accessSync(p, constants.R_OK);
        closeSync(openSync(p, 'r'));
        return true;
      } catch {
        return false;
      }
    },
    exists: (p) => existsSync(p),
    thpEnabled: () => (existsSync(join(root, 'enabled')) ? readFileSync(join(root, 'enabled'), 'utf8').trim() : null),
  };
}

/** Throws ProbeError(exit 2) naming the first unmet precondition. */
export function preconditions_check(host: HostView): void {
  if (host.euid !== 0) throw new ProbeError(`kernel-probe must run as root (euid is ${host.euid}): it reads /proc/kpagecount and PFNs from pagemap and sets THP sysfs knobs`, 2);
  for (const f of ['/proc/kpagecount', '/proc/kpageflags', '/proc/self/pagemap']) {
    if (!host.readable(f)) throw new ProbeError(`${f} is not readable (kernel without CONFIG_PROC_PAGE_MONITOR?)`, 2);
  }
  const thp = host.thpEnabled();
  if (thp === null) throw new ProbeError(`no transparent hugepages: ${THP_ROOT}/enabled is missing (kernel without CONFIG_TRANSPARENT_HUGEPAGE)`, 2);
  if (!/\bmadvise\b/.test(thp)) throw new ProbeError(`${THP_ROOT}/enabled offers no "madvise" mode (${thp})`, 2);
  if (!host.exists('/usr/bin/gcc') && !host.exists('/usr/local/bin/gcc')) throw new ProbeError('gcc is required to build the probe (apt-get install -y gcc)', 2);
}

/** Compiles kprobe.c into a fresh temp dir; returns the binary path and the dir to remove. */
export function kprobe_compile(): { bin: string; dir: string } {
  const src = join(dirname(fileURLToPath(import.meta.url)), 'kprobe.c');
  const dir = mkdtempSync(join(tmpdir(), 'kernel-probe-'));
  const bin = join(dir, 'kprobe');
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-o', bin, src], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const err = (e as { stderr?: Buffer }).stderr?.toString().split('\n').find((l) => /error/.test(l)) ?? (e as Error).message;
    throw new ProbeError(`gcc failed on ${src}: ${err}`);
  }
  return { bin, dir };
}

/** THP counters: /proc/vmstat's thp_* and, per size, hugepages-<N>kB/stats/* (mTHP faults and splits). */
function vmstat_read(root = THP_ROOT): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of readFileSync('/proc/vmstat', 'utf8').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v && VMSTAT_KEYS.test(k)) m.set(k, Number(v));
  }
  for (const dir of existsSync(root) ? readdirSync(root) : []) {
    const stats = join(root, dir, 'stats');
    if (!/^hugepages-\d+kB$/.test(dir) || !existsSync(stats)) continue;
    for (const f of readdirSync(stats)) {
      const v = Number(readFileSync(join(stats, f), 'utf8').trim());
      if (Number.isFinite(v)) m.set(`${dir}/${f}`, v);
    }
  }
  return m;
}

function uname(): string {
  try {
    return execFileSync('uname', ['-srvm'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

interface RawPage {
  p: 0 | 1;
  swap?: number;
  pfn?: number;
  count?: number;
  flags?: string;
  excl?: number;
  head?: number;
  nr?: number;
}
interface RawObserve {
  observe: number;
  procs: { proc: number; pid: number; pages: RawPage[] | null }[];
}

export function page_from_raw(r: RawPage): KernelPage | null {
  if (r.p !== 1) return null;
  const flags = BigInt(r.flags!);
  const bit = (b: bigint): boolean => ((flags >> b) & 1n) === 1n;
  if (r.nr! > 1 && r.head !== r.pfn! - (r.pfn! % r.nr!)) throw new ProbeError(`pfn ${r.pfn}: folio head ${r.head} of ${r.nr} pages is not naturally aligned`);
  return {
    pfn: r.pfn!,
    kpagecount: r.count!,
    thp: bit(KPF_THP),
    compound: bit(KPF_COMPOUND_HEAD) ? 'head' : bit(KPF_COMPOUND_TAIL) ? 'tail' : 'none',
    folioPages: r.nr!,
    exclusive: r.excl === 1,
  };
}

/** Converts the coordinator's output lines into observe records (labels and page indexes from the plan). */
export function observes_from_output(plan: ProbePlan, stdout: string): KernelObserve[] {
  const lines = stdout.split('\n').filter((l) => l.length > 0);
  if (lines[lines.length - 1] !== 'done') throw new ProbeError('the probe stopped before the end of the workload');
  const out: KernelObserve[] = [];
  for (const line of lines.slice(0, -1)) {
    const raw = JSON.parse(line) as RawObserve;
    const po = plan.observes[raw.observe];
    if (po === undefined) throw new ProbeError(`the probe reported unknown observe #${raw.observe}`);
    const first = po.offset - (po.offset % 4096);
    const n = Math.ceil((po.offset + po.size - first) / 4096);
    const pages = Array.from({ length: n }, (_, index) => ({ index, procs: {} as Record<string, KernelPage | null> }));
    for (const pr of raw.procs) {
      const name = plan.procs[pr.proc]!;
      for (let i = 0; i < n; i++) pages[i]!.procs[name] = pr.pages === null ? null : page_from_raw(pr.pages[i]!);
    }
    out.push({ label: po.label, step: po.step, region: po.region, offset: po.offset, size: po.size, pages });
  }
  if (out.length !== plan.observes.length) throw new ProbeError(`the probe reported ${out.length} of ${plan.observes.length} observes`);
  return out;
}

function kprobe_run(bin: string, plan: ProbePlan): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(new ProbeError(`${bin}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(out).toString());
      const first = Buffer.concat(err).toString().split('\n').find((l) => l.trim()) ?? '';
      reject(new ProbeError(first || `kprobe ${signal ? `killed by ${signal}` : `exited with ${code}`}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(plan.lines.join('\n') + '\n');
  });
}

/**
 * A probe session: holds the lock (one probe at a time changes THP settings), the settings and the
 * compiled binary. close() is synchronous and idempotent, so 'exit' and signal handlers can call it.
 */
export class ProbeSession {
  private readonly settings: ThpSettings;
  private compiled: { bin: string; dir: string } | null = null;
  private locked = false;
  private closed = false;

  constructor(root = THP_ROOT) {
    this.settings = new ThpSettings(root);
  }

  open(): void {
    try {
      writeFileSync(LOCK_PATH, String(process.pid), { flag: 'wx' });
    } catch {
      const holder = Number(readFileSync(LOCK_PATH, 'utf8'));
      let alive = false;
      try {
        process.kill(holder, 0);
        alive = holder !== process.pid;
      } catch {
        alive = false;
      }
      if (alive) throw new ProbeError(`another kernel-probe (pid ${holder}) is running (${LOCK_PATH})`, 2);
      writeFileSync(LOCK_PATH, String(process.pid));
    }
    this.locked = true;
    this.compiled = kprobe_compile();
  }

  /** Runs the workload once with its machine's THP settings; the settings are restored before it returns. */
  async run(w: Workload, plan: ProbePlan = probe_plan(w)): Promise<ProbeResult> {
    if (this.compiled === null) throw new ProbeError('probe session is not open');
    let machine: ProbeMachine;
    try {
      machine = this.settings.apply(w.machine);
    } catch (e) {
      const errors = this.settings.restore();
      throw new ProbeError(`${(e as Error).message}${errors.length ? `; restore failed: ${errors.join('; ')}` : ''}`, /^machine\./.test((e as Error).message) ? 2 : 1);
    }
    const before = vmstat_read();
    let stdout: string;
    try {
      stdout = await kprobe_run(this.compiled.bin, plan);
    } finally {
      const errors = this.settings.restore();
      if (errors.length) throw new ProbeError(`restoring THP settings failed: ${errors.join('; ')}`);
    }
    const after = vmstat_read();
    const vmstat: Record<string, number> = {};
    for (const [k, v] of after) {
      const d = v - (before.get(k) ?? 0);
      if (d !== 0) vmstat[k] = d;
    }
    return {
      schema: PROBE_SCHEMA,
      kernel: uname(),
      workload: plan.workload,
      ...(plan.description !== undefined ? { description: plan.description } : {}),
      seed: plan.seed,
      machine,
      vmstat,
      observe: observes_from_output(plan, stdout),
    };
  }

  /** Restores settings, removes the binary and the lock. Returns failures (empty = clean). */
  close(): string[] {
    if (this.closed) return [];
    this.closed = true;
    const errors = this.settings.restore();
    if (this.compiled) rmSync(this.compiled.dir, { recursive: true, force: true });
    if (this.locked) {
      try {
        unlinkSync(LOCK_PATH);
      } catch {
        // already gone
      }
    }
    return errors;
  }
}

/**
 * Probes a workload `runs` times (same settings each time) and returns the first run with the
 * determinism of all runs attached. The caller checks preconditions and owns the session.
 */
export async function probe_workload(session: ProbeSession, w: Workload, runs = 1): Promise<ProbeResult> {
  const plan = probe_plan(w);
  const results: ProbeResult[] = [];
  for (let i = 0; i < runs; i++) results.push(await session.run(w, plan));
  const first = results[0]!;
  return runs > 1 ? { ...first, determinism: runs_determinism(results) } : first;
}
