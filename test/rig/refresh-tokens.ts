// Refresh tokens with optional rotation, modelled on OAuth servers that detect reuse (Hydra, Auth0): with rotation
// on, each refresh token works once and is replaced by a new one; presenting a spent token is treated as theft and
// revokes every token descending from the same login (its family). Tokens are kept only as sha256 hashes.
import { createHash, randomBytes } from 'node:crypto';

interface Entry {
  user: string;
  family: number;
  spent: boolean;
}

export type RefreshOutcome =
  | { ok: true; user: string; next: string | undefined }
  | { ok: false; reason: 'unknown' | 'revoked' | 'reused' };

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export class RefreshTokenStore {
  rotation: boolean;
  issued = 0;
  reuseDetections = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly revokedFamilies = new Set<number>();
  private nextFamily = 1;

  constructor(rotation: boolean) {
    this.rotation = rotation;
  }

  /** A refresh token starting a new family (one per successful login). */
  issueForLogin(user: string): string {
    return this.mint(user, this.nextFamily++);
  }

  /** Spends a refresh token: with rotation on it is replaced by `next`; with rotation off it stays valid. */
  use(token: string): RefreshOutcome {
    const entry = this.entries.get(hash(token));
    if (!entry) return { ok: false, reason: 'unknown' };
    if (this.revokedFamilies.has(entry.family)) return { ok: false, reason: 'revoked' };
    if (entry.spent) {
      this.reuseDetections++;
      this.revokedFamilies.add(entry.family);
      return { ok: false, reason: 'reused' };
    }
    if (!this.rotation) return { ok: true, user: entry.user, next: undefined };
    entry.spent = true;
    return { ok: true, user: entry.user, next: this.mint(entry.user, entry.family) };
  }

  isValid(token: string): boolean {
    const entry = this.entries.get(hash(token));
    return entry !== undefined && !entry.spent && !this.revokedFamilies.has(entry.family);
  }

  private mint(user: string, family: number): string {
    const token = `rig-rt.${randomBytes(24).toString('base64url')}`;
    this.entries.set(hash(token), { user, family, spent: false });
    this.issued++;
    return token;
  }
}
