/**
 * Running host commands and undoing what the probe did. Every resource the probe creates (lock, temp dir, loop
 * device, mount, tracing state) is registered in a Cleanup right after it exists; Cleanup.run_all() undoes them
 * newest first, synchronously, so it can run from a signal handler or an 'exit' hook, and is idempotent.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

/** An error the CLI reports as one line; exit_code 2 = bad input / unmet precondition, 1 = runtime failure. */
export class ProbeError extends Error {
  constructor(message: string, readonly exit_code: 1 | 2 = 1) {
    super(message);
  }
}

export interface CmdResult {
  stdout: string;
  stderr: string;
  pid: number;
}

let child_current: ChildProcess | null = null;

/** Runs a command to completion without a shell; rejects with its first stderr line on a non-zero exit. */
export function cmd_run(file: string, args: readonly string[], on_spawn?: (pid: number) => void): Promise<CmdResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child_current = child;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    if (child.pid !== undefined && on_spawn) on_spawn(child.pid);
    child.on('error', (e) => {
      child_current = null;
      reject(new ProbeError(`${file}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      child_current = null;
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({ stdout, stderr, pid: child.pid ?? -1 });
      else {
        const first = stderr.split('\n').find((l) => l.trim().length > 0) ?? '';
        reject(new ProbeError(`${file} ${args.join(' ')}: ${signal ? `killed by ${signal}` : `exit ${code}`}${first ? `: ${first.trim()}` : ''}`));
      }
    });
  });
}

/** Kills the command cmd_run is waiting for, if any (cleanup after a signal). */
export function child_kill(): void {
  if (child_current && child_current.exitCode === null) {
    try {
      child_current.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Synchronous command for cleanup paths; returns stdout, throws on failure. */
export function cmd_run_sync(file: string, args: readonly string[]): string {
  return execFileSync(file, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
}

export function sleep_sync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export class Cleanup {
  private readonly steps: { name: string; fn: () => void }[] = [];

  /** Registers an undo step; returns a function that runs it early (and removes it). */
  push(name: string, fn: () => void): () => void {
    const step = { name, fn };
    this.steps.push(step);
    return () => {
      const i = this.steps.indexOf(step);
      if (i >= 0) {
        this.steps.splice(i, 1);
        step.fn();
      }
    };
  }

  get pending(): number {
    return this.steps.length;
  }

  /** Runs every step newest first; a failing step does not stop the others. Returns the failures. */
  run_all(): string[] {
    const errors: string[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        step.fn();
      } catch (e) {
        errors.push(`${step.name}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    return errors;
  }
}
