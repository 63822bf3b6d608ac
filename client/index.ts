// The Dockhand SDK: the package's main export.

export {
  type AuthChallengeAux,
  type AuthChallengeInfo,
  type AuthConfig,
  type AuthResponse,
  type ChallengeAnswerBody,
  type DistributionInspect,
  type EventMessage,
  humanSize,
  type ImageDeleteResponseItem,
  type ImageInspect,
  type ImagePruneResponse,
  type ImageSummary,
  isAuthChallengeAux,
  isRegistryWarningAux,
  type JSONMessage,
  progressBar,
  type RegistryWarningAux,
  type SystemInfo,
  type SystemVersion,
} from '../api-spec/index.ts';
export {
  type Challenge,
  formatPlatform,
  InvalidReferenceError,
  parseReference,
  parseWwwAuthenticate,
  type Reference,
  UnsupportedManifestError,
} from '../protocol/index.ts';
export { registryHostKey } from '../protocol/registry-host.ts';
export type { AuthOption, AuthOptions } from './auth-option.ts';
export {
  type AsyncChallengeHandler,
  type AuthChallenge,
  type ChallengeAnswer,
  type ChallengeHandler,
  DEFAULT_MAX_ROUNDS,
} from './challenge.ts';
export { type DaemonAddress, resolveDaemonAddress } from './daemon-address.ts';
export {
  type ChallengeOptions,
  EngineClient,
  type EngineClientOptions,
  type EventsOptions,
  type ListImagesOptions,
  type LoginOptions,
  type PullOptions,
  type PushOptions,
  type RemoveImageOptions,
} from './engine-client.ts';
export {
  ApiVersionError,
  AuthChallengeError,
  type AuthChallengeGiveUp,
  ClientClosedError,
  CredentialHelperError,
  DaemonAddressError,
  DeviceLoginError,
  type DeviceLoginFailure,
  EngineApiError,
  InvalidAuthOptionError,
  InvalidGrantError,
  InvalidStoreFileError,
  InvalidStreamMessageError,
  LockTimeoutError,
  OAuthErrorResponse,
  PartialGrantError,
  RealmRefusedError,
  RegistryLoginError,
  StreamError,
  TokenRequestError,
} from './errors.ts';
export type { RealmOptions } from './handlers/bearer-target.ts';
export {
  type CredentialChainOptions,
  createCredentialChainHandler,
} from './handlers/credential-chain.ts';
export { login, type RegistryLoginOptions, type RegistryLoginResult } from './handlers/login.ts';
export { createOAuthChallengeHandler, type OAuthChallengeHandlerOptions } from './handlers/oauth.ts';
export { probeRegistry, type RegistryProbe } from './handlers/registry-probe.ts';
export {
  type BasicCredentials,
  type CredentialSource,
  createTokenChallengeHandler,
  credentialsFromStore,
  type TokenChallengeHandlerOptions,
} from './handlers/token.ts';
export {
  type DeviceLoginOptions,
  type DevicePrompt,
  deviceLogin,
} from './oauth/device-authorization.ts';
export {
  type AuthorizationServerMetadata,
  type DiscoveryOptions,
  discoverAuthorizationServer,
} from './oauth/metadata.ts';
export { type OAuthLoginOptions, type OAuthLoginResult, oauthLogin } from './oauth/registry-login.ts';
export type { PullResult, PushResult } from './operation-summary.ts';
export type { PingInfo } from './ping.ts';
export { type ListOptions, listRepositories } from './registry/catalog.ts';
export {
  CatalogNotGrantedError,
  CatalogUnsupportedError,
  RegistryBrowseError,
  RegistryNotFoundError,
  RegistryResponseError,
  RepositoryAccessDeniedError,
} from './registry/errors.ts';
export {
  type InspectedImage,
  type InspectedIndex,
  inspectManifest,
  type ManifestBlob,
  type ManifestInspection,
} from './registry/manifest-inspect.ts';
export type { BrowseOptions } from './registry/registry-fetch.ts';
export { listTags } from './registry/tags.ts';
export { createDockerConfigStore, type DockerConfigStoreOptions } from './stores/docker-config.ts';
export { createFileTokenStore, type FileTokenStoreOptions } from './stores/file.ts';
export type { LockFileOptions } from './stores/lock-file.ts';
export { createMemoryTokenStore } from './stores/memory.ts';
export type { TokenEntry, TokenStore } from './stores/token-store.ts';
export { SDK_VERSION } from './version.ts';
