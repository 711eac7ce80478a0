import { defineConfig } from '@playwright/test';

// The server is started by scripts/test.sh (a release build, the same kind
// the run command serves) and its address passed in BASE_URL.
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  // Tests share one server and database; one at a time keeps them independent.
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [
    ['list'],
    ['json', { outputFile: './playwright-report/results.json' }],
  ],
  use: {
    baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:3000',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      // Playwright's own browser download does not work here; Debian's does.
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      // Root needs --no-sandbox; the rest keeps Chromium off the network,
      // which is closed on these machines.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
