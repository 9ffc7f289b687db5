// A webpack 5 app with no webpack.config.js: `webpack --mode production` bundles src/index.js into
// dist/main.js. The "." export is the `web` build; webpack 5 turns its
// `new URL('gemini_roadmap_bg.wasm', import.meta.url)` into an emitted asset by itself.
import init, { generateRoadmap } from 'gemini-roadmap';
import { runPage } from '../shared/run.js';

runPage({ init, generateRoadmap, flavour: 'webpack' });
