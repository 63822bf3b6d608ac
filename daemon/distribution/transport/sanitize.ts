// Registry error text is untrusted and may repeat what it was sent: a token, a password, a Basic header. Before such
// text is returned or logged, every credential the operation holds is masked in it, in the forms it travels in.

const MASK = '***';
/** Shorter values would mask ordinary words. */
const MIN_SECRET_LENGTH = 6;

export class Secrets {
  readonly #values = new Set<string>();

  add(value: string | undefined): void {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
    this.#values.add(value);
    this.#values.add(encodeURIComponent(value));
  }

  /** username:password is sent base64-encoded in Basic; the password is masked alone and in that form. */
  addBasic(username: string, password: string): void {
    this.add(password);
    this.add(Buffer.from(`${username}:${password}`).toString('base64'));
  }

  /** `text` with every held secret replaced by a mask, longest first so no part of a longer one survives. */
  mask(text: string): string {
    let out = text;
    for (const secret of [...this.#values].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join(MASK);
    }
    return out;
  }
}
