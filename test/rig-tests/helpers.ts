// Small HTTP helpers for the rig's own tests.
import { createHash } from 'node:crypto';
import { type IncomingMessage, request } from 'node:http';

export const basic = (user: string, pass: string) =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

export const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export function jwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

export function jwtHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

export const OCI_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Set when the connection failed after the headers (reset, premature end). */
  error: NodeJS.ErrnoException | undefined;
  /** True when the response body ended cleanly. */
  complete: boolean;
}

/** One HTTP request on a fresh connection that reports a broken body instead of throwing. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let error: NodeJS.ErrnoException | undefined;
    let responded = false;
    const onResponse = (res: IncomingMessage) => {
      responded = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (e) => {
        error ??= e;
      });
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          error,
          complete: res.complete,
        }),
      );
    };
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      onResponse,
    );
    // After the headers, a socket error belongs to the body: report it in the result, do not throw.
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (responded) error ??= e;
      else reject(e);
    });
    req.end(options.body);
  });
}
