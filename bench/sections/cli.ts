// Section 3: the CLI's start-up. `dockhand version` (which also asks a running daemon for its version) against
// `node -e 0`, the cost of starting node at all; alternated run by run, each a fresh process.
import { performance } from 'node:perf_hooks';
import { Cleanup } from '../cleanup.ts';
import { run } from '../command.ts';
import { CLI, startDaemonProcess } from '../daemon-process.ts';
import { SectionWriter } from '../report.ts';
import { millis, ratio, spread, summarize } from '../stats.ts';
import type { Section } from './context.ts';

const RUNS = 15;

async function wall(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  await run(process.execPath, args, env);
  return performance.now() - started;
}

export const cliSection: Section = async ({ work, say }) => {
  const out = new SectionWriter('3. CLI start-up: `dockhand version` against `node -e 0`');
  const cleanup = new Cleanup();
  try {
    const daemon = cleanup.add(await startDaemonProcess({ dir: await work.fresh('cli-dockhand') }));
    const env = { ...process.env, DOCKER_HOST: `unix://${daemon.socket}` };
    const version: number[] = [];
    const node: number[] = [];
    say(`cli: ${RUNS} runs each`);
    // One unmeasured run each: the first start reads the files from disk.
    await wall([CLI, 'version'], env);
    await wall(['-e', '0'], env);
    for (let i = 0; i < RUNS; i++) {
      version.push(await wall([CLI, 'version'], env));
      node.push(await wall(['-e', '0'], env));
    }
    const versionMs = summarize(version);
    const nodeMs = summarize(node);
    out.line(`${RUNS} runs each, alternated, after one unmeasured run each. Median (min – max).`);
    out.line();
    out.table(
      ['command', 'wall'],
      [
        ['`dockhand version` (client and daemon versions)', spread(versionMs, millis)],
        ['`node -e 0`', spread(nodeMs, millis)],
      ],
    );
    const over = versionMs.median / nodeMs.median;
    out.check(
      'cli: `dockhand version` / `node -e 0` wall (medians)',
      `${ratio(over)}×`,
      '≤ 2×',
      over <= 2,
      `dockhand version ${spread(versionMs, millis)}; node -e 0 ${spread(nodeMs, millis)}`,
    );
    out.record('versionMs', version);
    out.record('nodeMs', node);
    return out.done();
  } finally {
    await cleanup.run();
  }
};
