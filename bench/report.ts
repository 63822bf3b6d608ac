// The report: markdown sections, plus every target checked, gathered for the summary at the end.

export interface TargetCheck {
  name: string;
  /** The measured value as shown. */
  measured: string;
  target: string;
  met: boolean;
}

export interface SectionReport {
  title: string;
  lines: string[];
  checks: TargetCheck[];
}

export class SectionWriter {
  readonly lines: string[] = [];
  readonly checks: TargetCheck[] = [];

  constructor(readonly title: string) {}

  line(text = ''): void {
    this.lines.push(text);
  }

  table(header: readonly string[], rows: readonly (readonly string[])[]): void {
    this.lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
    for (const row of rows) this.lines.push(`| ${row.join(' | ')} |`);
    this.lines.push('');
  }

  check(name: string, measured: string, target: string, met: boolean): void {
    this.checks.push({ name, measured, target, met });
    this.lines.push(`- ${met ? 'MET' : 'MISSED'}: ${name} = ${measured} (target ${target})`);
  }

  done(): SectionReport {
    return { title: this.title, lines: this.lines, checks: this.checks };
  }
}

export function renderReport(header: readonly string[], sections: readonly SectionReport[]): string {
  const out = [...header, ''];
  for (const section of sections) out.push(`## ${section.title}`, '', ...section.lines, '');
  const checks = sections.flatMap((s) => s.checks);
  if (checks.length > 0) {
    out.push('## Targets', '', '| check | measured | target | |', '|---|---|---|---|');
    for (const c of checks)
      out.push(`| ${c.name} | ${c.measured} | ${c.target} | ${c.met ? 'met' : 'MISSED'} |`);
    out.push('');
  }
  return out.join('\n');
}
