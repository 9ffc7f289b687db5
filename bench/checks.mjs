// What "complete & valid" means in `npm run bench` (bench/run.mjs); tests/integration/bench-checks.test.mjs shows it can fail.

/**
 * "" when the roadmap is complete and valid, else why not: weeks 1..n once each, 7 days numbered 1..7 per week
 * with no day title repeated within a week, no repeated week title, phases in plan order, every week inside its
 * phase, no placeholder (fallback) weeks.
 */
export function problems(rm, n) {
  const out = [];
  const weeks = rm.weeks || [];
  if (!weeks.length) out.push('no weeks');
  else if (weeks.length !== n || weeks.some((w, i) => w.week !== i + 1)) out.push(`weeks ${weeks.map((w) => w.week).join(',')}`);
  for (const w of weeks) {
    const days = w.days || [];
    if (days.length !== 7 || days.some((d, i) => d.day !== i + 1)) out.push(`week ${w.week} days`);
    // A week written by several requests at once (parallel's first week, in parts that do not see each other's
    // days) could plausibly plan the same day twice: the day numbers would still be 1..7.
    const dayTitles = days.map((d) => String(d.title ?? '').trim().toLowerCase());
    const repeated = dayTitles.filter((t, i) => dayTitles.indexOf(t) !== i);
    if (repeated.length) out.push(`week ${w.week} repeats day titles (${[...new Set(repeated)].map((t) => `"${t}"`).join(', ')})`);
  }
  const titles = weeks.map((w) => w.title.trim().toLowerCase());
  if (new Set(titles).size !== titles.length) out.push('repeated week titles');
  const phaseIndex = weeks.map((w) => rm.phases.findIndex((p) => p.name === w.phase));
  if (phaseIndex.some((p, i) => p < 0 || (i > 0 && p < phaseIndex[i - 1]))) out.push('phases out of order');
  weeks.forEach((w, i) => {
    const p = rm.phases[phaseIndex[i]];
    if (p && (w.week < p.startWeek || w.week > p.endWeek)) out.push(`week ${w.week} outside its phase`);
  });
  const fallbacks = weeks.filter((w) => w.fallback).length;
  if (fallbacks) out.push(`${fallbacks} fallback weeks`);
  return out.join('; ');
}
