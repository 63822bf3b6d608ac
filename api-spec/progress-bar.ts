// Docker's progress bar and sizes (moby's JSONProgress.String, go-units HumanSize: decimal units), shared by the
// daemon (the deprecated `progress` field old clients print) and the CLI, which draws from progressDetail.

const BAR_WIDTH = 50;

/** "[=====>      ]  1.2MB/3.4MB"; a total of 0 or less (unknown) shows the current size alone, and a current past
 *  the total a full bar. */
export function progressBar(current: number, total: number): string {
  if (!(total > 0)) return humanSize(Math.max(current, 0));
  const filled = Math.max(0, Math.min(BAR_WIDTH, Math.floor((current / total) * BAR_WIDTH)));
  const bar = `${'='.repeat(Math.max(filled - 1, 0))}${filled > 0 && filled < BAR_WIDTH ? '>' : filled === BAR_WIDTH ? '=' : ''}`;
  return `[${bar.padEnd(BAR_WIDTH)}] ${humanSize(Math.max(current, 0)).padStart(8)}/${humanSize(total)}`;
}

/** go-units HumanSizeWithPrecision: "12.5MB" (4 significant digits, as progress shows; `docker images` uses 3). */
export function humanSize(bytes: number, precision = 4): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  const digits = Number(value.toPrecision(precision));
  return `${digits}${units[i]}`;
}
