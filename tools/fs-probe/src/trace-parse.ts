/**
 * Parser for the text of /sys/kernel/tracing/trace (nop tracer, default trace_options).
 *
 * An event line is `<comm>-<pid> [<cpu>] <flags> <secs.usecs>: <event>: <body>`; a stack-trace trigger adds an
 * entry `<comm>-<pid> [<cpu>] ... <stack trace>` followed by lines ` => <function>`. The trigger runs after the
 * event it fires on has been written (triggers with a filter are post-call), on the same CPU, so a stack
 * belongs to the most recent event of that CPU when the pids agree. Records are emitted in trace order, each one
 * held until the next entry of its CPU shows whether a stack follows (and until its frames are read).
 */

export interface TraceRecord {
  comm: string;
  pid: number;
  cpu: number;
  ts: number;
  event: string;
  body: string;
  /** Callers, innermost first, offsets stripped ("ext4_da_get_block_prep"). Absent when no trigger fired. */
  stack?: string[];
}

const ENTRY_RE = /^\s*(.*?)-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+\.\d+):\s+(<stack trace>|[^:\s]+:)\s?(.*)$/;
const STACK_WINDOW_S = 0.05;
const STACK_FRAME_RE = /^\s*=>\s+(\S+)/;

export class TraceParser {
  /** Records in trace order; one is emitted once it and everything before it are complete. */
  private readonly queue: { rec: TraceRecord; done: boolean }[] = [];
  private head = 0;
  /** Per CPU, the latest event entry, still open to receive a stack. */
  private readonly open_by_cpu = new Map<number, { rec: TraceRecord; done: boolean }>();
  /** The entry whose stack frames are being read (null while reading event lines). */
  private stack_target: { rec: TraceRecord; done: boolean } | null = null;
  private readonly frames = new Map<string, string>();
  /** Stack entries with no open event of the same pid on their CPU (e.g. the event itself was filtered out). */
  orphan_stacks = 0;
  /** Non-comment lines matching no known shape. */
  unparsed_lines = 0;
  lines = 0;

  constructor(private readonly emit: (r: TraceRecord) => void) {}

  line_push(line: string): void {
    this.lines++;
    const frame = STACK_FRAME_RE.exec(line);
    if (frame) {
      const t = this.stack_target;
      if (t) (t.rec.stack ??= []).push(this.frame_intern(frame[1]!));
      return;
    }
    if (this.stack_target) {
      this.stack_target.done = true;
      this.stack_target = null;
    }
    if (line.length === 0 || line.startsWith('#')) {
      this.queue_flush();
      return;
    }
    const m = ENTRY_RE.exec(line);
    if (!m) {
      this.unparsed_lines++;
      return;
    }
    const cpu = Number(m[3]);
    const pid = Number(m[2]);
    const event = m[5]!.endsWith(':') ? m[5]!.slice(0, -1) : m[5]!;
    const open = this.open_by_cpu.get(cpu);
    if (event === '<stack trace>') {
      if (open && open.rec.pid === pid && open.rec.stack === undefined) {
        open.rec.stack = [];
        this.stack_target = open;
      } else {
        this.orphan_stacks++;
        // Frames of an orphan stack go to a throwaway record that is never queued.
        this.stack_target = { rec: { comm: m[1]!, pid, cpu, ts: Number(m[4]), event, body: '' }, done: true };
      }
      this.open_by_cpu.delete(cpu);
      return;
    }
    if (open) open.done = true;
    const entry = { rec: { comm: m[1]!, pid, cpu, ts: Number(m[4]), event, body: m[6] ?? '' }, done: false };
    this.queue.push(entry);
    this.open_by_cpu.set(cpu, entry);
    this.queue_flush(entry.rec.ts);
  }

  /** Emits everything still held; call once after the last line. */
  finish(): void {
    if (this.stack_target) this.stack_target.done = true;
    this.stack_target = null;
    for (let i = this.head; i < this.queue.length; i++) this.queue[i]!.done = true;
    this.open_by_cpu.clear();
    this.queue_flush();
  }

  /**
   * A stack trigger writes its entry microseconds after its event on the same CPU, so an event older than
   * STACK_WINDOW_S relative to the newest entry can no longer receive one: closing it bounds the queue when a
   * CPU goes quiet.
   */
  private queue_flush(now_ts = -Infinity): void {
    while (this.head < this.queue.length) {
      const h = this.queue[this.head]!;
      if (!h.done && now_ts - h.rec.ts > STACK_WINDOW_S && h !== this.stack_target) {
        h.done = true;
        if (this.open_by_cpu.get(h.rec.cpu) === h) this.open_by_cpu.delete(h.rec.cpu);
      }
      if (!h.done) break;
      this.emit(h.rec);
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private frame_intern(raw: string): string {
    const name = frame_name(raw);
    let s = this.frames.get(name);
    if (s === undefined) {
      s = name;
      this.frames.set(name, s);
    }
    return s;
  }
}

/** "ext4_map_blocks+0x1a/0x3c0" -> "ext4_map_blocks"; "ifs_alloc.isra.0" is kept as printed. */
export function frame_name(raw: string): string {
  const plus = raw.indexOf('+');
  return plus < 0 ? raw : raw.slice(0, plus);
}

/** Parses a whole trace text (tests and small inputs); the probe streams lines instead. */
export function trace_parse(text: string): { records: TraceRecord[]; orphan_stacks: number; unparsed_lines: number } {
  const records: TraceRecord[] = [];
  const p = new TraceParser((r) => records.push(r));
  for (const line of text.split('\n')) p.line_push(line);
  p.finish();
  return { records, orphan_stacks: p.orphan_stacks, unparsed_lines: p.unparsed_lines };
}
