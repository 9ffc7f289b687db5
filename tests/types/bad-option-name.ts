import { generateRoadmap } from '../../pkg/web/gemini_roadmap.js';
// `wekks` is a typo: must not compile.
export const p = generateRoadmap({ apiKey: 'k', role: 'r', wekks: 3 });
