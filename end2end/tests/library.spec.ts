import { allowConsoleErrors, expect, test } from './fixtures';
import { openHydrated, signUp } from './support';
import { call, form } from './table';

test('compendium search finds Fireball, filters narrow it, and works offline', async ({ page }, testInfo) => {
  await signUp(page);
  await openHydrated(page, '/compendium');
  await page.getByLabel('Search').fill('fireball');
  const results = page.locator('[data-test="compendium-entry"]');
  await expect(results.first()).toContainText('Fireball');
  await expect(results.first()).toContainText('level 3');
  await expect(results.first()).toContainText('evocation');
  await page.screenshot({ path: testInfo.outputPath('compendium.png'), fullPage: true });

  // Only spells of level 9: Fireball is gone.
  await page.getByLabel('Lowest level').fill('9');
  await expect(results.filter({ hasText: 'Fireball' })).toHaveCount(0);
  await page.getByLabel('Lowest level').fill('');
  await expect(results.first()).toContainText('Fireball');

  // Offline, searches are answered from the entries kept in IndexedDB,
  // matched by name in the browser, and say so.
  // The searches that go out meanwhile fail, and the browser logs each.
  allowConsoleErrors(/ERR_INTERNET_DISCONNECTED/);
  await page.context().setOffline(true);
  await page.getByLabel('Search').fill('fireb');
  await expect(page.locator('[data-test="compendium-kept"]')).toBeVisible();
  await expect(results.first()).toContainText('Fireball');
  // Something this browser never kept: the network really is gone.
  await page.getByLabel('Search').fill('tarrasque');
  await expect(page.getByRole('alert')).toBeVisible();
  // Back online, the server answers again.
  await page.context().setOffline(false);
  await page.getByLabel('Search').fill('tarrasq');
  await expect(results.first()).toContainText('Tarrasque');
  await expect(page.locator('[data-test="compendium-kept"]')).toHaveCount(0);
});

test('an upload shows its progress, and the same bytes again are already held', async ({ page }) => {
  await signUp(page);
  const campaign = await form<{ id: string }>(page.request, 'campaigns/create', {
    name: `Library ${Date.now()}`,
    game_system: 'dnd5e',
  });
  await openHydrated(page, `/campaigns/${campaign.id}`);
  // A 3 MiB PNG (a real signature, then padding), sent at 1.5 MiB/s so
  // the progress can be seen.
  const png = Buffer.alloc(3 * 1024 * 1024);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(png);
  png.writeUInt32LE(Date.now() % 0xffffffff, 64);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 1.5 * 1024 * 1024,
  });
  const upload = async () => {
    await page.getByLabel('File').setInputFiles({ name: 'cave.png', mimeType: 'image/png', buffer: png });
    await page.getByRole('button', { name: 'Upload' }).click();
  };
  await upload();
  const progress = page.locator('[data-test="upload-progress"]');
  await expect(progress).toBeVisible();
  await expect
    .poll(async () => Number(await progress.getAttribute('value')), { timeout: 5_000 })
    .toBeGreaterThan(0);
  const outcome = page.locator('[data-test="upload-outcome"]');
  await expect(outcome).toContainText('cave.png: uploaded', { timeout: 15_000 });
  await expect(page.locator('[data-test="media-file"]')).toHaveCount(1);

  await upload();
  await expect(outcome).toContainText('already holds these bytes', { timeout: 15_000 });
  await expect(page.locator('[data-test="media-file"]')).toHaveCount(2);
});

test("the GM's files are the GM's until shown, and a player sees a shown file at once", async ({ browser }) => {
  const gm = await (await browser.newContext()).newPage();
  const player = await (await browser.newContext()).newPage();
  await signUp(gm, 'gm');
  await signUp(player, 'pl');
  const campaign = await form<{ id: string }>(gm.request, 'campaigns/create', {
    name: `Reveal ${Date.now()}`,
    game_system: 'dnd5e',
  });
  const invitation = await call<{ token: string }>(gm.request, 'campaigns/invite', {
    campaign: campaign.id,
    role: 'player',
  });
  await call(player.request, 'campaigns/join', { token: invitation.token });

  await openHydrated(gm, `/campaigns/${campaign.id}`);
  const png = Buffer.alloc(4096);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(png);
  png.writeUInt32LE(Date.now() % 0xffffffff, 64);
  await gm.getByLabel('File').setInputFiles({ name: 'lair.png', mimeType: 'image/png', buffer: png });
  await gm.getByRole('button', { name: 'Upload' }).click();
  await expect(gm.locator('[data-test="upload-outcome"]')).toContainText('lair.png: uploaded');
  const gmFile = gm.locator('[data-test="media-file"]');
  await expect(gmFile).toHaveCount(1);
  await expect(gmFile.locator('[data-test="media-visibility"]')).toHaveText('GM only');
  const href = await gmFile.getByRole('link').getAttribute('href');

  // The player sees no file, and the file's address answers nothing.
  await openHydrated(player, `/campaigns/${campaign.id}`);
  await expect(player.getByText('Files appear here when the GM shows them.')).toBeVisible();
  await expect(player.locator('[data-test="media-file"]')).toHaveCount(0);
  expect((await player.request.get(href!)).status()).toBe(403);

  await gmFile.getByRole('button', { name: 'Show to players' }).click();
  await expect(gmFile.locator('[data-test="media-visibility"]')).toHaveText('shown to players');
  await player.reload();
  await expect(player.locator('[data-test="media-file"]')).toHaveCount(1);
  await expect(player.locator('[data-test="media-file"]')).toContainText('lair.png');
  expect((await player.request.get(href!)).status()).toBe(200);
  // Players get no show or hide buttons.
  await expect(player.locator('[data-test="media-toggle"]')).toHaveCount(0);

  await gmFile.getByRole('button', { name: 'Hide from players' }).click();
  await expect(gmFile.locator('[data-test="media-visibility"]')).toHaveText('GM only');
  expect((await player.request.get(href!)).status()).toBe(403);
});
