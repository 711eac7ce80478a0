import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';

/**
 * Every browser test fails on a console error or an uncaught exception in
 * any of its pages, in any browser context it opens: an error the user
 * never sees is still a bug. A test that provokes one on purpose (a refused
 * fetch, a dropped network) says which with `allowConsoleErrors`.
 */
let allowed: RegExp[] = [];

/** Console errors matching `pattern` are expected in the current test. */
export function allowConsoleErrors(pattern: RegExp): void {
  allowed.push(pattern);
}

/** The browser's log of a failed fetch with one of `statuses` is expected. */
export function allowStatuses(statuses: number[]): void {
  for (const status of statuses) allowConsoleErrors(new RegExp(`status of ${status}\\b`));
}

export const test = base.extend<{ consoleGuard: void }>({
  consoleGuard: [
    async ({ context, browser }, use) => {
      allowed = [];
      const problems: string[] = [];
      const watch = (page: Page) => {
        page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
        page.on('console', (message) => {
          if (message.type() !== 'error') return;
          const text = message.text();
          if (allowed.some((pattern) => pattern.test(text))) return;
          problems.push(`console error on ${page.url()}: ${text}`);
        });
      };
      const watchContext = (opened: BrowserContext) => {
        opened.pages().forEach(watch);
        opened.on('page', watch);
      };
      watchContext(context);
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (...args: Parameters<typeof browser.newContext>) => {
        const opened = await newContext(...args);
        watchContext(opened);
        return opened;
      };
      try {
        await use();
      } finally {
        browser.newContext = newContext;
      }
      expect(problems, 'console errors and uncaught exceptions').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
export type { APIRequestContext, Browser, BrowserContext, Page } from '@playwright/test';
