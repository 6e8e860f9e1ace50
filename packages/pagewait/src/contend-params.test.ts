import { describe, expect, it } from 'vitest';
import { CONTEND_DEFAULTS, ContendParamError, runContend, validateContendParams } from './index.js';
import { FifoTestPolicy } from './fifo-policy.test-util.js';
import { createStandaloneHost } from './host.js';

function errorOf(fn: () => unknown): ContendParamError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ContendParamError);
    return e as ContendParamError;
  }
  throw new Error('expected a ContendParamError');
}

describe('contend parameters', () => {
  it('fills defaults', () => {
    const p = validateContendParams({ tasks: 3 });
    expect(p).toEqual({ ...CONTEND_DEFAULTS, tasks: 3, hotFraction: 1 });
  });

  it('rejects zero tasks, naming the field', () => {
    const e = errorOf(() => validateContendParams({ tasks: 0 }));
    expect(e.field).toBe('tasks');
    expect(e.message).toBe('contend.tasks: must be at least 1, got 0');
  });

  it('rejects a negative latency', () => {
    const e = errorOf(() => validateContendParams({ tasks: 1, ioLatency: -5 }));
    expect(e.field).toBe('ioLatency');
    expect(e.message).toBe('contend.ioLatency: must not be negative, got -5');
  });

  it('rejects operations that take no simulated time (the clock would never reach the duration)', () => {
    const e = errorOf(() => validateContendParams({ tasks: 2, holdTime: 0, thinkTime: 0 }));
    expect(e.field).toBe('holdTime');
    expect(e.message).toMatch(/holdTime and thinkTime are both 0/);
    // Bounded by an operation count instead, the same run ends.
    const r = runContend({ tasks: 2, holdTime: 0, thinkTime: 0, maxOpsPerTask: 50 }, { policy: new FifoTestPolicy() });
    expect(r.stuckTasks).toBe(0);
  });

  it('rejects more hot folios than the host has', () => {
    const host = createStandaloneHost({ nrFolios: 16 });
    const e = errorOf(() => runContend({ tasks: 2, hotFolios: 17 }, { policy: new FifoTestPolicy(), host }));
    expect(e.field).toBe('hotFolios');
    expect(e.message).toBe('contend.hotFolios: 17 hot folios but the host has only 16 folios');
    const e2 = errorOf(() => validateContendParams({ tasks: 2, hotFolios: 10, coldFolios: 7 }, 16));
    expect(e2.field).toBe('coldFolios');
  });

  it('rejects unknown fields, bad patterns, non-integers, non-finite times, bad probabilities', () => {
    expect(errorOf(() => validateContendParams({ tasks: 1, tasksz: 2 })).field).toBe('tasksz');
    expect(errorOf(() => validateContendParams({ tasks: 1, pattern: 'spin' })).message).toMatch(/^contend\.pattern: must be one of lock, writeback, mixed, migrate, read/);
    expect(errorOf(() => validateContendParams({ tasks: 1.5 })).field).toBe('tasks');
    expect(errorOf(() => validateContendParams({ tasks: 1, holdTime: Infinity })).field).toBe('holdTime');
    expect(errorOf(() => validateContendParams({ tasks: 1, holdTime: '10' })).field).toBe('holdTime');
    expect(errorOf(() => validateContendParams({ tasks: 1, duration: 0 })).message).toBe('contend.duration: must be greater than 0');
    expect(errorOf(() => validateContendParams({ tasks: 1, truncateRate: 1.5 })).field).toBe('truncateRate');
    expect(errorOf(() => validateContendParams({ tasks: 1, hotFolios: 0, coldFolios: 0 })).field).toBe('hotFolios');
    expect(errorOf(() => validateContendParams({ hotFolios: 1 })).message).toBe('contend.tasks: is required');
    expect(errorOf(() => validateContendParams(null)).field).toBe('(params)');
    expect(errorOf(() => validateContendParams({ tasks: 1, pattern: 'migrate', hotFolios: 0, coldFolios: 3 })).field).toBe('hotFolios');
  });
});
