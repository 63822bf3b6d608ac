// Readings from /proc: a process's resident memory, and the machine's CPU time split (for steal).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface MemoryReading {
  /** VmRSS, bytes. */
  rss: number;
  /** VmHWM (peak RSS over the process's life), bytes. */
  hwm: number;
}

function statusField(text: string, field: string, pid: number): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  if (!match) throw new Error(`/proc/${pid}/status: no ${field} line`);
  return Number(match[1]) * 1024;
}

export function readMemory(pid: number): MemoryReading {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: statusField(text, 'VmRSS', pid), hwm: statusField(text, 'VmHWM', pid) };
}

export interface RssSampler {
  /** Stops sampling (after one last reading) and gives the highest VmRSS seen and the samples taken. */
  stop(): { peak: number; samples: number; hwm: number };
}

/** Reads VmRSS every `intervalMs` until stopped. */
export function sampleRss(pid: number, intervalMs = 50): RssSampler {
  let peak = 0;
  let samples = 0;
  let hwm = 0;
  let gone = false;
  const read = () => {
    if (gone) return;
    try {
      const reading = readMemory(pid);
      peak = Math.max(peak, reading.rss);
      hwm = reading.hwm;
      samples++;
    } catch {
      // The process exited: what its caller waits for fails and says why.
      gone = true;
    }
  };
  read();
  const timer = setInterval(read, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      read();
      return { peak, samples, hwm };
    },
  };
}

export interface CpuTimes {
  total: number;
  steal: number;
}

/** The aggregate `cpu` line of /proc/stat, in jiffies. */
export function readCpuTimes(): CpuTimes {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'cpu') throw new Error('/proc/stat: first line is not the aggregate cpu line');
  // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is already inside user/nice.
  const values = fields.slice(1, 9).map(Number);
  if (values.length < 8 || values.some((v) => !Number.isFinite(v))) {
    throw new Error('/proc/stat: cpu line has fewer than 8 numeric fields');
  }
  return { total: values.reduce((a, b) => a + b, 0), steal: values[7]! };
}

/** Steal as a percentage of all CPU time between two readings. */
export function stealPercent(from: CpuTimes, to: CpuTimes): number {
  const total = to.total - from.total;
  return total > 0 ? ((to.steal - from.steal) / total) * 100 : 0;
}

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
export function readProcessCpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm may hold spaces and parentheses: the fields after it start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`/proc/${pid}/stat: no utime/stime`);
  return utime + stime;
}

let ticksPerSecond: number | undefined;

/** The kernel's USER_HZ (what /proc/PID/stat counts in). */
export function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  if (!Number.isInteger(ticksPerSecond) || ticksPerSecond <= 0)
    throw new Error('getconf CLK_TCK: not a number');
  return ticksPerSecond;
}
