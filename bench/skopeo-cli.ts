// skopeo as a contender: the same invocation a user would type, with the host's policy and saved logins kept out.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './command.ts';

/** `skopeo copy docker://SRC oci:DIR:TAG`, plain HTTP allowed. `scratch` holds the empty auth file. */
export async function skopeoCopyToOci(
  source: string,
  dir: string,
  tag: string,
  scratch: string,
): Promise<void> {
  const authFile = join(scratch, 'skopeo-auth.json');
  await writeFile(authFile, '{"auths":{}}');
  await run(
    'skopeo',
    [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      `docker://${source}`,
      `oci:${dir}:${tag}`,
    ],
    { ...process.env, REGISTRY_AUTH_FILE: authFile },
  );
}
