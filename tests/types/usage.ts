// A TypeScript user's code against the generated declarations: must compile under --strict and --exactOptionalPropertyTypes.
import init, { generateRoadmap, regenerateWeek, GeminiChat, repairJson } from '../../pkg/web/gemini_roadmap.js';
import type { Roadmap, ProgressEvent, RoadmapProgressEvent, GenerateRoadmapOptions, Week, SendResult, ChatTurn, GeminiRoadmapError, GeminiRoadmapErrorCode, RoadmapAbortError } from '../../pkg/web/gemini_roadmap.js';

export async function main(apiKey: string): Promise<number> {
  await init();
  const controller = new AbortController();
  const options: GenerateRoadmapOptions = {
    apiKey,
    role: 'DevOps Engineer',
    weeks: 12,
    model: 'gemini-2.5-flash',
    batchWeeks: 3,
    contextDays: 2,
    maxRetries: 3,
    level: 'beginner',
    hoursPerDay: 2,
    history: 'windowed',
    signal: controller.signal,
    onProgress: (event: ProgressEvent) => {
      switch (event.type) {
        case 'batch-start':
          console.log(`Generating batch: weeks ${event.startWeek}-${event.endWeek}`);
          break;
        case 'week': {
          const w: Week = event.week;
          console.log(w.title, w.days.length, w.days[0]?.tasks.join(', '));
          break;
        }
        case 'retry':
          console.log(event.delayMs, event.reason);
          break;
        default:
          break;
      }
    },
  };
  let roadmap: Roadmap;
  try {
    roadmap = await generateRoadmap(options);
  } catch (e) {
    if (!(e instanceof Error) || e.name !== 'GeminiRoadmapError') throw e;
    const err = e as GeminiRoadmapError;
    const code: GeminiRoadmapErrorCode = err.code;
    const wait: number | undefined = err.retryable ? err.retryDelayMs : undefined;
    console.log(code, err.status, err.field, err.quotaIds?.join(','), err.batch, wait);
    if (!err.partial) throw err;
    roadmap = await generateRoadmap({ ...options, resumeFrom: err.partial });
  }
  const onRegenerate = (event: RoadmapProgressEvent) => { if (event.type === 'week') console.log(event.week.title); };
  const again: Roadmap = await regenerateWeek(roadmap, 2, { apiKey, onProgress: onRegenerate });
  const usage: number = again.usage.promptTokens + again.usage.requests;
  const fallbacks: boolean[] = roadmap.weeks.map((w) => w.fallback);
  const phase: string = roadmap.phases[0]?.name ?? '';

  const chat = new GeminiChat({ apiKey, systemInstruction: 'Be brief.', generationConfig: { temperature: 0.2 } });
  const reply: SendResult = await chat.send('Hello', { signal: controller.signal });
  const value: unknown = await chat.sendJson('{"a":1}');
  const values: unknown[] = await chat.generateJsonBatched(['a', 'b']);
  const turns: ChatTurn[] = chat.history;
  chat.setHistory(turns);
  const spent: number = chat.usage.totalTokens + chat.usage.requests;
  const fixed: string = repairJson('{"a":1,');
  return usage + spent + fallbacks.length + phase.length + reply.text.length + String(value).length + values.length + fixed.length;
}

// Forwarding values that may be missing, as a form does: under exactOptionalPropertyTypes each such option must
// admit `undefined`, and an abort's `AbortError` must expose what was finished.
export async function fromForm(apiKey: string, signal: AbortSignal | undefined, level: string | undefined,
    onProgress: ((event: ProgressEvent) => void) | undefined, saved: Roadmap | undefined): Promise<Roadmap> {
  const chat = new GeminiChat({ apiKey, model: undefined, generationConfig: undefined });
  await chat.send('Hello', { signal, onProgress: undefined });
  try {
    return await generateRoadmap({ apiKey, role: 'QA Engineer', weeks: 4, signal, onProgress, level, resumeFrom: saved });
  } catch (e) {
    if (!(e instanceof DOMException) || e.name !== 'AbortError') throw e;
    const err = e as RoadmapAbortError;
    const done: unknown[] = err.results ?? [];
    const batch: number | undefined = err.batch;
    if (!err.partial || done.length > 0 || batch === undefined) throw e;
    const roadmap: Roadmap = { ...err.partial, userId: undefined, hoursPerDay: level ? 1 : undefined };
    return regenerateWeek(roadmap, 1, { apiKey, signal, onProgress, role: undefined, weeks: undefined });
  }
}
