/** A daemon flag or config-file key with a bad value; `source` names it (e.g. `--host`, `config file key "hosts"`). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    reason: string,
  ) {
    super(`${source}: ${reason}`);
  }
}
