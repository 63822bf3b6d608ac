// ImageListing over an index in memory: answers kept per generation of the index and per filters, and lists of
// many images built and filtered in slices that let other callbacks run.
import { describe, expect, it, vi } from 'vitest';
import type { ImageConfigJson } from '../../../daemon/images/image-configs.ts';
import { ImageListing } from '../../../daemon/images/image-listing.ts';
import type { ImageRecord } from '../../../daemon/store/index.ts';

const REG = '127.0.0.1:5000';

function record(i: number): ImageRecord {
  const id = `sha256:${i.toString(16).padStart(64, '0')}`;
  return {
    id,
    repoTags: [`${REG}/app:v${i}`, `docker.io/library/app-${i}:latest`],
    repoDigests: [`${REG}/app@sha256:${'e'.repeat(64)}`],
    refs: [],
    manifestDigest: `sha256:${'e'.repeat(64)}`,
    platform: { os: 'linux', architecture: 'amd64' },
    size: 1000 + i,
    created: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
    lastTagTime: '2024-01-01T00:00:00Z',
  };
}

/** An index of `count` images that a test can move to its next generation, with labels tier=app|base. */
function fakeIndex(count: number) {
  const index = { generation: 0, records: Array.from({ length: count }, (_, i) => record(i)) };
  const configs = { of: vi.fn(async (image: ImageRecord): Promise<ImageConfigJson> => configOf(image)) };
  const listing = new ImageListing({
    images: {
      get generation() {
        return index.generation;
      },
      list: () => index.records,
    },
    configs,
    createdOf: () => undefined,
  });
  return { index, configs, listing };
}

function configOf(image: ImageRecord): ImageConfigJson {
  const i = Number.parseInt(image.id.slice(7), 16);
  return { config: { Labels: { tier: i % 2 === 0 ? 'app' : 'base' } } };
}

describe('ImageListing', () => {
  it('hands back the same answer for the same filters, in any key order, until the index changes', async () => {
    const { index, listing } = fakeIndex(10);
    const typed = await listing.list({ reference: [`${REG}/app:*`], label: ['tier=app'] });
    expect(typed.map((s) => s.RepoTags)).toEqual([0, 2, 4, 6, 8].map((i) => [`${REG}/app:v${i}`]));
    expect(await listing.list({ label: ['tier=app'], reference: [`${REG}/app:*`] })).toBe(typed);
    expect(await listing.list({ label: ['tier=app'], reference: [`${REG}/app:*`], since: [] })).toBe(typed);
    expect(await listing.list({ label: ['tier=base'], reference: [`${REG}/app:*`] })).not.toBe(typed);
    const all = await listing.list({});
    expect(all).toHaveLength(10);
    expect(await listing.list({})).toBe(all);

    index.records = index.records.slice(0, 4);
    index.generation++;
    const after = await listing.list({ reference: [`${REG}/app:*`], label: ['tier=app'] });
    expect(after).not.toBe(typed);
    expect(after.map((s) => s.Id)).toEqual([record(0).id, record(2).id]);
    expect(await listing.list({})).toHaveLength(4);
  });

  it('shows an image narrowed to the same references as the same summary, whatever the filters', async () => {
    const { listing } = fakeIndex(4);
    const byReference = await listing.list({ reference: [`${REG}/app:*`] });
    const withLabel = await listing.list({ reference: [`${REG}/app:*`], label: ['tier=app'] });
    expect(withLabel[0]).toBe(byReference[0]);
    expect(byReference[0]?.RepoTags).toEqual([`${REG}/app:v0`]);
    // Every reference kept: the image's own summary.
    const whole = await listing.list({ reference: ['*', '*/*'] });
    expect(whole).toEqual(await listing.list({}));
    expect(whole[0]).toBe((await listing.list({}))[0]);
  });

  it('keeps the 8 most recently used filtered answers', async () => {
    const { listing } = fakeIndex(3);
    const filters = (n: number) => ({ reference: [`${REG}/app:v${n}`] });
    const first = await listing.list(filters(0));
    for (let n = 1; n < 8; n++) await listing.list(filters(n));
    expect(await listing.list(filters(0))).toBe(first);
    await listing.list(filters(8));
    // filters(1) is now the least recently used, and went.
    const second = await listing.list(filters(1));
    expect(await listing.list(filters(0))).toBe(first);
    expect(second.map((s) => s.Id)).toEqual([record(1).id]);
  });

  it('matches label keys the image has, not names every object answers to', async () => {
    const { listing } = fakeIndex(4);
    expect(await listing.list({ label: ['constructor'] })).toEqual([]);
    expect(await listing.list({ label: ['tier'] })).toHaveLength(4);
    expect(await listing.list({ label: ['tier=base', 'tier'] })).toHaveLength(2);
  });

  it('builds and filters a long list in slices: callbacks scheduled meanwhile run before it is answered', async () => {
    const { listing, configs } = fakeIndex(10_000);
    const order: string[] = [];
    const build = listing.list({}).then(() => order.push('built'));
    setImmediate(() => order.push('other callback'));
    await build;
    expect(order).toEqual(['other callback', 'built']);
    expect(configs.of).toHaveBeenCalledTimes(10_000);

    order.length = 0;
    const filter = listing.list({ reference: ['app-*'], label: ['tier=base'] }).then((list) => {
      order.push('filtered');
      return list;
    });
    setImmediate(() => order.push('other callback'));
    expect(await filter).toHaveLength(5_000);
    expect(order).toEqual(['other callback', 'filtered']);
  });
});
