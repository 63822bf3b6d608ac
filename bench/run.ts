// `npm run bench`: measures Dockhand against its references and writes the report to stdout and
// bench/results/ (latest.md, and the raw figures as latest.json and <start time>.json). Progress goes to stderr.
// Env: BENCH_ROUNDS (3), BENCH_SIZE_MIB (512), BENCH_THROTTLED_MIB (128), BENCH_AUTH_SIZE_MIB (64),
// BENCH_ONLY=pull|throttled|cli|fanout|clientauth|renewal|api|filteredlist (comma-separated).
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { stopAll } from '../test/rig/processes.ts';
import { readCpuTimes, stealPercent } from './proc-stats.ts';
import { renderReport, type SectionReport } from './report.ts';
import { apiSection } from './sections/api.ts';
import { cliSection } from './sections/cli.ts';
import { clientAuthSection } from './sections/client-auth.ts';
import type { Section } from './sections/context.ts';
import { fanoutSection } from './sections/fanout.ts';
import { filteredListSection } from './sections/filtered-list.ts';
import { pullSection } from './sections/pull.ts';
import { renewalSection } from './sections/renewal.ts';
import { throttledSection } from './sections/throttled.ts';
import { readSettings, type SectionName } from './settings.ts';
import { percent } from './stats.ts';
import { createWorkDir } from './workdir.ts';

const SECTION_RUNNERS: Record<SectionName, Section> = {
  pull: pullSection,
  throttled: throttledSection,
  cli: cliSection,
  fanout: fanoutSection,
  clientauth: clientAuthSection,
  renewal: renewalSection,
  api: apiSection,
  filteredlist: filteredListSection,
};

const RESULTS = join(import.meta.dirname, 'results');

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
      const machineFrom = { cpu: readCpuTimes(), load: loadavg()[0] ?? 0 };
      let report: SectionReport;
      try {
        report = await SECTION_RUNNERS[name]({ settings, work, say });
      } catch (error) {
        failed = true;
        say(`${name} failed: ${(error as Error).stack ?? error}`);
        report = {
          title: `${name}: FAILED`,
          lines: ['```', String((error as Error).message ?? error).slice(0, 4000), '```'],
          checks: [],
          data: {},
        };
      } finally {
        await stopAll();
      }
      // Every figure is worth only as much as the machine was quiet: others share these 2 cores.
      const machine = {
        loadAverage1m: { before: machineFrom.load, after: loadavg()[0] ?? 0 },
        stealPercent: stealPercent(machineFrom.cpu, readCpuTimes()),
      };
      report.lines.push(
        `Machine during this section: load average (1 min) ${machine.loadAverage1m.before.toFixed(2)} before, ` +
          `${machine.loadAverage1m.after.toFixed(2)} after; CPU steal ${percent(machine.stealPercent)} (/proc/stat).`,
      );
      report.data['machine'] = machine;
      reports.push(report);
    }
  } finally {
    await stopAll();
    await work.remove();
  }
  const steal = stealPercent(cpuFrom, readCpuTimes());
  const header = [
    '# Dockhand benchmarks',
    '',
    `${new Date(started).toISOString()}, commit ${gitCommit()}, node ${process.version}, ` +
      `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`,
    `Settings: rounds ${settings.rounds}, pull image ${settings.sizeMiB} MiB, throttled layer ` +
      `${settings.throttledSizeMiB} MiB, clientAuth image ${settings.authSizeMiB} MiB, sections ` +
      `${settings.sections.join(', ')}.`,
    `Total ${((Date.now() - started) / 1000).toFixed(0)} s, CPU steal over the run ${percent(steal)}.`,
  ];
  const text = renderReport(header, reports);
  process.stdout.write(`${text}\n`);
  const json = JSON.stringify(
    {
      started: new Date(started).toISOString(),
      commit: gitCommit(),
      node: process.version,
      cpus: cpus().length,
      settings,
      stealPercent: steal,
      sections: reports,
    },
    null,
    2,
  );
  await mkdir(RESULTS, { recursive: true });
  await writeFile(join(RESULTS, 'latest.md'), `${text}\n`);
  await writeFile(join(RESULTS, 'latest.json'), `${json}\n`);
  await writeFile(join(RESULTS, `${new Date(started).toISOString().replaceAll(':', '-')}.json`), `${json}\n`);
  say(`report written to ${RESULTS} (latest.md, latest.json)`);
  return failed ? 1 : 0;
}

// Exiting through process.exit runs the rig's exit hook, which kills what the bench started and removes its temp
// dirs; the default signal action would skip it.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
process.exitCode = await main();
