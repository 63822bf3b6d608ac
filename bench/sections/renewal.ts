// Section: the long pull under 3-second access tokens (test/helpers/long-pull.ts), three ways: renewing ahead of
// expiry on the side channel, renewing on the registry's 401 on the side channel, and without the side channel (the
// stream ends at each late challenge and the retry resumes). What each costs in wall time, registry 401s, token
// grants and daemon requests.
import { rm } from 'node:fs/promises';
import { LONG_PULL, type LongPullRun, longPull, startLongPullRig } from '../../test/helpers/long-pull.ts';
import { startDaemonProcess } from '../daemon-process.ts';
import { SectionWriter } from '../report.ts';
import { seconds, spread, summarize } from '../stats.ts';
import { rotated, type Section } from './context.ts';

const DESIGNS = [
  { name: 'side channel, renew before expiry', sideChannel: true, renewBeforeExpiry: true },
  { name: 'side channel, renew on 401', sideChannel: true, renewBeforeExpiry: false },
  { name: 'no side channel (stream ends, retry resumes)', sideChannel: false, renewBeforeExpiry: false },
] as const;

export const renewalSection: Section = async ({ settings, work, say }) => {
  const out = new SectionWriter(
    `Renewal: ${LONG_PULL.layers} × ${LONG_PULL.layerBytes / 1000} kB layers at ` +
      `${LONG_PULL.bytesPerSecond / 1000} kB/s per blob, ${LONG_PULL.concurrentDownloads} at once, ` +
      `${LONG_PULL.tokenSeconds} s tokens, OAuth handler with rotation`,
  );
  const rig = await startLongPullRig();
  const runs = new Map<string, LongPullRun[]>(DESIGNS.map((d) => [d.name, []]));
  try {
    for (let round = 0; round < settings.rounds; round++) {
      for (const design of rotated(DESIGNS, round)) {
        say(`renewal round ${round + 1}: ${design.name}`);
        const dir = await work.fresh(`renewal-${round}`);
        const daemon = await startDaemonProcess({
          dir,
          args: ['--max-concurrent-downloads', String(LONG_PULL.concurrentDownloads)],
        });
        try {
          runs.get(design.name)?.push(await longPull(rig, daemon.socket, design));
        } finally {
          await daemon.stop();
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await rig.stop();
  }
  const median = (list: LongPullRun[], pick: (r: LongPullRun) => number) =>
    String(summarize(list.map(pick)).median);
  out.table(
    [
      'design',
      'wall time',
      'registry 401s',
      'token grants',
      'answers (renewals)',
      'daemon requests',
      'reuse',
    ],
    DESIGNS.map((d) => {
      const list = runs.get(d.name) ?? [];
      return [
        d.name,
        spread(summarize(list.map((r) => r.ms)), seconds),
        median(list, (r) => r.registry401s),
        median(list, (r) => r.tokenGrants),
        `${median(list, (r) => r.answers)} (${median(list, (r) => r.renewals)})`,
        median(list, (r) => r.streams),
        median(list, (r) => r.refreshTokenReuse),
      ];
    }),
  );
  out.line('Medians over the rounds; every run served each layer byte once (checked by the e2e test).');
  return out.done();
};
