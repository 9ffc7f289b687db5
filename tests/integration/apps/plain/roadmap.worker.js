// A module worker: import maps do not apply inside workers, so the glue is imported by its path.
import init, { generateRoadmap } from './node_modules/gemini-roadmap/web/gemini_roadmap.js';
import { serveRoadmap } from './shared/worker.js';

serveRoadmap({ init, generateRoadmap });
