/** The middle value (the upper one of an even count); NaN for none. Benchmarks report medians of rounds. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The element whose `key` is the median, to report its other figures alongside. */
export function medianBy<T>(list: readonly T[], key: (t: T) => number): T {
  const m = median(list.map(key));
  return list.find((t) => key(t) === m) as T;
}
