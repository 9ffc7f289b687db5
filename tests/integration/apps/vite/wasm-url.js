// The other way to run the Vite dev server with no config at all: ask Vite for the wasm's URL
// (`?url`, through the package's "./web/gemini_roadmap_bg.wasm" export) and hand it to init().
// Vite-specific code; works in `vite` and `vite build` alike.
import init, { generateRoadmap } from 'gemini-roadmap';
import wasmUrl from 'gemini-roadmap/web/gemini_roadmap_bg.wasm?url';
import { runPage } from './shared/run.js';

runPage({ init: () => init({ module_or_path: wasmUrl }), generateRoadmap, flavour: 'vite-wasm-url' });
