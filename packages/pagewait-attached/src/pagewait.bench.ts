/**
 * Simulated wake-ups per second of host time, per built-in contend scenario and policy.
 * Run: node --conditions=@foliolab/source --import tsx packages/pagewait-attached/src/pagewait.bench.ts
 * A measurement: it prints figures and asserts nothing.
 */
import { benchPagewait } from '@foliolab/pagewait';
import { createHashedWaitPolicy } from '@foliolab/pagewait-hashed';
import { createAttachedWaitPolicy } from './index.js';

const policies = [
  { name: 'hashed', create: () => createHashedWaitPolicy() },
  { name: 'hashed:bookmarks', create: () => createHashedWaitPolicy({ bookmarks: true }) },
  { name: 'hashed:bits=12', create: () => createHashedWaitPolicy({ tableBits: 12 }) },
  { name: 'attached', create: () => createAttachedWaitPolicy() },
];
benchPagewait({ policies }); // warm-up (JIT)
const rows = benchPagewait({ policies });
const fmt = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);
console.log('scenario                        policy              host ms   wakeups  woken     walked   wakeups/s  woken/s   walked/s');
for (const r of rows) {
  console.log(
    `${r.scenario.padEnd(32)}${r.policy.padEnd(20)}${r.hostMs.toFixed(0).padStart(7)} ${String(r.wakeups).padStart(9)} ${String(r.tasksWoken).padStart(7)} ${String(r.entriesWalked).padStart(10)}  ${fmt(r.wakeupsPerSec).padStart(9)} ${fmt(r.tasksWokenPerSec).padStart(9)} ${fmt(r.entriesWalkedPerSec).padStart(9)}`,
  );
}
