// Only for the `gemini-roadmap/bundler` build (src/bundler.js → dist-bundler/): that build imports the
// .wasm as an ES module, which webpack 5 compiles only with experiments.asyncWebAssembly.
// The default build (src/index.js → dist/, the "." export) needs no webpack config at all.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  entry: './src/bundler.js',
  output: { path: fileURLToPath(new URL('./dist-bundler', import.meta.url)), filename: 'main.js' },
  experiments: { asyncWebAssembly: true },
};
