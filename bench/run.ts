// `npm run bench`: measures Dockhand against its references and writes the report to stdout and
// bench/results/latest.md. Progress goes to stderr. Env: BENCH_ROUNDS (3), BENCH_SIZE_MIB (1024),
// BENCH_AUTH_SIZE_MIB (64), BENCH_ONLY=pull|fanout|clientauth|api (comma-separated).
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { stopAll } from '../test/rig/processes.ts';
import { readCpuTimes, stealPercent } from './proc-stats.ts';
import { renderReport, type SectionReport } from './report.ts';
import { apiSection } from './sections/api.ts';
import { clientAuthSection } from './sections/client-auth.ts';
import type { Section } from './sections/context.ts';
import { fanoutSection } from './sections/fanout.ts';
import { pullSection } from './sections/pull.ts';
import { readSettings, type SectionName } from './settings.ts';
import { percent } from './stats.ts';
import { createWorkDir } from './workdir.ts';

const SECTION_RUNNERS: Record<SectionName, Section> = {
  pull: pullSection,
  fanout: fanoutSection,
  clientauth: clientAuthSection,
  api: apiSection,
};

const RESULTS = join(import.meta.dirname, 'results', 'latest.md');

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: import.meta.dirname })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const settings = readSettings();
  const say = (text: string) => process.stderr.write(`[bench] ${text}\n`);
  const work = await createWorkDir();
  const started = Date.now();
  const cpuFrom = readCpuTimes();
  const reports: SectionReport[] = [];
  let failed = false;
  try {
    for (const name of settings.sections) {
      try {
        reports.push(await SECTION_RUNNERS[name]({ settings, work, say }));
      } catch (error) {
        failed = true;
        say(`${name} failed: ${(error as Error).stack ?? error}`);
        reports.push({
          title: `${name}: FAILED`,
          lines: ['```', String((error as Error).message ?? error).slice(0, 4000), '```'],
          checks: [],
        });
      } finally {
        await stopAll();
      }
    }
  } finally {
    await stopAll();
    await work.remove();
  }
  const header = [
    '# Dockhand benchmarks',
    '',
    `${new Date(started).toISOString()}, commit ${gitCommit()}, node ${process.version}, ` +
      `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`,
    `Settings: rounds ${settings.rounds}, pull image ${settings.sizeMiB} MiB, clientAuth image ` +
      `${settings.authSizeMiB} MiB, sections ${settings.sections.join(', ')}.`,
    `Total ${((Date.now() - started) / 1000).toFixed(0)} s, CPU steal over the run ` +
      `${percent(stealPercent(cpuFrom, readCpuTimes()))}.`,
  ];
  const text = renderReport(header, reports);
  process.stdout.write(`${text}\n`);
  await mkdir(join(import.meta.dirname, 'results'), { recursive: true });
  await writeFile(RESULTS, `${text}\n`);
  say(`report written to ${RESULTS}`);
  return failed ? 1 : 0;
}

// Exiting through process.exit runs the rig's exit hook, which kills what the bench started and removes its temp
// dirs; the default signal action would skip it.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
process.exitCode = await main();
