// The `bundler` build: no init(); the wasm is instantiated when this module graph loads.
import { generateRoadmap } from 'gemini-roadmap/bundler';
import { runPage } from '../shared/run.js';

runPage({ generateRoadmap, flavour: 'webpack-bundler' });
