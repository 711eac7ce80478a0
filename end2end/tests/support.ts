import { expect, type Page } from '@playwright/test';

/**
 * Opens a page and waits until the wasm has hydrated it. The server-rendered
 * HTML looks the same either way; only `data-hydrated` (set by the frontend
 * crate after hydration) tells a live page from a dead one, so a broken
 * release wasm fails here.
 */
export async function openHydrated(
  page: Page,
  path: string,
  { expectedStatuses = [] as number[] } = {},
): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // The browser logs every 4xx fetch; a test that provokes refusals on
    // purpose names the statuses it expects.
    const status = /status of (\d+)/.exec(message.text());
    if (status && expectedStatuses.includes(Number(status[1]))) return;
    problems.push(`console error: ${message.text()}`);
  });
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  // Survives only as long as the page is never reloaded.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  return problems;
}

/** True while no navigation or reload happened since `openHydrated`. */
export async function stillSameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true);
}
