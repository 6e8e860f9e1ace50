/**
 * The discrete-event clock's queue: a binary min-heap of events keyed by (time, sequence number), so two
 * events at the same simulated time run in the order they were scheduled. Struct of arrays; slots are
 * recycled through a free list.
 */
export class EventQueue {
  private time = new Float64Array(64);
  private seq = new Float64Array(64);
  private kind = new Uint8Array(64);
  private a = new Int32Array(64);
  private b = new Int32Array(64);
  private heap = new Int32Array(64);
  private free = new Int32Array(64);
  private nfree = 0;
  private nslots = 0;
  private size = 0;
  private nextSeq = 0;

  get length(): number {
    return this.size;
  }

  push(time: number, kind: number, a: number, b: number): void {
    let slot: number;
    if (this.nfree > 0) slot = this.free[--this.nfree];
    else {
      if (this.nslots === this.time.length) this.grow();
      slot = this.nslots++;
    }
    this.time[slot] = time;
    this.seq[slot] = this.nextSeq++;
    this.kind[slot] = kind;
    this.a[slot] = a;
    this.b[slot] = b;
    let i = this.size++;
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(slot, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = slot;
  }

  /** Time of the earliest event; Infinity when empty. */
  peekTime(): number {
    return this.size === 0 ? Infinity : this.time[this.heap[0]];
  }

  /** Remove the earliest event; its fields are then readable through popped*. Returns false when empty. */
  pop(): boolean {
    if (this.size === 0) return false;
    const heap = this.heap;
    const top = heap[0];
    this.poppedTime = this.time[top];
    this.poppedKind = this.kind[top];
    this.poppedA = this.a[top];
    this.poppedB = this.b[top];
    this.free[this.nfree++] = top;
    const last = heap[--this.size];
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(heap[r], heap[l]) ? r : l;
      if (!this.less(heap[c], last)) break;
      heap[i] = heap[c];
      i = c;
    }
    if (n > 0) heap[i] = last;
    return true;
  }

  poppedTime = 0;
  poppedKind = 0;
  poppedA = 0;
  poppedB = 0;

  private less(x: number, y: number): boolean {
    const tx = this.time[x];
    const ty = this.time[y];
    return tx < ty || (tx === ty && this.seq[x] < this.seq[y]);
  }

  private grow(): void {
    const n = this.time.length * 2;
    this.time = growF64(this.time, n);
    this.seq = growF64(this.seq, n);
    const kind = new Uint8Array(n);
    kind.set(this.kind);
    this.kind = kind;
    this.a = growI32(this.a, n);
    this.b = growI32(this.b, n);
    this.heap = growI32(this.heap, n);
    this.free = growI32(this.free, n);
  }
}

export function growF64(a: Float64Array, n: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}

export function growI32(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
