import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * A throwaway verdaccio on 127.0.0.1 with everything (storage, htpasswd, config) in one temp folder.
 *
 * @foliolab/* has no uplink: those packages exist only if published here, never proxied from anywhere,
 * so an install that succeeds got them from our tarballs. Every other package (yaml, zod, tinypool,
 * commander, vega, tsx, ...) is proxied from `uplink`, the npm registry this machine reaches: they
 * are not ours and are not in the workspace.
 */
export interface Registry {
  url: string;
  port: number;
  /** A userconfig .npmrc holding the registry and the test user's token; nothing of the host's. */
  npmrc: string;
  /** What verdaccio printed (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

export async function free_port(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function verdaccio_config(dir: string, uplink: string): string {
  const q = (s: string) => JSON.stringify(s); // YAML accepts JSON strings
  return [
    `storage: ${q(join(dir, 'storage'))}`,
    'auth:',
    '  htpasswd:',
    `    file: ${q(join(dir, 'htpasswd'))}`,
    '    max_users: 10',
    'uplinks:',
    '  npmjs:',
    `    url: ${q(uplink)}`,
    '    timeout: 60s',
    '    maxage: 30m',
    'packages:',
    "  '@foliolab/*':",
    '    access: $all',
    '    publish: $authenticated',
    '    unpublish: $authenticated',
    '  # no proxy: @foliolab/* is only what was published here',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    proxy: npmjs',
    'web:',
    '  enable: false',
    'middlewares:',
    '  audit:',
    '    enabled: false',
    'log: { type: stdout, format: pretty, level: warn }',
    '',
  ].join('\n');
}

async function wait_ready(url: string, child: ChildProcess, log: () => string, ms: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}:\n${log()}`);
    try {
      const r = await fetch(`${url}-/ping`);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - t0 > ms) throw new Error(`verdaccio did not answer ${url}-/ping within ${ms} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Start verdaccio, create a test user through the registry API, write the userconfig. */
export async function registry_start(dir: string, uplink: string): Promise<Registry> {
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const config = join(dir, 'verdaccio.yaml');
  writeFileSync(config, verdaccio_config(dir, uplink));
  const port = await free_port();
  const url = `http://127.0.0.1:${port}/`;
  const bin = join(require.resolve('verdaccio/package.json'), '..', 'bin', 'verdaccio');
  let out = '';
  const child = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  };
  // If the test process dies without running its hooks, do not leave a registry listening.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  try {
    await wait_ready(url, child, () => out, 30_000);
    const user = 'foliolab-e2e';
    const res = await fetch(`${url}-/user/org.couchdb.user:${user}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ _id: `org.couchdb.user:${user}`, name: user, password: `pw-${process.pid}-${port}`, type: 'user', roles: [] }),
    });
    const body = (await res.json()) as { token?: string; error?: string };
    if (!res.ok || !body.token) throw new Error(`verdaccio refused the test user: ${res.status} ${body.error ?? ''}`);
    const npmrc = join(dir, 'npmrc');
    writeFileSync(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${body.token}\naudit=false\nfund=false\nupdate-notifier=false\n`);
    return {
      url,
      port,
      npmrc,
      log: () => out,
      stop: async () => {
        process.removeListener('exit', onExit);
        await stop();
      },
    };
  } catch (e) {
    process.removeListener('exit', onExit);
    await stop();
    throw e;
  }
}
