// The one wrapper around kubectl. It always names the kubeconfig it is given (and points KUBECONFIG
// and the cache at the same temporary place), so it never reads or writes the user's own
// kubeconfig or talks to their clusters.
import path from 'node:path';
import { $ } from 'zx/core';
import { ToolError } from '../cli/errors.ts';

/**
 * What kubectl reads from standard input: a JSON List. Never YAML: kubectl parses YAML 1.1, where an
 * unquoted `yes`, `on` or `y` (which a YAML 1.2 writer leaves unquoted) is a boolean, and the
 * object would be refused or changed where Argo CD and Flux (which read it as a string) apply it.
 */
export function toKubectlInput(objects: readonly unknown[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
}

/**
 * The API server's answer as kubectl prints it, without kubectl's wrapping: its warnings, the
 * `Error from server (Reason):` prefix and the `error when creating "STDIN":` preamble.
 */
export function serverMessage(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('Warning: '))
    .map((line) => line.replace(/^Error from server(?: \([A-Za-z]+\))?: /, ''))
    .join('\n')
    .replace(/error when (?:creating|patching|applying patch)[^:]*"STDIN":\s*/g, '')
    .trim();
}

export interface KubectlResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Kubectl {
  readonly bin: string;
  readonly kubeconfig: string;
}

export interface KubectlOptions {
  /** Written to kubectl's standard input (`-f -`). */
  readonly input?: string;
  /** Kill kubectl after this long; a hung call is a tool error, not a wait. */
  readonly timeoutMs?: number;
}

export async function kubectl(k: Kubectl, args: readonly string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  const cacheDir = path.join(path.dirname(k.kubeconfig), 'kubectl-cache');
  const run = $({
    quiet: true,
    nothrow: true,
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 120_000,
    env: { ...process.env, KUBECONFIG: k.kubeconfig, KUBECACHEDIR: cacheDir },
  });
  const out = await run`${k.bin} --kubeconfig ${k.kubeconfig} --cache-dir ${cacheDir} ${args}`;
  if (out.exitCode === null) throw new ToolError(`kubectl ${args.slice(0, 2).join(' ')} did not finish in ${((options.timeoutMs ?? 120_000) / 1000).toFixed(0)} s (${out.signal ?? 'killed'})`);
  return { exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr };
}

/** Like `kubectl`, but a non-zero exit is a ToolError with kubectl's message. */
export async function kubectlOk(k: Kubectl, args: readonly string[], options: KubectlOptions = {}): Promise<string> {
  const out = await kubectl(k, args, options);
  if (out.exitCode !== 0) throw new ToolError(`kubectl ${args.join(' ')} failed (exit ${out.exitCode}): ${out.stderr.trim()}`);
  return out.stdout;
}

/** `kubectl get ... -o json`, parsed; undefined when the object does not exist. */
export async function kubectlGetJson<T = Record<string, unknown>>(k: Kubectl, args: readonly string[]): Promise<T | undefined> {
  const out = await kubectl(k, ['get', ...args, '-o', 'json']);
  if (out.exitCode !== 0) {
    if (/NotFound|not found/.test(out.stderr)) return undefined;
    throw new ToolError(`kubectl get ${args.join(' ')} failed (exit ${out.exitCode}): ${out.stderr.trim()}`);
  }
  return JSON.parse(out.stdout) as T;
}
