// A strict TypeScript user of the installed package, as the README documents it. Must compile.
import init, { generateRoadmap, regenerateWeek, repairJson, GeminiChat } from 'gemini-roadmap';
import type { GenerateRoadmapOptions, ProgressEvent, Roadmap, Week } from 'gemini-roadmap';
import { generateRoadmap as generateWithBundler } from 'gemini-roadmap/bundler';
import initWeb from 'gemini-roadmap/web';

export async function main(apiKey: string, render: (week: Week) => void): Promise<string> {
  await init();
  await initWeb(); // the same module as "."
  const controller = new AbortController();
  const options: GenerateRoadmapOptions = {
    apiKey,
    role: 'DevOps Engineer',
    weeks: 12,
    baseUrl: 'http://127.0.0.1:8787',
    batchWeeks: 3,
    log: false,
    signal: controller.signal,
    onProgress: (e: ProgressEvent) => {
      if (e.type === 'week') render(e.week);
      if (e.type === 'batch-start') console.log(`weeks ${e.startWeek}-${e.endWeek} of ${e.totalBatches} batches`);
    },
  };
  let roadmap: Roadmap;
  try {
    roadmap = await generateRoadmap(options);
  } catch (err) {
    const partial = (err as { partial?: Roadmap }).partial;
    if (!partial) throw err;
    roadmap = await generateRoadmap({ ...options, resumeFrom: partial });
  }
  const days: number = roadmap.weeks.reduce((n, w) => n + w.days.length, 0);
  const again: Roadmap = await regenerateWeek(roadmap, 2, { apiKey });
  const other: Roadmap = await generateWithBundler({ apiKey, role: 'Data Engineer', weeks: 4 });
  const chat = new GeminiChat({ apiKey, model: 'gemini-2.5-flash' });
  const { text, finishReason } = await chat.send('Hello', { signal: controller.signal });
  const fixed: string = repairJson('Sure!\n```json\n{"a": [1, 2,],}\n```');
  return `${days} ${again.totalWeeks} ${other.weeks.length} ${text} ${finishReason ?? ''} ${fixed}`;
}
