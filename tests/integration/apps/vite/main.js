// A Vite app with no vite.config: the package's "." export is the `web` build, whose
// `new URL('gemini_roadmap_bg.wasm', import.meta.url)` Vite emits as an asset by itself.
// `?mode=worker` runs the same generation in a module Web Worker (roadmap.worker.js) instead.
import init, { generateRoadmap } from 'gemini-roadmap';
import { runPage, runWorkerPage } from './shared/run.js';

if (new URLSearchParams(location.search).get('mode') === 'worker') {
  runWorkerPage(new Worker(new URL('./roadmap.worker.js', import.meta.url), { type: 'module' }), 'vite-worker');
} else {
  runPage({ init, generateRoadmap, flavour: 'vite' });
}
