// Peak memory of a command and everything it starts, read from /proc while it runs (Linux only):
// the node process, its largest kustomize child, and all of them together at the worst moment;
// and the CPU time of the whole tree (bash's `times`), which other load on the machine changes
// far less than the wall-clock time.
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { $ } from 'zx';

export interface PeakMemory {
  /** Peak RSS (VmHWM) of the largest node process in the tree, in MiB. */
  readonly nodeMiB: number;
  /** Peak RSS (VmHWM) of the largest kustomize process, in MiB. */
  readonly kustomizeMiB: number;
  /** Most kustomize processes alive at one sample. */
  readonly kustomizeAtOnce: number;
  /** Largest sum of RSS over the whole tree at one sample, in MiB. */
  readonly totalMiB: number;
}

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      out.push({ pid: Number(entry), ppid, comm });
    } catch {
      // gone between readdir and read
    }
  }
  return out;
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function descendants(root: number): Proc[] {
  const all = processes();
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const self = all.find((p) => p.pid === root);
  const found: Proc[] = self ? [self] : [];
  for (let i = 0; i < found.length; i++) found.push(...(children.get(found[i]!.pid) ?? []));
  return found;
}

/** Runs `argv` in `cwd`, sampling its process tree every `intervalMs`; exit codes in `okCodes` count as success. */
export interface Measured {
  /** Wall-clock milliseconds. */
  readonly ms: number;
  /** User + system CPU milliseconds of the command and every process it waited for. */
  readonly cpuMs: number;
  readonly peak: PeakMemory;
  readonly stdout: string;
}

/** `times` prints the shell's own and its children's user and system time: `0m5.570s 0m0.790s`. */
function childrenCpuMs(stderr: string): number {
  const lines = stderr.trimEnd().split('\n');
  const match = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines.at(-1) ?? '');
  if (!match) throw new Error(`no CPU times in: ${lines.slice(-3).join(' | ')}`);
  return (Number(match[1]) * 60 + Number(match[2]) + Number(match[3]) * 60 + Number(match[4])) * 1000;
}

export async function measure(argv: readonly string[], cwd: string, okCodes: readonly number[] = [0], intervalMs = 40): Promise<Measured> {
  const started = performance.now();
  const running = $({ cwd, quiet: true, nothrow: true })`bash -c ${'"$@"; rc=$?; times >&2; exit $rc'} bash ${argv}`;
  const hwm = new Map<number, { comm: string; kib: number }>();
  let totalKiB = 0;
  let atOnce = 0;
  let done = false;
  const sample = () => {
    const pid = running.child?.pid;
    if (pid === undefined) return;
    let sum = 0;
    let kustomizes = 0;
    for (const p of descendants(pid)) {
      sum += statusKiB(p.pid, 'VmRSS');
      if (p.comm === 'kustomize') kustomizes++;
      const peak = statusKiB(p.pid, 'VmHWM');
      if (peak > (hwm.get(p.pid)?.kib ?? 0)) hwm.set(p.pid, { comm: p.comm, kib: peak });
    }
    totalKiB = Math.max(totalKiB, sum);
    atOnce = Math.max(atOnce, kustomizes);
  };
  const sampler = (async () => {
    while (!done) {
      sample();
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  const out = await running;
  const ms = performance.now() - started;
  done = true;
  await sampler;
  if (!okCodes.includes(out.exitCode ?? -1)) throw new Error(`${argv.join(' ')} exited ${out.exitCode}:\n${out.stderr.slice(0, 2000)}`);
  const largest = (comm: RegExp) => Math.max(0, ...[...hwm.values()].filter((p) => comm.test(p.comm)).map((p) => p.kib)) / 1024;
  return { ms, cpuMs: childrenCpuMs(out.stderr), stdout: out.stdout, peak: { nodeMiB: largest(/^(node|MainThread)$/), kustomizeMiB: largest(/^kustomize$/), kustomizeAtOnce: atOnce, totalMiB: totalKiB / 1024 } };
}
