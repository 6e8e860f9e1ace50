import { TRACE_ACQUIRE, TRACE_ENQUEUE, TRACE_RELEASE, TRACE_RESUME, TRACE_WAKE, type SimTrace } from './sim.js';

/**
 * Check a run's event trace without looking at any policy's queues:
 * - per folio, lock acquisitions and releases alternate, and the releaser is the acquirer
 *   (no task ever holds a lock another holds);
 * - per task, every enqueue is followed by exactly one wake and one resume before the task queues again
 *   (no waiter lost, none woken twice);
 * - nothing is left queued or locked at the end.
 * Returns the problems found (empty when the trace is sound).
 */
export function checkTrace(trace: SimTrace, nrTasks: number, nrFolios: number): string[] {
  const problems: string[] = [];
  const holder = new Int32Array(nrFolios).fill(-1);
  const held = new Uint8Array(nrFolios);
  // 0 idle, 1 queued, 2 woken (resume pending)
  const state = new Uint8Array(nrTasks);
  const waitFolio = new Int32Array(nrTasks).fill(-1);
  const add = (i: number, msg: string) => {
    if (problems.length < 20) problems.push(`event ${i} t=${trace.time[i]}: ${msg}`);
  };
  for (let i = 0; i < trace.length; i++) {
    const task = trace.task[i];
    const folio = trace.folio[i];
    switch (trace.kind[i]) {
      case TRACE_ACQUIRE:
        if (held[folio]) add(i, `${task} acquired folio ${folio} held by ${holder[folio]}`);
        held[folio] = 1;
        holder[folio] = task;
        break;
      case TRACE_RELEASE:
        if (!held[folio]) add(i, `${task} released folio ${folio} that nobody held`);
        else if (holder[folio] !== task) add(i, `${task} released folio ${folio} held by ${holder[folio]}`);
        held[folio] = 0;
        holder[folio] = -1;
        break;
      case TRACE_ENQUEUE:
        if (state[task] !== 0) add(i, `task ${task} queued twice`);
        state[task] = 1;
        waitFolio[task] = folio;
        break;
      case TRACE_WAKE:
        if (state[task] !== 1) add(i, `task ${task} woken while ${state[task] === 2 ? 'already woken' : 'not queued'}`);
        else if (waitFolio[task] !== folio) add(i, `task ${task} woken for folio ${folio} but waits on ${waitFolio[task]}`);
        state[task] = 2;
        break;
      case TRACE_RESUME:
        if (state[task] !== 2) add(i, `task ${task} resumed without a wake`);
        state[task] = 0;
        break;
    }
  }
  for (let t = 0; t < nrTasks; t++) if (state[t] !== 0) add(trace.length, `task ${t} still ${state[t] === 1 ? 'queued' : 'woken'} at the end`);
  for (let f = 0; f < nrFolios; f++) if (held[f]) add(trace.length, `folio ${f} still locked by ${holder[f]} at the end`);
  return problems;
}
