// Must NOT compile: a misspelt option name.
import { generateRoadmap } from 'gemini-roadmap';

export const roadmap = generateRoadmap({ apiKey: 'k', role: 'DevOps Engineer', wekks: 3 });
