import { allowStatuses, expect, test } from './fixtures';
import { openHydrated, signUp } from './support';
import { call, form, setUpTable } from './table';

// The campaign's pages: an actor's sheet and inventory, and the GM's
// encounter editor, against a real server and the SRD compendium.

async function newCampaign(page: import('@playwright/test').Page, name: string): Promise<string> {
  const campaign = await form<{ id: string }>(page.request, 'campaigns/create', {
    name: `${name} ${Date.now()}`,
    game_system: 'dnd5e',
  });
  return campaign.id;
}

test("an actor's sheet shows its statblock, and what it carries can be handed on", async ({ page }, testInfo) => {
  await signUp(page);
  const campaign = await newCampaign(page, 'Sheets');
  const actor = (compendium_ref: string | null, name: string | null) =>
    call<string>(page.request, 'actors/create', {
      campaign,
      actor: { compendium_ref, name, kind: 'monster', level: null, character_class: null, owner: null },
    });
  const goblin = await actor('dnd5e:monsters:goblin-warrior', null);
  const ogre = await actor(null, 'Ogre');
  const item = (compendium_ref: string, owner: string | null, container: string | null, quantity: number) =>
    call<{ id: string }>(page.request, 'items/create', {
      campaign,
      item: { compendium_ref, owner, container, quantity },
    });
  const pack = await item('dnd5e:items:backpack', goblin, null, 1);
  await item('dnd5e:items:rope', null, pack.id, 2);
  await item('dnd5e:items:potion-of-healing', null, null, 1);

  // From the campaign's item list, the potion in the stash goes to the goblin.
  await openHydrated(page, `/campaigns/${campaign}`);
  const potion = page.locator('.virtual-row', { hasText: 'Potion of Healing' });
  const where = potion.locator('.muted').first();
  await expect(where).toContainText('· stash');
  await potion.locator('select').selectOption({ label: 'Goblin Warrior' });
  await expect(where).not.toContainText('· stash');

  await openHydrated(page, `/campaigns/${campaign}/actors/${goblin}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Goblin Warrior');
  await expect(page.locator('[data-test="sheet-hp"]')).toContainText('10 / 10');
  const sheet = page.locator('[data-test="sheet"]');
  await expect(sheet.locator('dd').first()).toHaveText('15');
  await expect(sheet.getByLabel('dexterity 15, modifier +2')).toBeVisible();
  await expect(sheet).toContainText('Common, Goblin');
  const carried = page.locator('[data-test="inventory"] li');
  await expect(carried).toHaveCount(3);
  await expect(carried.nth(0)).toContainText('Backpack × 1');
  await expect(carried.nth(1)).toContainText('Rope × 2');
  await expect(carried.nth(2)).toContainText('Potion of Healing × 1');
  await page.screenshot({ path: testInfo.outputPath('sheet.png'), fullPage: true });

  // The backpack goes to the ogre, with the rope inside it.
  await carried.nth(0).locator('select').selectOption({ label: 'Ogre' });
  await expect(carried).toHaveCount(1);
  await openHydrated(page, `/campaigns/${campaign}/actors/${ogre}`);
  await expect(page.locator('[data-test="inventory"] li')).toHaveCount(2);
  await expect(page.locator('[data-test="sheet-hp"]')).toHaveCount(0);
});

test('the encounter editor places a token on the cell clicked, moves, hides and removes it', async ({ page }, testInfo) => {
  await signUp(page);
  const campaign = await newCampaign(page, 'Editor');
  const encounter = await call<string>(page.request, 'encounters/create', {
    campaign,
    name: 'Ford',
    map: { grid_size: 50 },
    image: null,
  });
  await openHydrated(page, `/campaigns/${campaign}/encounters/${encounter}`);
  // 50 px cells drawn at 0.72 (the preview fits 720 px): column 4, row 2.
  await page.locator('[data-test="editor-preview"]').click({ position: { x: 3 * 36 + 18, y: 36 + 18 } });
  await expect(page.locator('[data-test="place-column"]')).toHaveValue('4');
  await expect(page.locator('[data-test="place-row"]')).toHaveValue('2');
  await page.getByLabel('Label').fill('Rock');
  await page.locator('[data-test="place"]').click();
  const placed = page.locator('[data-test="placed-token"]');
  await expect(placed).toHaveCount(1);
  const tokens = () =>
    call<{ name: string; position: { x: number; y: number }; visibility: string }[]>(
      page.request,
      'encounters/tokens',
      { campaign, encounter },
    );
  expect(await tokens()).toEqual([expect.objectContaining({ name: 'Rock', position: { x: 150, y: 50 } })]);

  await placed.getByLabel('Column').fill('6');
  await placed.locator('[data-test="token-visibility"]').selectOption('hidden');
  await placed.getByRole('button', { name: 'Save' }).click();
  await expect.poll(tokens).toEqual([
    expect.objectContaining({ name: 'Rock', position: { x: 250, y: 50 }, visibility: 'hidden' }),
  ]);
  await expect(page.locator('[data-test="token-visibility"]')).toHaveValue('hidden');

  await page.locator('[data-test="encounter-name"]').fill('Flooded ford');
  await page.locator('[data-test="grid-size"]').fill('60');
  await page.getByRole('button', { name: 'Save the map' }).click();
  await expect(page.locator('[data-test="map-saved"]')).toBeVisible();
  const encounters = await call<{ name: string; map: { grid_size: number } }[]>(page.request, 'encounters/list', { campaign });
  expect(encounters).toEqual([expect.objectContaining({ name: 'Flooded ford', map: expect.objectContaining({ grid_size: 60 }) })]);
  await page.screenshot({ path: testInfo.outputPath('encounter-editor.png'), fullPage: true });

  await page.locator('[data-test="remove-token"]').click();
  await expect(placed).toHaveCount(0);
  expect(await tokens()).toEqual([]);
});

test('pages read at 200 % zoom: nothing runs off the side', async ({ browser }) => {
  // A 1280 x 800 screen at 200 % zoom lays pages out in 640 x 400 CSS pixels.
  const table = await setUpTable(browser);
  const overflow = (page: import('@playwright/test').Page) =>
    page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  for (const page of [table.gm, table.player]) {
    await page.setViewportSize({ width: 640, height: 400 });
    await expect(page.locator('[data-test="connection"]')).toHaveText('Connected');
    expect(await overflow(page), 'the live table').toBeLessThanOrEqual(0);
  }
  for (const path of ['/', `/campaigns/${table.campaign}`, '/compendium', '/preferences', `/campaigns/${table.campaign}/encounters/${table.encounter}`]) {
    await openHydrated(table.gm, path);
    expect(await overflow(table.gm), path).toBeLessThanOrEqual(0);
  }
});

test('a player builds a character on the form, sees what to fix, and lands on its sheet', async ({ browser }, testInfo) => {
  const gm = await (await browser.newContext()).newPage();
  const player = await (await browser.newContext()).newPage();
  await signUp(gm, 'gm');
  await signUp(player, 'pl');
  const campaign = await newCampaign(gm, 'Heroes');
  // The GM invites from the campaign page: a whole link, with a copy button.
  await openHydrated(gm, `/campaigns/${campaign}`);
  await gm.getByRole('button', { name: 'Invite a player' }).click();
  const link = (await gm.locator('[data-test="invite-link"]').textContent()) ?? '';
  expect(link).toMatch(/^http:\/\/[^/]+\/join\/[A-Za-z0-9_-]+$/);
  await gm.locator('[data-test="copy-invite"]').click();
  await expect(gm.locator('[data-test="copy-invite"]')).toHaveText('Copied');
  await openHydrated(player, new URL(link).pathname);
  await player.locator('[data-test="accept-invitation"]').click();
  await player.getByRole('link', { name: 'Open the campaign' }).click();
  await player.locator('[data-test="new-character"]').click();
  await expect(player.getByRole('heading', { level: 1 })).toHaveText('New character');
  const field = (name: string) => player.locator(`[data-test="${name}"]`);

  // Nothing typed yet: the form says what is missing and creates nothing
  // (the server refuses the incomplete character with a 400).
  allowStatuses([400]);
  await field('create-character').click();
  await expect(field('error-name')).toHaveText('A character needs a name.');
  await expect(field('form-problems')).toBeVisible();

  await field('name').fill('Brenna');
  await field('species').fill('Dwarf');
  await field('class').fill('Fighter');
  // The SRD fighter's saving throws are ticked for her.
  await expect(player.getByLabel('Strength', { exact: true })).toBeChecked();
  await expect(player.getByLabel('Constitution', { exact: true })).toBeChecked();
  await player.getByLabel('Point buy').check();
  await expect(field('points-left')).toHaveText('27 of 27 points left');
  await field('ability-strength').fill('15');
  await field('ability-constitution').fill('15');
  await field('ability-dexterity').fill('14');
  await field('ability-wisdom').fill('11');
  await expect(field('points-left')).toHaveText('-1 of 27 points left');
  await expect(field('error-abilities')).toHaveText('That spends 28 points; point buy has 27.');
  await field('ability-wisdom').fill('10');
  await expect(field('error-abilities')).toHaveCount(0);
  // A d10 and +2 constitution: 12 hit points at first level.
  await field('use-suggested-hp').click();
  await expect(field('hp')).toHaveValue('12');
  await field('ac').fill('16');
  await player.getByLabel('Athletics (str)').check();
  await player.screenshot({ path: testInfo.outputPath('character-form.png'), fullPage: true });
  await field('create-character').click();

  await expect(player).toHaveURL(new RegExp(`/campaigns/${campaign}/actors/`));
  await expect(player.getByRole('heading', { level: 1 })).toHaveText('Brenna');
  await expect(player.locator('[data-test="sheet-hp"]')).toContainText('12 / 12');
  await expect(player.locator('[data-test="sheet"]').getByLabel('strength 15, modifier +2')).toBeVisible();
  // Between sessions she changes her own sheet: each field saves itself,
  // and the sheet read again shows what was stored.
  const editor = player.locator('[data-test="sheet-editor"]');
  await editor.locator('[data-edit="dexterity"]').fill('16');
  await editor.locator('[data-edit="dexterity"]').blur();
  await expect(player.locator('[data-test="sheet"]').getByLabel('dexterity 16, modifier +3')).toBeVisible();
  await player.locator('[data-test="sheet-editor"] [data-edit="skill:stealth"]').check();
  // Saved, and the sheet read again shows it (so the editor is drawn anew
  // before anything is typed into it).
  await expect(player.locator('[data-test="sheet-proficiencies"]')).toContainText('Stealth');
  await expect(player.locator('[data-test="sheet-editor"] [data-edit="skill:stealth"]')).toBeChecked();
  await player.locator('[data-test="sheet-editor"] [data-edit="notes"]').fill('Owes the smith 5 gp');
  await player.locator('[data-test="save-notes"]').click();
  await expect(player.locator('[data-test="sheet-saved"]')).toHaveText('Saved: the notes.');
  await player.reload();
  await expect(player.locator('[data-test="sheet-editor"] [data-edit="notes"]')).toHaveValue('Owes the smith 5 gp');
  await expect(player.locator('[data-test="sheet-editor"] [data-edit="skill:stealth"]')).toBeChecked();
  await expect(player.locator('[data-test="sheet-editor"] [data-edit="skill:athletics"]')).toBeChecked();
  // A weapon from the compendium becomes an attack on the sheet.
  const weapons = player.locator('[data-test="add-weapon"]');
  await weapons.selectOption({ label: 'Longsword (1d8 slashing)' });
  await expect(player.locator('[data-test="sheet-attacks"]')).toContainText('Longsword (1d8 slashing)');
  await player.locator('[data-test="sheet-editor"]').screenshot({ path: testInfo.outputPath('sheet-editor.png') });
  // The GM sees her in the campaign's actors, and can take her back.
  const sheet = new URL(player.url()).pathname;
  await openHydrated(gm, `/campaigns/${campaign}`);
  await expect(gm.locator('.actors .virtual-row', { hasText: 'Brenna' })).toBeVisible();
  await openHydrated(gm, sheet);
  const owner = gm.locator('[data-test="owner"]');
  await expect(owner.locator('option:checked')).toHaveText(/^Player pl_/);
  await owner.selectOption({ label: "Nobody (the GM's)" });
  await expect(gm.locator('[data-test="owner-saved"]')).toBeVisible();
  // The player has no such control.
  await expect(player.locator('[data-test="owner"]')).toHaveCount(0);

  // The GM builds an encounter for the party (Brenna, level 1) with the
  // builder: suggestions from the SRD, one added onto the map.
  await openHydrated(gm, `/campaigns/${campaign}`);
  await gm.getByPlaceholder('Goblin ambush').fill('Road ambush');
  await gm.getByRole('button', { name: 'Create encounter' }).click();
  await gm.getByRole('link', { name: 'Road ambush' }).click();
  await expect(gm.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const builder = gm.locator('[data-test="encounter-builder"]');
  await builder.locator('[data-test="suggest-monsters"]').click();
  const suggestions = builder.locator('[data-test="suggestions"] tbody tr');
  await expect(suggestions.first()).toBeVisible();
  await expect(builder.locator('[data-test="suggestions"]')).toContainText(/Easy|Medium|Hard|Deadly/);
  const first = (await suggestions.first().locator('td').first().textContent()) ?? '';
  await suggestions.first().getByRole('button', { name: 'Add' }).click();
  await expect(builder.locator('[data-test="builder-added"]')).toHaveText(`${first} added to the encounter.`);
  await expect(gm.locator('[data-test="editor-tokens"]')).toContainText(first);
  await gm.screenshot({ path: testInfo.outputPath('encounter-builder.png'), fullPage: true });

  // The campaign in numbers, a search across it, and its export ...
  await openHydrated(gm, `/campaigns/${campaign}`);
  const numbers = gm.locator('[data-test="campaign-numbers"]');
  await expect(numbers.locator('dl')).toContainText('Characters1');
  await expect(numbers.locator('dl')).toContainText('Monsters1');
  const search = gm.locator('[data-test="campaign-search"]');
  await search.locator('[data-test="campaign-search-text"]').fill('Brenna');
  await search.getByRole('button', { name: 'Search' }).click();
  await expect(search.locator('[data-test="search-hits"] a', { hasText: 'Brenna' })).toHaveAttribute('href', sheet);
  const [download] = await Promise.all([
    gm.waitForEvent('download'),
    numbers.locator('[data-test="export-campaign"]').click(),
  ]);
  const file = testInfo.outputPath('campaign.json');
  await download.saveAs(file);
  const document = JSON.parse(await import('node:fs').then((fs) => fs.promises.readFile(file, 'utf8')));
  expect(document.actors.map((a: { name: string }) => a.name)).toContain('Brenna');
  // ... which this server refuses to import twice, and says why; a file
  // that is no campaign is refused as such.
  await openHydrated(gm, '/');
  const importer = gm.locator('[data-test="import-campaign"]');
  await importer.locator('[data-test="import-file"]').setInputFiles(file);
  await importer.getByRole('button', { name: 'Import' }).click();
  await expect(importer.locator('[data-test="import-error"]')).toContainText(/already on this server/i);
  await importer.locator('[data-test="import-file"]').setInputFiles({ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": 1}') });
  await importer.getByRole('button', { name: 'Import' }).click();
  await expect(importer.locator('[data-test="import-error"]')).toContainText(/not a campaign document/i);
});
