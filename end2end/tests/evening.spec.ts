import { expect, test, type Page } from './fixtures';
import { openHydrated, signUp, uniqueLogin } from './support';

// A whole first evening from the browser alone, as a new GM and a new
// player would play it: no API call, a screenshot of each step.

test('a first evening: a campaign, a character, an encounter from the builder, a live monster, an attack, damage, the end', async ({ browser }, testInfo) => {
  test.setTimeout(180_000);
  const gm = await (await browser.newContext()).newPage();
  const player = await (await browser.newContext()).newPage();
  let step = 0;
  const shot = async (page: Page, name: string) => {
    step += 1;
    await page.screenshot({ path: testInfo.outputPath(`${String(step).padStart(2, '0')}-${name}.png`), fullPage: true });
  };

  // The GM signs up and creates a campaign.
  await signUp(gm, 'gm');
  await openHydrated(gm, '/');
  const name = `Friday ${Date.now()}`;
  await gm.getByLabel('Name', { exact: true }).fill(name);
  await gm.getByRole('button', { name: 'Create campaign' }).click();
  await gm.locator('.campaign-list li', { hasText: name }).getByRole('link').click();
  await expect(gm.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const campaignPage = new URL(gm.url()).pathname;
  await shot(gm, 'campaign');

  // The GM invites; the player opens the link before having an account,
  // signs up from it and comes back to it to join.
  await gm.getByRole('button', { name: 'Invite a player' }).click();
  const link = (await gm.locator('[data-test="invite-link"]').textContent()) ?? '';
  const invitation = new URL(link).pathname;
  // Joining before signing in is refused (401), which the page turns into
  // the way to sign up.
  await openHydrated(player, invitation, { expectedStatuses: [401] });
  await player.locator('[data-test="accept-invitation"]').click();
  await player.locator('[data-test="join-sign-up"]').click();
  await expect(player.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const login = uniqueLogin('pl');
  await player.getByLabel('Login name').fill(login);
  await player.getByLabel('Display name').fill(`Player ${login}`);
  await player.getByLabel('Password').fill('a long enough password');
  await player.getByRole('button', { name: 'Sign up' }).click();
  await expect(player).toHaveURL(new RegExp(`${invitation}$`));
  await expect(player.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await player.locator('[data-test="accept-invitation"]').click();
  await player.getByRole('link', { name: 'Open the campaign' }).click();

  // The player builds a character, with a longsword on her sheet.
  await player.locator('[data-test="new-character"]').click();
  await expect(player.getByRole('heading', { level: 1 })).toHaveText('New character');
  await player.locator('[data-test="name"]').fill('Brenna');
  await player.locator('[data-test="class"]').fill('Fighter');
  await player.locator('[data-test="use-suggested-hp"]').click();
  await shot(player, 'character-form');
  await player.locator('[data-test="create-character"]').click();
  await expect(player.getByRole('heading', { level: 1 })).toHaveText('Brenna');
  await player.locator('[data-test="add-weapon"]').selectOption({ label: 'Longsword (1d8 slashing)' });
  await expect(player.locator('[data-test="sheet-attacks"]')).toContainText('Longsword');
  await player.locator('[data-test="add-spell"]').selectOption({ label: 'Sacred Flame (Dexterity save, 1d8 radiant)' });
  await expect(player.locator('[data-test="sheet-attacks"]')).toContainText('Sacred Flame');
  await shot(player, 'sheet');

  // The GM makes an encounter and fills it from the builder.
  await openHydrated(gm, campaignPage);
  await gm.getByPlaceholder('Goblin ambush').fill('Road ambush');
  await gm.getByRole('button', { name: 'Create encounter' }).click();
  await gm.getByRole('link', { name: 'Road ambush' }).click();
  await expect(gm.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const editorPage = new URL(gm.url()).pathname;
  const builder = gm.locator('[data-test="encounter-builder"]');
  await builder.locator('[data-test="suggest-monsters"]').click();
  const suggestion = builder.locator('[data-test="suggestions"] tbody tr').first();
  await expect(suggestion).toBeVisible();
  await suggestion.getByRole('button', { name: 'Add' }).click();
  await expect(builder.locator('[data-test="builder-added"]')).toBeVisible();
  await expect(gm.locator('[data-test="editor-tokens"] li')).toHaveCount(1);
  await shot(gm, 'encounter-builder');

  // The GM starts the session; the player joins the table, her socket
  // watched from the start.
  await openHydrated(gm, campaignPage);
  await gm.locator('#start-encounter').selectOption({ label: 'Road ambush' });
  await gm.getByRole('button', { name: 'Start a session' }).click();
  await expect(gm).toHaveURL(/\/sessions\//);
  await expect(gm.locator('[data-test="connection"]')).toHaveText('Connected');
  const frames: string[] = [];
  player.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));
  await openHydrated(player, campaignPage);
  await player.locator('[data-test="join-session"]').first().click();
  await expect(player.locator('[data-test="connection"]')).toHaveText('Connected');
  await expect(player.locator('[data-token]')).toHaveCount(1);
  await shot(gm, 'table-gm');

  // The GM adds a goblin from the compendium to the running map.
  const place = gm.locator('[data-test="place-on-map"]');
  await place.locator('[data-test="monster-search"]').fill('goblin');
  await place.getByRole('button', { name: 'Find' }).click();
  await place.getByRole('button', { name: 'Add Goblin Warrior to the map', exact: true }).click();
  await expect(player.locator('[data-token]')).toHaveCount(2);
  const goblin = (await gm.locator('[data-token].selected').getAttribute('data-token')) ?? '';
  expect(goblin).not.toBe('');
  const gmGoblin = gm.locator(`[data-token="${goblin}"]`);
  const playerGoblin = player.locator(`[data-token="${goblin}"]`);
  await expect(gmGoblin.locator('[data-test="token-hp"]')).toBeVisible();
  const before = (await gmGoblin.locator('[data-test="token-hp"]').getAttribute('title')) ?? '';
  const [, now, max] = before.match(/^HP (\d+) \/ (\d+)$/)!.map(Number);
  await shot(gm, 'monster-added');

  // The player attacks from her sheet; the server rolls, the log shows it.
  const attack = player.locator('[data-test="table-sheet"] [data-test="attacks"] button').first();
  await expect(attack).toHaveAccessibleName(/Attack with Longsword/);
  await attack.click();
  await expect(gm.locator('[data-test="log"] li.roll', { hasText: 'Longsword' })).toHaveCount(1);
  await expect(player.locator('[data-test="log"] li.roll', { hasText: 'Longsword' })).toHaveCount(1);
  // A spell the target saves against: the log gives the DC and the damage.
  const spell = player.locator('[data-test="table-sheet"] [data-test="attacks"] button').nth(1);
  await expect(spell).toHaveAccessibleName(/Cast Sacred Flame, DC \d+ Dexterity save/);
  await spell.click();
  await expect(gm.locator('[data-test="log"] li.roll', { hasText: 'Sacred Flame' })).toContainText(
    /DC \d+ Dexterity save, none on a success; damage 1d8/,
  );
  await shot(player, 'attack-rolled');

  // The GM applies 2 damage: the GM's bar follows; the player has no bar
  // and her socket never carried the goblin's hit points.
  await gmGoblin.focus();
  const selected = gm.locator('[data-test="selected-token"]');
  await selected.getByLabel('Amount').fill('2');
  await selected.getByRole('button', { name: 'Damage' }).click();
  await expect(gmGoblin.locator('[data-test="token-hp"]')).toHaveAttribute('title', `HP ${now - 2} / ${max}`);
  await expect(playerGoblin).toBeVisible();
  await expect(playerGoblin.locator('[data-test="token-hp"]')).toHaveCount(0);
  await playerGoblin.focus();
  await expect(player.locator('[data-test="selected-token"] [data-test="hp"]')).toHaveText('HP known to the GM');
  const aboutGoblin = frames.filter((frame) => frame.includes(goblin));
  expect(aboutGoblin.length).toBeGreaterThan(0);
  for (const frame of aboutGoblin) expect(frame).not.toContain('"hp"');
  for (const frame of frames) {
    expect(frame).not.toContain('"hp","current"');
    expect(frame).not.toContain('hp/current');
  }
  await shot(player, 'after-damage-player');
  await shot(gm, 'after-damage-gm');

  // The GM ends the evening; the campaign keeps the goblin on the map.
  await gm.locator('[data-test="end-session"]').click();
  await gm.locator('[data-test="confirm-end-session"]').click();
  await expect(gm.locator('[data-test="session-ended"]')).toBeVisible();
  await expect(player.locator('[data-test="session-ended"]')).toBeVisible();
  await openHydrated(gm, editorPage);
  await expect(gm.locator('[data-test="editor-tokens"] li')).toHaveCount(2);
  await expect(gm.locator('[data-test="editor-tokens"]')).toContainText('Goblin');
  await shot(gm, 'kept');
  // And the evening's chat and dice, which the player reads back from the
  // campaign page.
  await openHydrated(player, campaignPage);
  await player.locator('[data-test="show-chat"]').click();
  const history = player.locator('[data-test="chat-lines"]');
  await expect(history).toContainText('Longsword');
  await expect(history).toContainText('Sacred Flame');
  await shot(player, 'chat-kept');
});
