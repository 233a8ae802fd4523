// Timing commands against each other on a noisy machine.
import { timeRun } from "./procs.ts";

/**
 * Wall times of each command, `runs` rounds after three warm-up rounds (page cache), the order
 * rotated every round so that the machine's noise falls on all of them alike.
 */
export async function interleaved<N extends string>(
  commands: Record<N, string[]>,
  env: Record<string, string>,
  runs: number,
): Promise<Record<N, number[]>> {
  const names = Object.keys(commands) as N[];
  const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<N, number[]>;
  for (let i = -3; i < runs; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + 3 + k) % names.length] as N;
      const t = await timeRun(commands[name], env);
      if (i >= 0) times[name].push(t.ms);
    }
  }
  return times;
}
