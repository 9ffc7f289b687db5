// Must NOT compile: `weeks` is a number, not a string.
import { generateRoadmap } from 'gemini-roadmap';

export const roadmap = generateRoadmap({ apiKey: 'k', role: 'DevOps Engineer', weeks: "3" });
