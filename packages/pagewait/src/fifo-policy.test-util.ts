import type { WaitEnv, WaitPolicy } from './index.js';

/**
 * Test fixture: one FIFO queue per (folio, bit) with no memory or mapping cost, so engine tests do not
 * depend on the policy packages (which depend on this one).
 */
export class FifoTestPolicy implements WaitPolicy {
  readonly name = 'fifo-test';
  private env!: WaitEnv;
  private first = 0;

  bind(env: WaitEnv): void {
    this.env = env;
    this.first = env.arena.allocHeads(env.host.nrFolios * 8);
  }
  enqueue(w: number): void {
    const len = this.env.arena.addTail(this.first + this.env.waiterFolio[w] * 8 + this.env.waiterBit[w], w);
    if (len > this.env.counters.longestQueue) this.env.counters.longestQueue = len;
  }
  wake(folio: number, bit: number): void {
    this.env.walk(this.first + folio * 8 + bit, folio, bit, false);
    for (let b = 0; b < 8; b++) if (this.env.arena.active(this.first + folio * 8 + b)) return;
    this.env.clearWaiters(folio);
  }
  mappingRead(folio: number): number {
    return this.env.host.mappingRead(folio);
  }
  mappingIdentity(folio: number, expected: number): boolean {
    return this.env.host.mappingRead(folio) === expected;
  }
  mappingWrite(folio: number, value: number): void {
    this.env.host.mappingWrite(folio, value);
  }
  staticTableBytes(): number {
    return 0;
  }
  attachedBytes(): number {
    return 0;
  }
  peakAttachedBytes(): number {
    return 0;
  }
  queueLengths(): Int32Array {
    return this.env.arena.queueLen.slice(this.first, this.first + this.env.host.nrFolios * 8);
  }
}
