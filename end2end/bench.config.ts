import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// In-browser benchmarks (scripts/bench-browser.sh): not tests, so not run
// by the test command; each writes its numbers to bench-results/.
export default defineConfig({
  ...base,
  testDir: './bench',
  testMatch: '**/*.bench.ts',
  timeout: 180_000,
  reporter: [['list']],
});
