// Bundled by Vite as a separate worker chunk; the wasm is loaded inside the worker.
import init, { generateRoadmap } from 'gemini-roadmap';
import { serveRoadmap } from './shared/worker.js';

serveRoadmap({ init, generateRoadmap });
