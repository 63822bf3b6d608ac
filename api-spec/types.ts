// Wire shapes of the Engine API subset (openapi.yaml is the contract; these mirror it for TypeScript callers).
// Field names follow moby's JSON exactly, so the values are assignable to @types/dockerode where the two overlap.

export interface ErrorResponse {
  message: string;
}

export interface OCIPlatform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export interface OCIDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: OCIPlatform;
  artifactType?: string;
}

export interface VersionComponent {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}

export interface SystemVersion {
  Platform: { Name: string };
  Components: VersionComponent[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  BuildTime: string;
  Experimental?: boolean;
}

export interface IndexInfo {
  Name: string;
  Mirrors: string[];
  Secure: boolean;
  Official: boolean;
}

export interface RegistryServiceConfig {
  InsecureRegistryCIDRs: string[];
  IndexConfigs: Record<string, IndexInfo>;
  Mirrors: string[];
}

export interface SystemInfo {
  ID: string;
  Name: string;
  ServerVersion: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  Driver: string;
  DriverStatus: [string, string][];
  DockerRootDir: string;
  OperatingSystem: string;
  OSType: string;
  OSVersion: string;
  Architecture: string;
  KernelVersion: string;
  NCPU: number;
  MemTotal: number;
  IndexServerAddress: string;
  RegistryConfig: RegistryServiceConfig;
  Labels: string[];
  ExperimentalBuild: boolean;
  Debug: boolean;
  SystemTime: string;
  LoggingDriver: string;
  CgroupDriver: string;
  CgroupVersion: string;
  Warnings: string[];
}

export interface AuthResponse {
  Status: string;
  IdentityToken?: string;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  /** Removed in API 1.44; sent (= Size) to older clients and kept in the type for dockerode's ImageInfo. */
  VirtualSize?: number;
  Labels: Record<string, string>;
  Containers: number;
  Descriptor?: OCIDescriptor;
}

export interface ImageConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Cmd?: string[];
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Entrypoint?: string[];
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ImageConfig;
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  Size: number;
  VirtualSize?: number;
  GraphDriver: { Name: string; Data: Record<string, string> };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime?: string };
  Descriptor?: OCIDescriptor;
}

/** One item of DELETE /images/{name}: the wire is an ARRAY of these (@types/dockerode's ImageRemoveInfo is wrong). */
export interface ImageDeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

export interface ImagePruneResponse {
  ImagesDeleted: ImageDeleteResponseItem[] | null;
  SpaceReclaimed: number;
}

export interface DistributionInspect {
  Descriptor: OCIDescriptor;
  Platforms: OCIPlatform[];
}

export type ImageEventAction = 'pull' | 'push' | 'tag' | 'untag' | 'delete' | 'prune' | 'load' | 'save';

export interface EventMessage {
  Type: 'image';
  Action: ImageEventAction;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** Legacy fields (API < 1.52). */
  id?: string;
  status?: string;
}

/** One layer (or empty step) of GET /images/{name}/history, newest first. */
export interface HistoryResponseItem {
  /** The image ID on the newest entry, `<missing>` on the others (as moby). */
  Id: string;
  /** Unix seconds. */
  Created: number;
  CreatedBy: string;
  /** The image's tags on the newest entry, else null. */
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** GET /system/df: the image part; Dockhand has no containers, volumes or build cache. */
export interface SystemDataUsage {
  LayersSize: number;
  Images: ImageSummary[];
  Containers: never[];
  Volumes: never[];
  BuildCache: never[];
}

/** Query filters of GET /images/json and POST /images/prune, decoded from moby's JSON forms. */
export type ImageFilters = Record<string, string[]>;
