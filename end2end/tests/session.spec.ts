import { allowConsoleErrors, expect, test } from './fixtures';
import { at, call, drag, fogAt, setUpTable } from './table';
import { openHydrated, signUp } from './support';

// Two browsers at one table: the GM and a player, over a real server,
// PostgreSQL and Redis.

test('a move within the rules applies at once and the GM sees it', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  await expect(at(table.gm, table.mine)).toHaveAttribute('aria-label', /Aria, column 3, row 3/);
  // Two cells right: 10 ft of Aria's 30, outside combat: auto-approved.
  await drag(table.player, table.mine, 2);
  await expect(at(table.player, table.mine)).toHaveAttribute('aria-label', /column 5, row 3/);
  await expect(at(table.gm, table.mine)).toHaveAttribute('aria-label', /column 5, row 3/);
  // She turns Aria (her own token turns without the GM); the GM sees it
  // turned, with its name plate upright under it.
  await at(table.player, table.mine).focus();
  await table.player.locator('[data-test="turn-right"]').click();
  await expect(at(table.gm, table.mine).locator('.token-face')).toHaveAttribute('style', /rotate\(45deg\)/);
  await expect(at(table.gm, table.mine).locator('.token-name')).toHaveText('Aria');
  // Nobody is offered to turn the GM's goblin but the GM.
  await at(table.player, table.goblin).focus();
  await expect(table.player.locator('[data-test="turn-right"]')).toHaveCount(0);
  await table.gm.screenshot({ path: testInfo.outputPath('map.png') });
});

test('a player folds the panels she does not need and puts the tools away; the page keeps it', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  const { player } = table;
  const log = player.locator('details[data-fold="log"]');
  await expect(log).toHaveAttribute('open', '');
  await log.locator('summary').click();
  await expect(player.locator('[data-test="log"]')).toBeHidden();
  await expect(player.getByRole('heading', { name: 'Chat and dice' })).toBeVisible();
  const map = player.locator('.map-viewport');
  const narrow = (await map.boundingBox())!.width;
  await player.locator('[data-test="tools-toggle"]').click();
  await expect(player.locator('[data-test="tools-toggle"]')).toHaveAttribute('aria-pressed', 'true');
  await expect(player.locator('.table-side')).toBeHidden();
  await expect.poll(async () => (await map.boundingBox())!.width).toBeGreaterThan(narrow + 200);
  await player.screenshot({ path: testInfo.outputPath('tools-hidden.png') });
  // Kept on this device: after a reload the tools stay away, and once
  // back, the log is still folded while the sheet is open.
  await player.reload();
  await expect(player.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(player.locator('.table-side')).toBeHidden();
  await player.locator('[data-test="tools-toggle"]').click();
  await expect(player.locator('.table-side')).toBeVisible();
  await expect(player.locator('details[data-fold="log"]')).not.toHaveAttribute('open', '');
  await expect(player.locator('details[data-fold="initiative"]')).toHaveAttribute('open', '');
});

test('a move that needs the GM waits, is approved, and both see it', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  // Eight cells is 40 ft: beyond Aria's speed, so it waits for the GM.
  await drag(table.player, table.mine, 8);
  await expect(table.player.locator('[data-test="toast"]').last()).toContainText('farther than the token');
  // Shown to the player at once, as a pending move.
  await expect(at(table.player, table.mine)).toHaveAttribute('aria-label', /column 11, row 3/);
  const queued = table.gm.locator('[data-test="queued"]');
  await expect(queued).toHaveCount(1);
  await expect(queued).toContainText('move Aria east');
  // The GM's map draws where it would go, with the distance.
  await expect(table.gm.locator(`[data-pending="${table.mine}"]`)).toContainText('40 ft');
  await expect(table.player.locator('[data-pending]')).toHaveCount(0);
  await table.gm.locator('.battle-map').screenshot({ path: testInfo.outputPath('pending-move.png') });
  await table.gm.locator('[data-test="gm-panel"]').screenshot({ path: testInfo.outputPath('gm-panel.png') });
  await expect(queued.locator('[data-test="queued-context"]')).toContainText('40 ft (speed 30 ft)');
  await queued.locator('[data-test="approve"]').click();
  await expect(queued).toHaveCount(0);
  await expect(table.gm.locator('[data-pending]')).toHaveCount(0);
  await expect(at(table.gm, table.mine)).toHaveAttribute('aria-label', /column 11, row 3/);
  await expect(at(table.player, table.mine)).toHaveAttribute('aria-label', /column 11, row 3/);
  // The decision is told to the player who asked.
  await expect(table.player.locator('[data-test="toast"]').last()).toContainText(
    'Approved: move Aria to column 11, row 3',
  );
});

test('the GM shortens a move before approving it, and the player is told', async ({ browser }) => {
  const table = await setUpTable(browser);
  await drag(table.player, table.mine, 8);
  const queued = table.gm.locator('[data-test="queued"]');
  await expect(queued).toHaveCount(1);
  await queued.locator('[data-test="modify-column"]').fill('6');
  await queued.locator('[data-test="approve-changed"]').click();
  await expect(queued).toHaveCount(0);
  await expect(at(table.gm, table.mine)).toHaveAttribute('aria-label', /column 6, row 3/);
  await expect(at(table.player, table.mine)).toHaveAttribute('aria-label', /column 6, row 3/);
  await expect(table.player.locator('[data-test="toast"]').last()).toContainText(
    'The GM changed \u201cmove Aria to column 11, row 3\u201d before approving it',
  );
});

test('a rejected move goes back where it was, with the reason', async ({ browser }) => {
  const table = await setUpTable(browser);
  await drag(table.player, table.mine, 9);
  await expect(at(table.player, table.mine)).toHaveAttribute('aria-label', /column 12, row 3/);
  const queued = table.gm.locator('[data-test="queued"]');
  await expect(queued).toHaveCount(1);
  // The GM saw the drag as a preview; with the move waiting, the token is
  // drawn where it stands again (a preview nobody renews ends).
  await expect(at(table.gm, table.mine)).toHaveAttribute('style', /translate\(100px, 100px\)/);
  await queued.locator('[data-test="modify-column"]').fill('7');
  await queued.locator('[data-test="reject"]').click();
  await queued.locator('[data-test="reject-reason"]').fill('The river is in the way');
  await queued.locator('[data-test="suggest"]').check();
  await queued.locator('[data-test="confirm-reject"]').click();
  const toast = table.player.locator('[data-test="toast"]').last();
  await expect(toast).toContainText('Rejected: The river is in the way');
  await expect(toast).toContainText('the GM suggests: move Aria to column 7, row 3');
  await expect(at(table.player, table.mine)).toHaveAttribute('aria-label', /column 3, row 3/);
  await expect(at(table.gm, table.mine)).toHaveAttribute('aria-label', /column 3, row 3/);
});

test('chat, server-rolled dice and hit points reach the other browser', async ({ browser }) => {
  const table = await setUpTable(browser);
  const say = async (page: typeof table.gm, line: string) => {
    await page.getByLabel('Say something, or /r 1d20 to roll').fill(line);
    await page.getByRole('button', { name: 'Send' }).click();
  };
  await say(table.gm, 'Welcome to the crossroads');
  await expect(table.player.locator('[data-test="log"] li')).toContainText(['Welcome to the crossroads']);
  await say(table.player, '/r 1d20+2');
  const roll = table.gm.locator('[data-test="log"] li.roll');
  await expect(roll).toHaveCount(1);
  await expect(roll).toContainText(/1d20 ?\+ ?2: \d+ → \d+/);
  // Advantage, keep-highest and labelled parts, as a table writes them.
  await say(table.player, '/r adv+5 to hit, 4d6kh3 fire');
  await expect(roll).toHaveCount(2);
  await expect(roll.last()).toContainText(
    /2d20kh1 \+ 5 to hit: \d+( dropped)?, \d+( dropped)? → \d+; 4d6kh3 fire: (\d+( dropped)?, ){3}\d+( dropped)? → \d+/,
  );
  await expect(roll.last()).toContainText(/dropped.*dropped/);
  // Dice inside a line, rolled by the server where they stand.
  await say(table.player, 'I swing [[1d20+5]] at the goblin');
  await expect(table.gm.locator('[data-test="log"] li.chat').last()).toContainText(
    /I swing \[1d20 \+ 5: \d+ → \d+\] at the goblin/,
  );
  // A whisper to the GM, a blind roll and the GM's own secret roll: each
  // reaches only its readers.
  await say(table.player, '/w gm I pocket the ring');
  const gmLog = table.gm.locator('[data-test="log"] li');
  const playerLog = table.player.locator('[data-test="log"] li');
  await expect(gmLog.filter({ hasText: 'I pocket the ring' })).toContainText('(whisper to the GM)');
  await say(table.player, '/br 1d20+3');
  await expect(playerLog.filter({ hasText: 'rolled blind' })).toHaveCount(1);
  await expect(gmLog.filter({ hasText: /blind: 1d20 \+ 3: \d+ → \d+/ })).toHaveCount(1);
  await say(table.gm, '/gmr 1d100 ambush');
  await expect(gmLog.filter({ hasText: '1d100 ambush' })).toContainText('(GM roll)');
  await say(table.gm, 'After the ambush roll');
  await expect(playerLog.last()).toContainText('After the ambush roll');
  await expect(playerLog.filter({ hasText: /1d20 \+ 3: \d+ →|1d100/ })).toHaveCount(0);
  await say(table.player, '/w Nobody hello');
  await expect(table.player.locator('[data-test="toast"]').last()).toContainText('nobody at this table is called "Nobody"');
  // The GM damages the goblin: the selected token's hit points follow.
  await at(table.gm, table.goblin).focus();
  const selected = table.gm.locator('[data-test="selected-token"]');
  await expect(selected.locator('[data-test="hp"]')).toContainText('HP 10 / 10');
  await selected.getByLabel('Amount').fill('3');
  await selected.getByRole('button', { name: 'Damage' }).click();
  await expect(selected.locator('[data-test="hp"]')).toContainText('HP 7 / 10');
  // A monster's hit points are the GM's: a bar on the GM's token only.
  await expect(at(table.gm, table.goblin).locator('[data-test="token-hp"]')).toHaveAttribute('title', 'HP 7 / 10');
  await at(table.player, table.goblin).focus();
  const theirs = table.player.locator('[data-test="selected-token"]');
  await expect(theirs.locator('[data-test="hp"]')).toHaveText('HP known to the GM');
  await expect(at(table.player, table.goblin).locator('[data-test="token-hp"]')).toHaveCount(0);
  await expect(theirs.locator('[data-test="hp-shown"]')).toHaveCount(0);
  // The GM shows them to everyone: the player's bar appears.
  await selected.locator('[data-test="hp-shown"]').selectOption('everyone');
  await expect(at(table.player, table.goblin).locator('[data-test="token-hp"]')).toHaveAttribute('title', 'HP 7 / 10');
  await expect(theirs.locator('[data-test="hp"]')).toContainText('HP 7 / 10');
  // A condition shows on the token for both, as a mark named by its title.
  await selected.getByPlaceholder('prone').fill('prone');
  await selected.getByRole('button', { name: 'Add condition' }).click();
  await expect(at(table.player, table.goblin).locator('.token-mark[title="prone"]')).toHaveText('P');
});

test("a player changes the sheet at the table through the GM, then rolls a skill the server adds up", async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  const sheet = table.player.locator('[data-test="table-sheet"]');
  await expect(sheet.locator('h2')).toHaveText('Aria: sheet');
  const queued = table.gm.locator('[data-test="queued"]');
  // A changed score waits for the GM (the "Sheets" rule's default).
  const dexterity = sheet.getByLabel('Dexterity', { exact: true });
  await dexterity.fill('14');
  await dexterity.blur();
  await expect(queued).toHaveCount(1);
  await expect(queued).toContainText("set Aria's dexterity to 14");
  await queued.locator('[data-test="approve"]').click();
  await expect(queued).toHaveCount(0);
  await sheet.getByLabel('Proficient in Stealth').click();
  await expect(queued).toContainText('make Aria proficient in Stealth');
  await queued.locator('[data-test="approve"]').click();
  // Dexterity 14 (+2) and proficiency (+2 on a blank sheet).
  const stealth = sheet.locator('[data-check="skill:stealth"]');
  await expect(stealth).toHaveText('+4');
  await expect(sheet.getByLabel('Proficient in Stealth')).toBeChecked();
  await stealth.click();
  const rolled = table.gm.locator('[data-test="log"] li.roll');
  await expect(rolled).toHaveCount(1);
  await expect(rolled).toContainText(/Aria: Stealth: \d+ \+ 4 → \d+/);
  const [face, total] = ((await rolled.textContent()) ?? '').match(/Stealth: (\d+) \+ 4 → (\d+)/)!.slice(1).map(Number);
  expect(total).toBe(face + 4);
  await sheet.screenshot({ path: testInfo.outputPath('table-sheet.png') });
});

test("initiative is rolled by the server, and the player's order leaves out the GM-only token", async ({ browser }) => {
  const table = await setUpTable(browser);
  await table.gm.locator('[data-test="roll-initiative"]').click();
  const order = (page: typeof table.gm) => page.locator('.turn-order li');
  await expect(order(table.gm)).toHaveCount(3);
  await expect(order(table.player)).toHaveCount(2);
  await expect(order(table.player).filter({ hasText: 'Ambusher' })).toHaveCount(0);
  await expect(table.player.locator('#initiative-heading')).toContainText('round 1');
  // Whoever acts first, the GM ends the turn and the next one acts.
  // Each token's total is shown; whoever acts first, the order is by it.
  const totals = await table.gm.locator('[data-test="initiative-total"]').allTextContents();
  expect(totals).toHaveLength(3);
  expect(totals.map(Number)).toEqual([...totals.map(Number)].sort((a, b) => b - a));
  const first = await table.gm.locator('.turn-order li[aria-current="true"] .name').textContent();
  // The player is offered "Next turn" only on Aria's turn.
  await expect(table.player.locator('[data-test="next-turn"]')).toHaveCount(first === 'Aria' ? 1 : 0);
  await table.gm.locator('[data-test="next-turn"]').click();
  await expect(table.gm.locator('.turn-order li[aria-current="true"] .name')).not.toHaveText(first ?? '');
  // The GM ends combat: both tables are back to exploration.
  await table.gm.getByRole('button', { name: 'End combat' }).click();
  await expect(table.player.locator('#initiative-heading')).toHaveText('Initiative');
  await expect(table.gm.locator('.turn-order li')).toHaveCount(0);
});

test('the GM rolls for the monsters and the player rolls for their own character, joining the order', async ({ browser }) => {
  const table = await setUpTable(browser);
  await table.gm.locator('[data-test="roll-initiative-gm"]').click();
  const order = (page: typeof table.gm) => page.locator('.turn-order li');
  await expect(order(table.gm)).toHaveCount(2);
  await expect(order(table.gm).filter({ hasText: 'Aria' })).toHaveCount(0);
  // The player is offered a roll for Aria, and only for her.
  const join = table.player.locator('[data-test="join-initiative"]');
  await expect(join).toHaveCount(1);
  await expect(join).toHaveText('Roll initiative for Aria');
  await join.click();
  // Turns wait for the GM by default: the GM approves the roll.
  const queued = table.gm.locator('[data-test="queued"]');
  await expect(queued).toContainText('roll initiative for Aria');
  await queued.locator('[data-test="approve"]').click();
  await expect(order(table.gm)).toHaveCount(3);
  await expect(order(table.player).filter({ hasText: 'Aria' })).toHaveCount(1);
  await expect(join).toHaveCount(0);
  const totals = await table.gm.locator('[data-test="initiative-total"]').allTextContents();
  expect(totals.map(Number)).toEqual([...totals.map(Number)].sort((a, b) => b - a));
  await expect(table.gm.locator('[data-test="log"] li.roll').last()).toContainText(/Aria rolls initiative: \d+ \+ 0 → \d+/);
});

test('the GM turns the fog on and off, and the player sees only what is revealed', async ({ browser }) => {
  const table = await setUpTable(browser);
  await expect(at(table.player, table.goblin)).toBeVisible();
  const toggle = table.gm.getByRole('toolbar', { name: 'Map tools' }).getByRole('button', { name: /^Fog o/ });
  await expect(toggle).toHaveText('Fog off');
  await toggle.click();
  await expect(toggle).toHaveText('Fog on');
  // Nothing is revealed yet: the goblin is under the fog for the player,
  // while the player's own token stays theirs to see: the fog is lifted
  // over its cell, and over its cell only.
  await expect(table.player.locator(`[data-token="${table.goblin}"]`)).toHaveCount(0);
  await expect(at(table.player, table.mine)).toBeVisible();
  const aria = await at(table.player, table.mine).boundingBox();
  if (!aria) throw new Error('Aria is not on screen');
  await expect.poll(() => fogAt(table.player, aria.x + 25, aria.y + 25)).toBe(0);
  expect(await fogAt(table.player, aria.x + 225, aria.y + 25)).toBe(255);
  await expect(at(table.gm, table.goblin)).toBeVisible();
  await toggle.click();
  await expect(toggle).toHaveText('Fog off');
  await expect(at(table.player, table.goblin)).toBeVisible();
});

test("a GM-only token is never in the player's page nor on the player's socket", async ({ browser }) => {
  const frames: string[] = [];
  const table = await setUpTable(browser);
  // A fresh page of the player's, watching its socket from the start.
  const page = await table.player.context().newPage();
  page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));
  await page.goto(`/sessions/${table.session}`);
  await expect(page.locator('[data-test="connection"]')).toHaveText('Connected');
  await expect(at(page, table.goblin)).toBeVisible();
  // The GM moves the secret token and the goblin.
  await drag(table.gm, table.secret, 1);
  await drag(table.gm, table.goblin, 1);
  await expect(at(page, table.goblin)).toHaveAttribute('aria-label', /column 8, row 3/);
  await expect(at(table.gm, table.secret)).toHaveAttribute('aria-label', /Ambusher, column 10, row 7, GM only/);
  expect(frames.length).toBeGreaterThan(2);
  expect(frames.some((frame) => frame.includes(table.secret))).toBe(false);
  expect(await page.content()).not.toContain(table.secret);
  expect(await page.content()).not.toContain('Ambusher');
  await expect(page.locator(`[data-token="${table.secret}"]`)).toHaveCount(0);
});

test('a player who goes offline, acts, and comes back converges with the GM', async ({ browser }) => {
  const table = await setUpTable(browser);
  const context = table.player.context();
  await context.setOffline(true);
  await expect(table.player.locator('[data-test="connection"]')).toContainText('Offline');
  // Moved while offline: shown at once, queued.
  await drag(table.player, table.mine, 1);
  await expect(at(table.player, table.mine)).toHaveAttribute('aria-label', /column 4, row 3/);
  await expect(table.player.locator('[data-test="connection"]')).toContainText('1 request');
  // Meanwhile the GM moves the goblin.
  await drag(table.gm, table.goblin, 2);
  await expect(at(table.gm, table.goblin)).toHaveAttribute('aria-label', /column 9, row 3/);
  await context.setOffline(false);
  await expect(table.player.locator('[data-test="connection"]')).toHaveText('Connected', { timeout: 20_000 });
  await expect(at(table.gm, table.mine)).toHaveAttribute('aria-label', /column 4, row 3/);
  await expect(at(table.player, table.goblin)).toHaveAttribute('aria-label', /column 9, row 3/);
});

test('the GM ends the session: both are told, and the next one starts where it stopped', async ({ browser }) => {
  const table = await setUpTable(browser);
  await drag(table.player, table.mine, 2);
  await expect(at(table.gm, table.mine)).toHaveAttribute('aria-label', /column 5, row 3/);
  await table.gm.locator('[data-test="end-session"]').click();
  await table.gm.locator('[data-test="confirm-end-session"]').click();
  for (const page of [table.gm, table.player]) {
    await expect(page.locator('[data-test="session-ended"]')).toBeVisible();
    await expect(page.locator('[data-test="connection"]')).toHaveText('Session ended');
  }
  const next = await call<string>(table.gm.request, 'sessions/start', {
    campaign: table.campaign,
    encounter: table.encounter,
  });
  await table.player.goto(`/sessions/${next}`);
  await expect(table.player.locator('[data-test="connection"]')).toHaveText('Connected');
  await expect(at(table.player, table.mine)).toHaveAttribute('aria-label', /column 5, row 3/);
});

test('the GM moves the table to another encounter and the player follows without a click', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  const { gm, player } = table;
  // Set-up: a second encounter of the campaign, with scenery on it.
  const cave = await call<string>(gm.request, 'encounters/create', {
    campaign: table.campaign,
    name: 'Goblin cave',
    map: { grid_size: 50 },
    image: null,
  });
  const mouth = await call<string>(gm.request, 'encounters/place_token', {
    campaign: table.campaign,
    encounter: cave,
    token: { actor: null, name: 'Cave mouth', position: { x: 200, y: 200 }, visibility: 'visible', scale: 1 },
  });
  await expect(player.locator('[data-test="move-table"]')).toHaveCount(0);

  await gm.locator('[data-test="move-table"]').click();
  const to = gm.locator('[data-test="move-table-to"]');
  await expect(to.locator('option', { hasText: 'Goblin cave' })).toHaveCount(1);
  await expect(to.locator('option', { hasText: 'Crossroads' })).toHaveCount(0);
  await to.selectOption({ label: 'Goblin cave' });
  await gm.screenshot({ path: testInfo.outputPath('move-table.png') });
  await gm.locator('[data-test="confirm-move-table"]').click();
  for (const page of [gm, player]) {
    await expect(page).not.toHaveURL(new RegExp(table.session));
    await expect(page).toHaveURL(/\/sessions\//);
    await expect(page.locator('[data-test="connection"]')).toHaveText('Connected');
    await expect(page.locator(`[data-token="${mouth}"]`)).toBeVisible();
    await expect(page.locator(`[data-token="${table.goblin}"]`)).toHaveCount(0);
  }
  await player.screenshot({ path: testInfo.outputPath('moved-player.png') });
});

test('the GM removes a player from the campaign page, and their open table closes at once', async ({ browser }) => {
  const table = await setUpTable(browser);
  await openHydrated(table.gm, `/campaigns/${table.campaign}`);
  const members = table.gm.locator('.member-list li');
  await expect(members).toHaveCount(2);
  // Once removed, each of the player's tries to reconnect is refused (403),
  // which the browser logs.
  allowConsoleErrors(/Unexpected response code: 403/);
  table.gm.once('dialog', (dialog) => dialog.accept());
  await table.gm.locator('[data-test="remove-member"]').click();
  await expect(members).toHaveCount(1);
  // The player's socket was closed by the server, and it cannot come back.
  await expect(table.player.locator('[data-test="connection"]')).not.toHaveText('Connected', { timeout: 5_000 });
  await table.player.waitForTimeout(1_500);
  await expect(table.player.locator('[data-test="connection"]')).not.toHaveText('Connected');
});

test('a logged-out visitor and an outsider opening a table link are told why, and no socket is opened', async ({ browser }) => {
  const table = await setUpTable(browser);
  const visitor = await (await browser.newContext()).newPage();
  const sockets: string[] = [];
  visitor.on('websocket', (socket) => sockets.push(socket.url()));
  const problems = await openHydrated(visitor, `/sessions/${table.session}`, { expectedStatuses: [401, 403] });
  await expect(visitor.locator('[data-test="table-refused"]')).toContainText('Log in to sit at this table.');
  await expect(visitor.locator('.table-page')).toBeHidden();

  const outsider = await (await browser.newContext()).newPage();
  outsider.on('websocket', (socket) => sockets.push(socket.url()));
  await signUp(outsider, 'out');
  const outsiderProblems = await openHydrated(outsider, `/sessions/${table.session}`, { expectedStatuses: [401, 403] });
  await expect(outsider.locator('[data-test="table-refused"]')).toContainText('You are not at this table');
  await expect(outsider.locator(`[data-token="${table.goblin}"]`)).toHaveCount(0);
  expect(sockets).toEqual([]);
  expect([...problems, ...outsiderProblems]).toEqual([]);
});

test('the GM adds a monster from the compendium to the running map, moves a group, duplicates and removes', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  const place = table.gm.locator('[data-test="place-on-map"]');
  await expect(table.player.locator('[data-test="place-on-map"]')).toHaveCount(0);
  // A goblin from the SRD: made in the campaign, put in the middle of the view.
  await place.locator('[data-test="monster-search"]').fill('goblin');
  await place.getByRole('button', { name: 'Find' }).click();
  await place.getByRole('button', { name: 'Add Goblin Warrior to the map', exact: true }).click();
  const tokens = (page: typeof table.gm) => page.locator('[data-token]');
  await expect(tokens(table.gm)).toHaveCount(4);
  await expect(tokens(table.player)).toHaveCount(3);
  const added = table.gm.locator('[data-test="selected-token"] h2');
  await expect(added).toHaveText('Goblin Warrior');
  // Its hit points are the GM's: a bar for the GM only.
  const newest = await table.gm.locator('[data-token].selected').getAttribute('data-token');
  expect(newest).toBeTruthy();
  await expect(at(table.gm, newest!).locator('[data-test="token-hp"]')).toHaveAttribute('title', /^HP \d+ \/ \d+$/);
  await expect(at(table.player, newest!)).toBeVisible();
  await expect(at(table.player, newest!).locator('[data-test="token-hp"]')).toHaveCount(0);

  // Shift-click the first goblin too: one drag moves both, one request.
  await at(table.gm, table.goblin).click({ modifiers: ['Shift'] });
  await expect(table.gm.locator('[data-test="group-hint"]')).toContainText('2 tokens selected');
  const before = await at(table.player, newest!).getAttribute('aria-label');
  await drag(table.gm, table.goblin, 0, 2);
  await expect(at(table.player, table.goblin)).toHaveAttribute('aria-label', /Goblin, column 7, row 5/);
  await expect(at(table.player, newest!)).not.toHaveAttribute('aria-label', before!);

  // Duplicate the first goblin, then take the copy off the map.
  await table.gm.keyboard.press('Escape');
  await expect(table.gm.locator('[data-test="group-hint"]')).toHaveCount(0);
  await at(table.gm, table.goblin).click();
  await expect(table.player.locator('[data-test="duplicate-token"]')).toHaveCount(0);
  await table.gm.locator('[data-test="duplicate-token"]').click();
  await expect(tokens(table.player)).toHaveCount(4);
  await table.gm.screenshot({ path: testInfo.outputPath('live-tools.png') });
  await table.gm.locator('[data-test="remove-token"]').click();
  await expect(tokens(table.player)).toHaveCount(3);
  await expect(tokens(table.gm)).toHaveCount(4);
});

test('a long press on the map pings the place for everyone who sees it', async ({ browser }) => {
  const table = await setUpTable(browser);
  const viewport = table.gm.locator('.map-viewport');
  const box = await viewport.boundingBox();
  if (!box) throw new Error('no map');
  // An empty place of the map, held still past the long press.
  await table.gm.mouse.move(box.x + 600, box.y + 450);
  await table.gm.mouse.down();
  await table.gm.waitForTimeout(800);
  await table.gm.mouse.up();
  await expect(table.gm.locator('[data-test="ping"]')).toHaveCount(1);
  const theirs = table.player.locator('[data-test="ping"]');
  await expect(theirs).toHaveCount(1);
  await expect(theirs).toContainText('Player gm_');
  // It fades: gone a moment later.
  await expect(theirs).toHaveCount(0, { timeout: 5000 });
  // A drag is a pan, not a ping.
  await table.gm.mouse.move(box.x + 500, box.y + 400);
  await table.gm.mouse.down();
  await table.gm.mouse.move(box.x + 560, box.y + 420, { steps: 5 });
  await table.gm.waitForTimeout(800);
  await table.gm.mouse.up();
  await expect(table.player.locator('[data-test="ping"]')).toHaveCount(0);
  await expect(table.gm.locator('[data-test="ping"]')).toHaveCount(0);
});

test('the GM takes a move back with Ctrl+Z and puts it back with Ctrl+Shift+Z; both browsers follow', async ({ browser }) => {
  const table = await setUpTable(browser);
  const { gm, player } = table;
  const undo = gm.locator('[data-test="undo"]');
  const redo = gm.locator('[data-test="redo"]');
  await expect(undo).toBeDisabled();
  await drag(gm, table.goblin, 2);
  for (const page of [gm, player]) {
    await expect(at(page, table.goblin)).toHaveAttribute('aria-label', /column 9, row 3/);
  }
  await expect(undo).toBeEnabled();
  await gm.locator('.map-viewport').focus();
  await gm.keyboard.press('Control+z');
  for (const page of [gm, player]) {
    await expect(at(page, table.goblin)).toHaveAttribute('aria-label', /column 7, row 3/);
  }
  await expect(redo).toBeEnabled();
  await gm.keyboard.press('Control+Shift+z');
  for (const page of [gm, player]) {
    await expect(at(page, table.goblin)).toHaveAttribute('aria-label', /column 9, row 3/);
  }
  // The button does the same as the key.
  await undo.click();
  await expect(at(player, table.goblin)).toHaveAttribute('aria-label', /column 7, row 3/);
  // Nothing older of the GM's: the button rests.
  await expect(undo).toBeDisabled();
  // A player has neither.
  await expect(player.locator('[data-test="undo"]')).toHaveCount(0);

  // By choice, any member's change: the GM takes Aria's move back from
  // the list of recent changes.
  await drag(player, table.mine, 2);
  await expect(at(gm, table.mine)).toHaveAttribute('aria-label', /column 5, row 3/);
  const latest = gm.locator('[data-test="recent-change"]').first();
  await expect(latest).toContainText('Aria: moved');
  await latest.locator('[data-test="undo-recent"]').click();
  for (const page of [gm, player]) {
    await expect(at(page, table.mine)).toHaveAttribute('aria-label', /column 3, row 3/);
  }
  await expect(player.locator('[data-test="recent-changes"]')).toHaveCount(0);
});
