// Worker side of the worker pages: init() and generateRoadmap() run here, off the main thread;
// every progress event and the finished roadmap are posted back (plain objects, structured-cloned).
export function serveRoadmap({ init, generateRoadmap }) {
  self.onmessage = async ({ data }) => {
    try {
      await init();
      self.postMessage({ type: 'ready', scope: self.constructor.name });
      const roadmap = await generateRoadmap({
        ...data.options,
        onProgress: (event) => self.postMessage({ type: 'progress', event }),
      });
      self.postMessage({ type: 'done', roadmap });
    } catch (e) {
      self.postMessage({ type: 'error', error: `${e?.code ?? e?.name}: ${e?.message ?? e}` });
    }
  };
}
