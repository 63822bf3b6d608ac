// Our result types against @types/dockerode 4.0.2 (checked by tsc; expectTypeOf is a no-op at run time).
// Where the two overlap our values must be usable as dockerode's; each field left out below is a place where
// dockerode's declaration disagrees with the Engine API, and the `.not` assertions pin that disagreement down,
// so this file fails (and must be revisited) the day either side changes.
import type Dockerode from 'dockerode';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import type {
  ImageDeleteResponseItem,
  ImageInspect,
  ImageSummary,
  SystemVersion,
} from '../../../client/index.ts';
import { EngineClient } from '../../../client/index.ts';
import { type FakeDaemon, startFakeDaemon } from './fake-daemon.ts';

/** The fields both types declare, taken from dockerode's side, minus the known disagreements. */
type Overlap<Ours, Theirs, Disagree extends keyof Theirs = never> = Pick<
  Theirs,
  Exclude<Extract<keyof Theirs, keyof Ours>, Disagree>
>;

describe('assignability to @types/dockerode where the types overlap', () => {
  it('ImageSummary → ImageInfo', () => {
    expectTypeOf<ImageSummary>().toExtend<Overlap<ImageSummary, Dockerode.ImageInfo, 'VirtualSize'>>();
    // VirtualSize left the API in 1.44; dockerode still requires it.
    expectTypeOf<ImageSummary['VirtualSize']>().not.toExtend<Dockerode.ImageInfo['VirtualSize']>();
  });

  it('ImageInspect → ImageInspectInfo', () => {
    expectTypeOf<ImageInspect>().toExtend<
      Overlap<ImageInspect, Dockerode.ImageInspectInfo, 'VirtualSize' | 'Config' | 'GraphDriver'>
    >();
    // dockerode requires every container-config key in Config and devicemapper keys in GraphDriver.Data;
    // the API omits empty Config keys (1.52) and GraphDriver data is driver-specific.
    expectTypeOf<ImageInspect['Config']>().not.toExtend<Dockerode.ImageInspectInfo['Config']>();
    expectTypeOf<ImageInspect['GraphDriver']>().not.toExtend<Dockerode.ImageInspectInfo['GraphDriver']>();
    expectTypeOf<ImageInspect['VirtualSize']>().not.toExtend<Dockerode.ImageInspectInfo['VirtualSize']>();
    // Every field the API still sends is at least as precise as dockerode's: Config's own keys agree.
    expectTypeOf<Required<ImageInspect['Config']>['Env']>().toExtend<
      Dockerode.ImageInspectInfo['Config']['Env']
    >();
  });

  it('SystemVersion → DockerVersion', () => {
    expectTypeOf<SystemVersion>().toExtend<
      Overlap<SystemVersion, Dockerode.DockerVersion, 'BuildTime' | 'Components'>
    >();
    // dockerode types BuildTime as a Date; the wire (and JSON.parse) gives a string.
    expectTypeOf<SystemVersion['BuildTime']>().not.toExtend<Dockerode.DockerVersion['BuildTime']>();
    // dockerode requires eight Details keys per component; the API makes Details optional and free-form.
    expectTypeOf<SystemVersion['Components']>().not.toExtend<Dockerode.DockerVersion['Components']>();
  });
});

describe('ImageRemoveInfo is wrong: DELETE /images/{name} answers an array', () => {
  let daemon: FakeDaemon | undefined;
  let client: EngineClient | undefined;

  afterEach(async () => {
    await client?.close();
    await daemon?.close();
  });

  it('types the result as an array of {Untagged?|Deleted?}, which ImageRemoveInfo cannot describe', async () => {
    expectTypeOf<ImageDeleteResponseItem[]>().not.toExtend<Dockerode.ImageRemoveInfo>();
    expectTypeOf<Dockerode.ImageRemoveInfo>().not.toExtend<unknown[]>();
    // One item carries one of the two keys, so dockerode's "both required" shape does not fit an item either.
    expectTypeOf<ImageDeleteResponseItem>().not.toExtend<Dockerode.ImageRemoveInfo>();

    daemon = await startFakeDaemon((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('[{"Untagged":"127.0.0.1:5000/small:1"},{"Deleted":"sha256:1"},{"Deleted":"sha256:2"}]');
    });
    client = new EngineClient({ socketPath: daemon.socketPath });
    const removed = await client.removeImage('127.0.0.1:5000/small:1');
    expect(Array.isArray(removed)).toBe(true);
    expect(removed).toEqual([
      { Untagged: '127.0.0.1:5000/small:1' },
      { Deleted: 'sha256:1' },
      { Deleted: 'sha256:2' },
    ]);
  });
});
