import type { ListenAddress, LogLevel } from './values.ts';

/** Settings given by one source (flags or the config file); absent keys fall through to the next source. */
export interface DaemonSettings {
  hosts?: ListenAddress[];
  dataRoot?: string;
  insecureRegistries?: string[];
  /** --registry-mirror / an array `registry-mirrors`: mirrors of Docker Hub. */
  hubMirrors?: string[];
  /** The per-registry map `registryMirrors: {"host:port": ["http://mirror"]}`. */
  registryMirrors?: Record<string, string[]>;
  maxConcurrentDownloads?: number;
  logLevel?: LogLevel;
  certsDir?: string;
  /** Seconds a challenge put in a stream waits for the client's answer on the side channel. */
  authChallengeTimeout?: number;
}

/** What parsing a setting needs to know about the environment. */
export interface SettingsContext {
  defaultSocket: string;
  cwd: string;
}
