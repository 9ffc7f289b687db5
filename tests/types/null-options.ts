// The README's rule in the types: an option set to `null` counts as not given (`signal: maybeSignal ?? null`),
// for every option of generateRoadmap, regenerateWeek and GeminiChat, and so does `undefined` under
// --exactOptionalPropertyTypes; `setHistory` takes a stored turn whose signature is null, while `history` gives none.
import { generateRoadmap, regenerateWeek, GeminiChat } from '../../pkg/web/gemini_roadmap.js';
import type { Roadmap, ChatTurn } from '../../pkg/web/gemini_roadmap.js';

declare const maybeSignal: AbortSignal | undefined;
declare const form: { level: string | null; sig: string | null; hours: number | undefined };

export async function main(apiKey: string, roadmap: Roadmap): Promise<void> {
  await generateRoadmap({
    apiKey, role: 'Tester', weeks: 3, signal: maybeSignal ?? null, onProgress: null, level: form.level, hoursPerDay: form.hours,
    model: null, baseUrl: null, batchWeeks: null, contextDays: null, maxRetries: null, userId: null, resumeFrom: null, log: null,
    history: null, stream: null, timeoutMs: null, strategy: null, concurrency: null, maxOutputTokens: null,
  });
  await regenerateWeek(roadmap, 2, { apiKey, role: null, weeks: null, signal: null, onProgress: undefined, level: null });
  // A roadmap read back from storage whose optional fields are null, as a database's columns give them.
  const stored = { ...roadmap, userId: null, level: null, hoursPerDay: null };
  await generateRoadmap({ apiKey, role: 'Tester', weeks: 3, resumeFrom: stored });
  const again: Roadmap = await regenerateWeek(stored, 1, { apiKey });
  const chat = new GeminiChat({
    apiKey, model: null, baseUrl: null, systemInstruction: null, generationConfig: null, timeoutMs: null, maxRetries: null, log: null,
  });
  await chat.send('hi', null);
  await chat.sendJson('hi', { signal: null, onProgress: null });
  await chat.generateJsonBatched(['a'], { signal: maybeSignal });
  chat.setHistory([{ role: 'user', text: 'hi' }, { role: 'model', text: 'hello', thoughtSignature: form.sig }]);
  chat.setHistory([{ role: 'model', text: 'x', thoughtSignature: undefined }]);
  // What the chat gives back is never null: it fits a type without it, and goes back as it is.
  const kept: { role: string; text: string; thoughtSignature?: string }[] = chat.history;
  const turns: ChatTurn[] = chat.history;
  chat.setHistory(turns);
  return void [kept, again];
}
