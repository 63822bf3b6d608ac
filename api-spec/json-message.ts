// The JSON message stream of pull/push: one object per line, "\r\n"-terminated, flushed per message.

export interface ProgressDetail {
  current?: number;
  total?: number;
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

export interface ErrorDetail {
  code?: number;
  message?: string;
}

/** The challenge a registry raised after the stream had started (Dockhand's aux extension). */
export interface AuthChallengeAux {
  authChallenge: AuthChallengeInfo;
}

export interface AuthChallengeInfo {
  registry: string;
  repository: string;
  challenges: string[];
  /**
   * With the side channel (authChannel): the id to answer at POST /auth/challenges/{id}. The message then has no
   * errorDetail: the operation waits for the answer and goes on.
   */
  id?: string;
  /** True when the daemon asks ahead of the answered token's expiry, not because the registry refused it. */
  renewal?: boolean;
}

/** A registry's `Warning: 299` header (distribution spec), passed on once per operation. */
export interface RegistryWarningAux {
  registryWarning: { registry: string; text: string };
}

export interface JSONMessage {
  status?: string;
  id?: string;
  progressDetail?: ProgressDetail;
  /** Deprecated pre-rendered bar; dockerd 20.10 and the CLI's non-TTY output still use it. */
  progress?: string;
  stream?: string;
  errorDetail?: ErrorDetail;
  /** Deprecated twin of errorDetail.message, still sent for old clients. */
  error?: string;
  aux?: unknown;
}

/** A stream's failure as its last line: errorDetail, and the deprecated `error` twin for old clients. */
export function errorMessage(message: string): JSONMessage {
  return { errorDetail: { message }, error: message };
}

export function formatMessageLine(message: JSONMessage): string {
  return `${JSON.stringify(message)}\r\n`;
}

export function isAuthChallengeAux(aux: unknown): aux is AuthChallengeAux {
  if (typeof aux !== 'object' || aux === null) return false;
  const c = (aux as { authChallenge?: unknown }).authChallenge;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof (c as AuthChallengeInfo).registry === 'string' &&
    Array.isArray((c as AuthChallengeInfo).challenges)
  );
}

export function isRegistryWarningAux(aux: unknown): aux is RegistryWarningAux {
  if (typeof aux !== 'object' || aux === null) return false;
  const w = (aux as { registryWarning?: unknown }).registryWarning;
  return (
    typeof w === 'object' &&
    w !== null &&
    typeof (w as RegistryWarningAux['registryWarning']).registry === 'string' &&
    typeof (w as RegistryWarningAux['registryWarning']).text === 'string'
  );
}

/**
 * Splits a byte stream into JSON values, one per line, whatever the chunk boundaries
 * (one chunk may hold several objects or part of one: dockerode#363, moby#25831).
 */
export async function* parseJsonLines(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of source) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl = pending.indexOf('\n');
    while (nl !== -1) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line !== '') yield parseLine(line);
      nl = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  const last = pending.trim();
  if (last !== '') yield parseLine(last);
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new SyntaxError(`invalid JSON message in stream: ${line.slice(0, 200)}`);
  }
}
