// The bodies of GET /version and GET /info; what does not change is computed once.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism, hostname, machine, release, totalmem } from 'node:os';
import { MAX_API_VERSION, MIN_API_VERSION } from '../../api-spec/api-version.ts';
import type { IndexInfo, SystemInfo, SystemVersion } from '../../api-spec/types.ts';
import { HOST_ARCH } from '../../protocol/index.ts';
import { type DaemonConfig, DOCKER_HUB } from '../config.ts';
import { DAEMON_VERSION } from './build-info.ts';

export function systemVersion(): SystemVersion {
  const details = {
    ApiVersion: MAX_API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: HOST_ARCH,
    KernelVersion: release(),
    BuildTime: '',
    Experimental: 'false',
  };
  return {
    Platform: { Name: 'Dockhand' },
    Components: [{ Name: 'Engine', Version: DAEMON_VERSION, Details: details }],
    Version: DAEMON_VERSION,
    ApiVersion: MAX_API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: details.GoVersion,
    Os: 'linux',
    Arch: HOST_ARCH,
    KernelVersion: details.KernelVersion,
    BuildTime: '',
  };
}

/** GET /info without the parts that change (image count, time); `withLive` fills those per request. */
export function systemInfoTemplate(config: DaemonConfig): SystemInfo {
  return {
    ID: randomUUID(),
    Name: hostname(),
    ServerVersion: DAEMON_VERSION,
    Containers: 0,
    ContainersRunning: 0,
    ContainersPaused: 0,
    ContainersStopped: 0,
    Images: 0,
    Driver: 'oci-layout',
    DriverStatus: [['Root Dir', `${config.dataRoot}/oci`]],
    DockerRootDir: config.dataRoot,
    OperatingSystem: osPrettyName(),
    OSType: 'linux',
    OSVersion: osVersionId(),
    Architecture: machine(),
    KernelVersion: release(),
    NCPU: availableParallelism(),
    MemTotal: totalmem(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: registryConfig(config),
    Labels: [],
    ExperimentalBuild: false,
    Debug: config.logLevel === 'debug' || config.logLevel === 'trace',
    SystemTime: '',
    LoggingDriver: '',
    CgroupDriver: '',
    CgroupVersion: '',
    Warnings: [],
  };
}

export function withLive(template: SystemInfo, images: number): SystemInfo {
  return { ...template, Images: images, SystemTime: new Date().toISOString() };
}

function registryConfig(config: DaemonConfig): SystemInfo['RegistryConfig'] {
  const isCidr = (r: string) => r.includes('/') && isIP(r.split('/')[0]!) !== 0;
  const insecureHosts = config.insecureRegistries.filter((r) => !isCidr(r));
  const indexConfigs: Record<string, IndexInfo> = {
    [DOCKER_HUB]: {
      Name: DOCKER_HUB,
      Mirrors: config.registryMirrors[DOCKER_HUB] ?? [],
      Secure: true,
      Official: true,
    },
  };
  for (const host of new Set([...insecureHosts, ...Object.keys(config.registryMirrors)])) {
    if (host === DOCKER_HUB) continue;
    indexConfigs[host] = {
      Name: host,
      Mirrors: config.registryMirrors[host] ?? [],
      Secure: !insecureHosts.includes(host),
      Official: false,
    };
  }
  return {
    InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128', ...config.insecureRegistries.filter(isCidr)],
    IndexConfigs: indexConfigs,
    Mirrors: config.registryMirrors[DOCKER_HUB] ?? [],
  };
}

function osRelease(): Record<string, string> {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return Object.fromEntries(
      text
        .split('\n')
        .map((l) => /^([A-Z_]+)=(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, m[2]!.replace(/^"(.*)"$/, '$1')]),
    );
  } catch {
    return {};
  }
}

function osPrettyName(): string {
  return osRelease()['PRETTY_NAME'] ?? 'Linux';
}

function osVersionId(): string {
  return osRelease()['VERSION_ID'] ?? '';
}
