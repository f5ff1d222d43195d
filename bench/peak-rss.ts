/**
 * Peak memory one call adds, measured in a child process (Linux): the child resets its peak RSS
 * (writing 5 to /proc/self/clear_refs), makes the call, and reports VmHWM minus the RSS before it.
 * Children start with glibc's mmap threshold at 64 KiB, so large blocks go back to the system when
 * freed and RSS follows what is live instead of what malloc keeps cached. Shared by the runner and
 * logits-loss benchmarks.
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

function statusKiB(field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (!match) throw new Error(`no ${field} in /proc/self/status`);
  return Number(match[1]);
}

/**
 * In the child: runs `call` with the peak RSS reset and sends the KiB it added to the parent.
 * Returns the call's result, so a caller can keep it alive until after the measurement.
 */
export async function reportPeakAdded<T>(call: () => Promise<T>, extra: Record<string, unknown> = {}): Promise<T> {
  writeFileSync('/proc/self/clear_refs', '5');
  const before = statusKiB('VmRSS');
  const result = await call();
  process.send!({ addedKiB: statusKiB('VmHWM') - before, ...extra });
  return result;
}

/** In the parent: forks `script` with `args` and resolves with the bytes its {@link reportPeakAdded} sent. */
export function childPeakBytes(script: string, args: string[], label: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(script, args, { execArgv: process.execArgv, env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536' } });
    child.on('message', (m: { addedKiB: number }) => resolve(m.addedKiB * 1024));
    child.on('error', reject);
    child.on('exit', (code) => code !== 0 && reject(new Error(`memory child ${label} exited with ${code}`)));
  });
}
