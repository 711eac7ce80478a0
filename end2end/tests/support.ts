import { expect, type Page } from '@playwright/test';
import { allowStatuses } from './fixtures';

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
  allowStatuses(expectedStatuses);
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

/** A login name no other test run has used. */
export function uniqueLogin(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * Creates an account through the sign-up page and returns its login name;
 * the page ends on the campaign list, signed in.
 */
export async function signUp(page: Page, prefix = 'gm'): Promise<string> {
  const login = uniqueLogin(prefix);
  await page.goto('/signup');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Login name').fill(login);
  await page.getByLabel('Display name').fill(`Player ${login}`);
  await page.getByLabel('Password').fill('a long enough password');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('[data-test="signed-in-as"]')).toHaveText(`Player ${login}`);
  return login;
}
