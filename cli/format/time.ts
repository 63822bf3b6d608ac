// go-units HumanDuration, as `docker images` prints CREATED ("2 weeks ago").

export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return plural(s, 'second');
  const minutes = Math.floor(s / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.round(s / 3600);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return plural(hours, 'hour');
  if (hours < 24 * 7 * 2) return plural(Math.floor(hours / 24), 'day');
  if (hours < 24 * 30 * 2) return plural(Math.floor(hours / 24 / 7), 'week');
  if (hours < 24 * 365 * 2) return plural(Math.floor(hours / 24 / 30), 'month');
  return plural(Math.floor(hours / 24 / 365), 'year');
}

export function createdSince(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(now / 1000 - unixSeconds)} ago`;
}
