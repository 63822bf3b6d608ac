// What browsing a registry can fail with, typed so a frontend branches on the class (and `status`), never on the
// message. Messages name the registry and the resource, never a credential.

/** Base class: `registry` is `host[:port]`, `status` the registry's HTTP status when one arrived. */
export class RegistryBrowseError extends Error {
  readonly registry: string;
  readonly status: number | undefined;

  constructor(registry: string, status: number | undefined, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.registry = registry;
    this.status = status;
  }
}

/** The registry keeps its catalog from this login: `registry:catalog:*` was not granted (401 or 403 after answering). */
export class CatalogNotGrantedError extends RegistryBrowseError {
  constructor(registry: string, status: number) {
    super(
      registry,
      status,
      `registry ${registry} does not let this login list its repositories (registry:catalog:* not granted)`,
    );
  }
}

/** The registry has no catalog API (404 on /v2/_catalog): repositories cannot be listed there, only named. */
export class CatalogUnsupportedError extends RegistryBrowseError {
  constructor(registry: string) {
    super(registry, 404, `registry ${registry} does not offer the catalog API (/v2/_catalog answered 404)`);
  }
}

/** The registry refused a repository to this login (401 or 403 after answering its challenge). */
export class RepositoryAccessDeniedError extends RegistryBrowseError {
  readonly repository: string;

  constructor(registry: string, repository: string, status: number) {
    super(registry, status, `registry ${registry} denied access to repository ${repository} for this login`);
    this.repository = repository;
  }
}

/** 404 for a repository (NAME_UNKNOWN) or a manifest (MANIFEST_UNKNOWN). `code` is the registry's error code. */
export class RegistryNotFoundError extends RegistryBrowseError {
  readonly resource: string;
  readonly code: string | undefined;

  constructor(registry: string, resource: string, code: string | undefined) {
    super(registry, 404, `${resource} not found on registry ${registry}${code ? ` (${code})` : ''}`);
    this.resource = resource;
    this.code = code;
  }
}

/** Any other unexpected answer: a status the API does not give for this request, or a body that is not its JSON. */
export class RegistryResponseError extends RegistryBrowseError {
  readonly reason: 'status' | 'body' | 'too-large' | 'link' | 'redirect';

  constructor(
    registry: string,
    status: number | undefined,
    reason: RegistryResponseError['reason'],
    message: string,
    options?: ErrorOptions,
  ) {
    super(registry, status, message, options);
    this.reason = reason;
  }
}
