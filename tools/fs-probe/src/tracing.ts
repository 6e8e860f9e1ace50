/**
 * Control of tracefs for one probe session. Invariant: every file this object writes is recorded in `touched`
 * and restored by teardown(); the probe refuses to start when another user has events enabled, so restoring
 * "disabled, no filter, no trigger" is restoring the state it found.
 */
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ProbeError } from './host.js';

export const TRACEFS = '/sys/kernel/tracing';

export interface TracingSaved {
  tracing_on: string;
  buffer_size_kb: number;
}

export interface EventSpec {
  system: string;
  name: string;
  /** Filter expression; `$DEV` is replaced by the kernel dev_t of the loop device. */
  filter?: string;
  /** Condition of a stacktrace trigger (`stacktrace if <cond>`), `$DEV` substituted. */
  stack_if?: string;
}

export interface TracingCapabilities {
  function_tracing: string;
  kprobes: string;
}

export class Tracing {
  private saved: TracingSaved | null = null;
  private readonly touched: { dir: string; filter: boolean; trigger: boolean }[] = [];

  constructor(readonly root: string = TRACEFS) {}

  private path(rel: string): string {
    return `${this.root}/${rel}`;
  }

  private write(rel: string, value: string): void {
    try {
      writeFileSync(this.path(rel), value);
    } catch (e) {
      throw new ProbeError(`tracefs: cannot write '${value}' to ${rel}: ${(e as Error).message}`);
    }
  }

  read(rel: string): string {
    return readFileSync(this.path(rel), 'utf8');
  }

  mounted(): boolean {
    return existsSync(this.path('tracing_on'));
  }

  /** Fails (exit 2) when some other user already has events enabled. */
  check_idle(): void {
    const set = this.read('set_event').trim();
    if (set.length > 0) {
      throw new ProbeError(`tracefs is in use (${this.root}/set_event lists ${set.split('\n').length} enabled events); disable them first`, 2);
    }
  }

  /** What the kernel offers besides tracepoints; recorded in the output, since the metrics depend on it. */
  capabilities(): TracingCapabilities {
    let function_tracing: string;
    try {
      readFileSync(this.path('available_filter_functions'), 'utf8').slice(0, 1);
      function_tracing = 'available';
    } catch (e) {
      function_tracing = `unavailable (available_filter_functions: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
    const kprobes = existsSync(this.path('kprobe_events')) ? 'available' : 'unavailable (no kprobe_events file)';
    return { function_tracing, kprobes };
  }

  event_exists(system: string, name: string): boolean {
    return existsSync(this.path(`events/${system}/${name}/enable`));
  }

  /** Field names of an event (from its format file). */
  event_fields(system: string, name: string): Set<string> {
    const fmt = this.read(`events/${system}/${name}/format`);
    const fields = new Set<string>();
    for (const m of fmt.matchAll(/field:[^;]*?\s\**(\w+)(?:\[\d*\])?;/g)) fields.add(m[1]!);
    return fields;
  }

  /** Saves tracing_on and the buffer size, stops tracing, sizes the buffer and clears it. */
  session_begin(buffer_kb: number): void {
    const size = this.read('buffer_size_kb');
    const expanded = /expanded:\s*(\d+)/.exec(size);
    this.saved = { tracing_on: this.read('tracing_on').trim(), buffer_size_kb: Number(expanded ? expanded[1] : size.trim().split(/\s/)[0]) };
    this.write('tracing_on', '0');
    this.write('buffer_size_kb', String(buffer_kb));
    this.write('trace', '');
  }

  /** Enables the events that exist; returns the ones enabled (missing ones are skipped). */
  events_enable(specs: readonly EventSpec[], dev_t: number): EventSpec[] {
    const done: EventSpec[] = [];
    for (const s of specs) {
      if (!this.event_exists(s.system, s.name)) continue;
      const dir = `events/${s.system}/${s.name}`;
      const entry = { dir, filter: false, trigger: false };
      this.touched.push(entry);
      if (s.filter) {
        entry.filter = true;
        this.write(`${dir}/filter`, s.filter.replaceAll('$DEV', String(dev_t)));
      }
      if (s.stack_if) {
        entry.trigger = true;
        this.write(`${dir}/trigger`, `stacktrace if ${s.stack_if.replaceAll('$DEV', String(dev_t))}`);
      }
      this.write(`${dir}/enable`, '1');
      done.push(s);
    }
    return done;
  }

  on(): void {
    this.write('tracing_on', '1');
  }

  off(): void {
    this.write('tracing_on', '0');
  }

  /** Disables, unfilters and untriggers every event touched (tracing stays off). */
  events_disable(): void {
    const errors: string[] = [];
    for (const t of this.touched.splice(0)) {
      for (const [file, value, wanted] of [
        ['enable', '0', true],
        ['trigger', '!stacktrace', t.trigger],
        ['filter', '0', t.filter],
      ] as const) {
        if (!wanted) continue;
        try {
          writeFileSync(this.path(`${t.dir}/${file}`), value);
        } catch (e) {
          errors.push(`${t.dir}/${file}: ${(e as Error).message}`);
        }
      }
    }
    if (errors.length > 0) throw new ProbeError(`tracefs restore: ${errors.join('; ')}`);
  }

  /** Events disabled, buffer cleared and resized, tracing_on as found. */
  session_end(): void {
    try {
      this.off();
    } finally {
      this.events_disable();
      this.write('trace', '');
      if (this.saved) {
        this.write('buffer_size_kb', String(this.saved.buffer_size_kb));
        this.write('tracing_on', this.saved.tracing_on);
        this.saved = null;
      }
    }
  }

  /** Sum over CPUs of events lost to a full buffer. */
  lost_events(): number {
    let lost = 0;
    for (let cpu = 0; existsSync(this.path(`per_cpu/cpu${cpu}/stats`)); cpu++) {
      const st = this.read(`per_cpu/cpu${cpu}/stats`);
      for (const key of ['overrun', 'dropped events']) {
        const m = new RegExp(`^${key}: (\\d+)`, 'm').exec(st);
        if (m) lost += Number(m[1]);
      }
    }
    return lost;
  }

  /** Streams the trace text line by line (tracing must be off so the buffer does not move). */
  async trace_stream(on_line: (line: string) => void): Promise<void> {
    const rl = createInterface({ input: createReadStream(this.path('trace'), { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
    for await (const line of rl) on_line(line);
  }
}
