import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { ROOT, type WorkspacePackage } from './workspace.js';
import { metadata_problems, pack_package, tarball_files } from './pack.js';

const require = createRequire(import.meta.url);
const ATTW = join(require.resolve('@arethetypeswrong/cli/package.json'), '..', 'dist', 'index.js');

/**
 * Everything wrong with one package: its metadata, what its tarball holds, publint (strict) and attw
 * (profile esm-only) on the tarball `npm pack` makes. Empty when it is ready to publish.
 */
export async function check_one(p: WorkspacePackage, packDir: string, all: readonly WorkspacePackage[], root = ROOT): Promise<string[]> {
  const problems = metadata_problems(p, all, root);
  const tarball = pack_package(p, packDir);
  const files = tarball_files(tarball);
  for (const must of ['package.json', 'LICENSE', 'README.md']) if (!files.includes(must)) problems.push(`the tarball has no ${must}`);
  const leaked = files.filter((f) => /\.(test|bench)\.ts$|(^|\/)test-util\.|\.tsbuildinfo$|(^|\/)out-tsc\//.test(f));
  if (leaked.length) problems.push(`the tarball ships test/build files: ${leaked.slice(0, 3).join(', ')}`);

  const data = readFileSync(tarball);
  const lint = await publint({ strict: true, level: 'warning', pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer } });
  for (const m of lint.messages) problems.push(`publint ${m.type}: ${formatMessage(m, lint.pkg, { color: false }) ?? m.code}`);

  const attw = spawnSync(process.execPath, [ATTW, tarball, '--profile', 'esm-only', '--format', 'json', '--no-color'], { encoding: 'utf8' });
  if (attw.error) throw attw.error;
  type AttwProblem = { kind: string; entrypoint?: string; resolutionKind?: string };
  let parsed: { problems?: Record<string, AttwProblem[]> } | undefined;
  try {
    parsed = JSON.parse(attw.stdout) as typeof parsed;
  } catch {
    problems.push(`attw did not run: ${(attw.stderr || attw.stdout).trim().split('\n')[0]}`);
  }
  const ignored = new Set(['node10', 'node16-cjs']); // esm-only profile
  for (const pr of Object.values(parsed?.problems ?? {}).flat()) {
    if (pr.resolutionKind && ignored.has(pr.resolutionKind)) continue;
    problems.push(`attw: ${pr.kind}${pr.entrypoint ? ` at ${pr.entrypoint}` : ''}${pr.resolutionKind ? ` (${pr.resolutionKind})` : ''}`);
  }
  if (parsed && attw.status !== 0 && !problems.some((x) => x.startsWith('attw'))) problems.push(`attw exited ${attw.status}: ${attw.stderr.trim().split('\n')[0]}`);
  return problems;
}

