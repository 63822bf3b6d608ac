// The report: markdown sections, plus every target checked, gathered for the summary at the end.

export interface TargetCheck {
  name: string;
  /** The measured value as shown. */
  measured: string;
  target: string;
  met: boolean;
  /** Dockhand's figure and its anchor's from the same run, min/median/max, as shown beside the target. */
  beside?: string;
}

export interface SectionReport {
  title: string;
  lines: string[];
  checks: TargetCheck[];
  /** The raw measurements, for bench/results/*.json. */
  data: Record<string, unknown>;
}

export class SectionWriter {
  readonly lines: string[] = [];
  readonly checks: TargetCheck[] = [];
  readonly data: Record<string, unknown> = {};

  constructor(readonly title: string) {}

  line(text = ''): void {
    this.lines.push(text);
  }

  table(header: readonly string[], rows: readonly (readonly string[])[]): void {
    this.lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
    for (const row of rows) this.lines.push(`| ${row.join(' | ')} |`);
    this.lines.push('');
  }

  check(name: string, measured: string, target: string, met: boolean, beside?: string): void {
    this.checks.push({ name, measured, target, met, ...(beside === undefined ? {} : { beside }) });
    const figures = beside === undefined ? '' : `; ${beside}`;
    this.lines.push(`- ${met ? 'MET' : 'MISSED'}: ${name} = ${measured} (target ${target})${figures}`);
  }

  /** Keeps a raw measurement for the JSON results. */
  record(key: string, value: unknown): void {
    this.data[key] = value;
  }

  done(): SectionReport {
    return { title: this.title, lines: this.lines, checks: this.checks, data: this.data };
  }
}

export function renderReport(header: readonly string[], sections: readonly SectionReport[]): string {
  const out = [...header, ''];
  for (const section of sections) out.push(`## ${section.title}`, '', ...section.lines, '');
  const checks = sections.flatMap((s) => s.checks);
  if (checks.length > 0) {
    out.push(
      '## Targets',
      '',
      '| check | measured | target | | Dockhand and its anchor, median (min – max) |',
      '|---|---|---|---|---|',
    );
    for (const c of checks)
      out.push(
        `| ${c.name} | ${c.measured} | ${c.target} | ${c.met ? 'met' : 'MISSED'} | ${c.beside ?? ''} |`,
      );
    out.push('');
  }
  return out.join('\n');
}
