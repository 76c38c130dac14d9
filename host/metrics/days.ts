/**
 * Calendar days for the daily buckets. Days are the host's local days, because the chart in the
 * app is read by the person who runs the host ("yesterday" means their yesterday).
 * @module
 */

/** `YYYY-MM-DD` of `date` in the host's time zone. */
export function dayKey(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The keys of the `count` days ending with `now`'s day, oldest first. */
export function recentDays(now: Date, count: number): string[] {
  const out: string[] = [];
  // Constructing from the calendar fields (not subtracting 24 h) keeps DST days right.
  for (let back = count - 1; back >= 0; back--) out.push(dayKey(new Date(now.getFullYear(), now.getMonth(), now.getDate() - back)));
  return out;
}
