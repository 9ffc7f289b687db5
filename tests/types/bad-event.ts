import { generateRoadmap } from '../../pkg/web/gemini_roadmap.js';
// A `batch-start` event has no `week`: must not compile.
export const p = generateRoadmap({
  apiKey: 'k', role: 'r', weeks: 3,
  onProgress: (e) => { if (e.type === 'batch-start') console.log(e.week.title); },
});
