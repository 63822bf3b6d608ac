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
  /** Retries of a failed registry request (0: none). */
  registryRetries?: number;
  /** Seconds a registry request may take until its answer's headers, retries included. */
  registryTimeout?: number;
  /** Seconds without progress (connecting, waiting for headers, between body chunks) before a try fails. */
  registryIdleTimeout?: number;
  /** Bytes per second a blob download must keep up over 30 s (0: no minimum). */
  registryMinRate?: number;
}

/** What parsing a setting needs to know about the environment. */
export interface SettingsContext {
  defaultSocket: string;
  cwd: string;
}
