import type { GeminiRoadmapError } from '../../pkg/web/gemini_roadmap.js';
// `ABORTED` is no code of ours (a user abort is an `AbortError`): must not compile.
export const isAborted = (err: GeminiRoadmapError) => err.code === 'ABORTED';
