// redirect.ts: every redirect target is decided again; a refused one gets no request. The network here is a fake
// round trip that records where requests would go, so no address below is ever contacted.
import { describe, expect, it } from 'vitest';
import { RedirectRefusedError } from '../../../../daemon/distribution/errors.ts';
import type { Exchange, RegistryResponse } from '../../../../daemon/distribution/transport/round-trip.ts';
import { RegistryTransport } from '../../../../daemon/distribution/transport/transport.ts';
import { endpointAt, request, stubAuthorizer } from '../stub-authorizer.ts';

function fakeNetwork(answers: Record<string, { status: number; location?: string }>) {
  const sent: { url: string; authorization: unknown }[] = [];
  const roundTrip = async (x: Exchange): Promise<RegistryResponse> => {
    sent.push({ url: x.url.href, authorization: x.headers['authorization'] });
    const answer = answers[x.url.href] ?? { status: 200 };
    const headers: Record<string, string> = answer.location ? { location: answer.location } : {};
    return {
      statusCode: answer.status,
      headers,
      body: { dump: async () => {}, text: async () => '' },
      url: x.url,
      authorization: undefined,
    } as unknown as RegistryResponse;
  };
  return { sent, roundTrip };
}

async function follow(registry: string, location: string, names: Record<string, string> = {}) {
  const start = `${registry}/v2/r/blobs/x`;
  const network = fakeNetwork({ [start]: { status: 307, location } });
  const transport = new RegistryTransport({
    network: network.roundTrip,
    resolve: async (name) => {
      const address = names[name];
      if (address === undefined) throw Object.assign(new Error(name), { code: 'ENOTFOUND' });
      return [{ address, family: 4 }];
    },
  });
  const outcome = await transport
    .send(endpointAt(registry), stubAuthorizer(registry), request('/v2/r/blobs/x'))
    .catch((e: unknown) => e);
  return { outcome, sent: network.sent.map((s) => s.url) };
}

describe('redirect targets', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://10.1.2.3/blob', 'private'],
    ['http://[fd00::1]/blob', 'private'],
    ['http://[::ffff:169.254.169.254]/blob', 'link-local'],
    ['http://0.0.0.0/blob', 'unspecified'],
    ['http://127.0.0.1:9/blob', 'loopback'],
  ])('from a public registry to %s (%s) is refused without a request', async (target) => {
    const { outcome, sent } = await follow('https://203.0.113.7', target);
    expect(outcome).toBeInstanceOf(RedirectRefusedError);
    expect(sent).toEqual(['https://203.0.113.7/v2/r/blobs/x']);
  });

  it('a loopback registry may redirect to loopback; a private registry to its own address', async () => {
    expect((await follow('http://127.0.0.1:5000', 'http://localhost:6000/b')).sent).toHaveLength(2);
    expect((await follow('http://10.0.0.5:5000', 'http://10.0.0.5:9000/b')).sent).toHaveLength(2);
    expect((await follow('http://10.0.0.5:5000', 'http://10.0.0.6:9000/b')).outcome).toBeInstanceOf(
      RedirectRefusedError,
    );
  });

  it("a registry known by a private name may redirect to that name's other ports, not to another private name", async () => {
    const names = { 'registry.corp': '10.0.0.5', 'storage.corp': '10.0.0.6' };
    const same = await follow('http://registry.corp:5000', 'http://registry.corp:9000/b', names);
    expect(same.sent).toHaveLength(2);
    const other = await follow('http://registry.corp:5000', 'http://storage.corp/b', names);
    expect(other.outcome).toBeInstanceOf(RedirectRefusedError);
    expect((other.outcome as RedirectRefusedError).reason).toContain('10.0.0.6 is a private-network address');
    expect(other.sent).toHaveLength(1);
  });

  it('https to http after a credential was sent is refused; the query of the target is never shown', async () => {
    const registry = 'https://203.0.113.7';
    const start = `${registry}/v2/r/blobs/x`;
    const network = fakeNetwork({
      [start]: { status: 307, location: 'http://203.0.113.7/b?X-Amz-Signature=s3cr3t' },
    });
    const transport = new RegistryTransport({
      network: async (x) => {
        const response = await network.roundTrip(x);
        const authorization = x.headers['authorization'];
        return Object.assign(response, {
          authorization: typeof authorization === 'string' ? authorization : undefined,
        });
      },
    });
    const outcome = await transport
      .send(endpointAt(registry), stubAuthorizer(registry), request('/v2/r/blobs/x'))
      .catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(RedirectRefusedError);
    expect((outcome as Error).message).toContain('https to plain http');
    expect((outcome as Error).message).not.toContain('s3cr3t');
    expect(network.sent).toHaveLength(1);
  });

  it('stops after 5 redirects', async () => {
    const registry = 'http://127.0.0.1:5000';
    const answers: Record<string, { status: number; location: string }> = {};
    answers[`${registry}/v2/r/blobs/x`] = { status: 302, location: `${registry}/a` };
    answers[`${registry}/a`] = { status: 302, location: `${registry}/v2/r/blobs/x` };
    const network = fakeNetwork(answers);
    const transport = new RegistryTransport({ network: network.roundTrip });
    const outcome = await transport
      .send(endpointAt(registry), stubAuthorizer(registry), request('/v2/r/blobs/x'))
      .catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(RedirectRefusedError);
    expect(network.sent).toHaveLength(6);
  });
});
