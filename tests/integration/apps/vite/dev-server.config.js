// Only for `vite` (the dev server): dependency pre-bundling copies the package's JS into
// node_modules/.vite/deps/ but not its .wasm, so `new URL('gemini_roadmap_bg.wasm', import.meta.url)`
// would point at a file that is not there (vitejs/vite#8427). Excluding the package from pre-bundling
// serves it from node_modules as is. `vite build` needs no configuration at all.
// In an app, put the same `optimizeDeps` block in vite.config.js.
export default {
  optimizeDeps: { exclude: ['gemini-roadmap'] },
};
