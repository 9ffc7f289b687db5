import { generateRoadmap } from '../../pkg/web/gemini_roadmap.js';
// `weeks` must be a number: must not compile.
export const p = generateRoadmap({ apiKey: 'k', role: 'r', weeks: '3' });
