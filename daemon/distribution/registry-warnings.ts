// Registries may answer with `Warning: 299 - "text"` (distribution spec: deprecation notices, quotas). Each distinct
// warning of an operation reaches its stream once; those seen before the stream started wait for it.

/** The texts of the 299 warnings in a Warning header (RFC 7234: code, agent, quoted text, optional date). */
export function warningTexts(header: string | string[] | undefined): string[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const texts: string[] = [];
  for (const value of values) {
    for (const match of value.matchAll(/(\d{3})\s+\S+\s+"((?:[^"\\]|\\.)*)"/g)) {
      if (match[1] === '299' && match[2]) texts.push(match[2].replace(/\\(.)/g, '$1'));
    }
  }
  return texts;
}

export interface RegistryWarning {
  registry: string;
  text: string;
}

export class RegistryWarnings {
  readonly #seen = new Set<string>();
  #waiting: RegistryWarning[] = [];
  #listener: ((warning: RegistryWarning) => void) | undefined;

  record(registry: string, header: string | string[] | undefined): void {
    for (const text of warningTexts(header)) {
      const key = `${registry} ${text}`;
      if (this.#seen.has(key)) continue;
      this.#seen.add(key);
      const warning = { registry, text };
      if (this.#listener) this.#listener(warning);
      else this.#waiting.push(warning);
    }
  }

  /** Hands over the warnings seen so far, then each new one. */
  listen(listener: (warning: RegistryWarning) => void): void {
    this.#listener = listener;
    for (const warning of this.#waiting.splice(0)) listener(warning);
  }
}
