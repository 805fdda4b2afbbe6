/**
 * One line per figure: `name  value  baseline  ratio  target  verdict` — every figure is a
 * ratio against a baseline measured in the same run (timings on the shared 2-core machines
 * vary up to 2× between runs; ratios do not).
 * @module
 */

/** One measured figure. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: { label: string; value: number };
  /** Human-readable target, e.g. "≥ 0.9× baseline". */
  target: string;
  /** Whether the target is met. */
  ok: boolean;
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 1 : 3));

/** Prints a figure line. */
export function report(f: Figure): void {
  const base = f.baseline
    ? `  baseline ${f.baseline.label} ${fmt(f.baseline.value)} ${f.unit}  ` +
      `ratio ${(f.value / f.baseline.value).toFixed(2)}×`
    : '';
  console.log(`${f.ok ? 'PASS' : 'MISS'}  ${f.name}: ${fmt(f.value)} ${f.unit}${base}  (target ${f.target})`);
}

/** Median of numbers. */
export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** Linear-interpolated quantile. */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Runs `fn` repeatedly for `ms` after a warm-up; returns operations per second. */
export async function opsPerSecond(fn: () => unknown, ms = 1500, warmup = 200): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}
