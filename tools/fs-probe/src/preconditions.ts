/**
 * Checks made before anything is created. Each failure is one line and exit status 2. The host is passed in
 * (HostView) so the checks are testable without root.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { ProbeError } from './host.js';
import { FS_CONFIGS, type FsName } from './probe.js';

export interface HostView {
  euid: number;
  exists: (path: string) => boolean;
  proc_filesystems: string;
  which: (cmd: string) => boolean;
}

export function host_view_real(): HostView {
  const path_dirs = (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin']);
  return {
    euid: process.geteuid ? process.geteuid() : -1,
    exists: (p) => existsSync(p),
    proc_filesystems: existsSync('/proc/filesystems') ? readFileSync('/proc/filesystems', 'utf8') : '',
    which: (cmd) =>
      path_dirs.some((d) => {
        try {
          accessSync(`${d}/${cmd}`, constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
  };
}

function fs_listed(proc_filesystems: string, name: string): boolean {
  return proc_filesystems.split('\n').some((l) => l.trim().split(/\s+/).pop() === name);
}

/** Throws ProbeError(exit 2) naming the first unmet precondition for probing `fss`. */
export function preconditions_check(host: HostView, fss: readonly FsName[]): void {
  if (host.euid !== 0) throw new ProbeError(`fs-probe must run as root (euid is ${host.euid}): it creates loop devices, mounts and tracing state`, 2);
  if (!host.exists('/dev/loop-control')) throw new ProbeError('no loop device support: /dev/loop-control is missing', 2);
  if (!host.exists('/sys/kernel/tracing/tracing_on') && !fs_listed(host.proc_filesystems, 'tracefs')) {
    throw new ProbeError('tracefs is neither mounted at /sys/kernel/tracing nor available in /proc/filesystems', 2);
  }
  for (const tool of ['gcc', 'losetup', 'mount', 'umount']) {
    if (!host.which(tool)) throw new ProbeError(`required program '${tool}' is not in PATH`, 2);
  }
  for (const fs of fss) {
    const cfg = FS_CONFIGS[fs];
    if (!fs_listed(host.proc_filesystems, cfg.family)) throw new ProbeError(`--fs ${fs}: the kernel has no ${cfg.family} filesystem (not in /proc/filesystems)`, 2);
    if (!host.which(cfg.mkfs[0]!)) {
      const hint = cfg.family === 'xfs' ? ' (apt-get install -y xfsprogs)' : ' (apt-get install -y e2fsprogs)';
      throw new ProbeError(`--fs ${fs}: ${cfg.mkfs[0]} is not in PATH${hint}`, 2);
    }
  }
}
