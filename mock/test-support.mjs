// Shared set-up of the mock's own tests (mock/test/): outside that folder, which node --test runs file by file.
import { before, after } from 'node:test';

import { startMock } from './gemini-mock.mjs';

/**
 * A mock Gemini for the whole test file: started before its first test, closed after its last.
 * `env.url` and `env.mock` are set once it listens. `options` go to `startMock`.
 */
export function useMock(options = {}) {
  const env = { mock: null, url: null };
  before(async () => {
    env.mock = await startMock({ port: 0, quiet: true, ...options });
    env.url = env.mock.url;
  });
  after(() => env.mock.close());
  return env;
}
