import { expect, test } from '@playwright/test';
import { openHydrated, stillSameDocument } from './support';

test('a new campaign appears in the list without a page reload', async ({ page }, testInfo) => {
  const problems = await openHydrated(page, '/');
  const name = `Curse of Strahd ${testInfo.workerIndex}-${Date.now()}`;

  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Game system').selectOption('dnd5e');
  await page.getByRole('button', { name: 'Create campaign' }).click();

  const entry = page.locator('.campaign-list li', { hasText: name });
  await expect(entry).toBeVisible();
  await expect(entry).toContainText('D&D 5th Edition');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('');
  expect(await stillSameDocument(page)).toBe(true);

  await page.screenshot({ path: testInfo.outputPath('campaigns.png'), fullPage: true });
  expect(problems).toEqual([]);
});

test('empty and over-long names get a clear message and create nothing', async ({ page }) => {
  // The server refuses each with a 400, which the browser logs.
  const problems = await openHydrated(page, '/', { expectedStatuses: [400] });
  const entries = page.locator('.campaign-list li');
  const before = await entries.count();
  const nameField = page.getByLabel('Name', { exact: true });
  const create = page.getByRole('button', { name: 'Create campaign' });
  const error = page.getByRole('alert');

  await nameField.fill('   ');
  await create.click();
  await expect(error).toHaveText('a campaign needs a name');

  await nameField.fill('x'.repeat(101));
  await expect(page.locator('#campaign-name-hint')).toHaveText('101 of 100 characters: too long');
  await create.click();
  await expect(error).toHaveText('a campaign name can have at most 100 characters; this one has 101');

  await expect(entries).toHaveCount(before);
  expect(await stillSameDocument(page)).toBe(true);
  expect(problems).toEqual([]);
});

test('the list is in the server-rendered HTML, before any script runs', async ({ request }) => {
  const name = `Storm King's Thunder ${Date.now()}`;
  const created = await request.post('/api/campaigns/create', {
    form: { name, game_system: 'dnd5e' },
    headers: { Accept: 'application/json' },
  });
  expect(created.status()).toBe(200);

  const html = await (await request.get('/')).text();
  expect(html).toContain(name);
});
