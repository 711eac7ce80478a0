import { expect, test } from './fixtures';
import { setUpTable } from './table';
import { openHydrated } from './support';

// Verifiable dice: sealed at the table, checked after the session in each
// member's own browser, over the rolls that member saw.

test('the dice are sealed at the table, and after the session each member checks the rolls they saw', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  const { gm, player } = table;
  const say = async (page: typeof gm, line: string) => {
    await page.getByLabel('Say something, or /r 1d20 to roll').fill(line);
    await page.getByRole('button', { name: 'Send' }).click();
  };
  // Both are shown the same seal before the first roll.
  const seal = gm.locator('[data-test="dice-seal"]');
  await expect(seal).toContainText('Dice sealed');
  const title = (await seal.getAttribute('title')) ?? '';
  const hash = /hash is ([0-9a-f]{64})/.exec(title)?.[1] ?? '';
  expect(hash).toHaveLength(64);
  await expect(player.locator('[data-test="dice-seal"]')).toHaveAttribute('title', title);

  // Three rolls: the player's open one, the player's blind one (the GM's
  // only), and the GM's dice inside a line.
  await say(player, '/r 4d6kh3 + 2');
  await say(player, '/br 1d20 perception');
  await say(gm, 'The trap fires [[1d20+5]]');
  const gmLog = gm.locator('[data-test="log"] li');
  await expect(gmLog.filter({ hasText: /4d6kh3 \+ 2: / })).toHaveCount(1);
  await expect(gmLog.filter({ hasText: /blind: 1d20 perception/ })).toHaveCount(1);
  await expect(player.locator('[data-test="log"] li').filter({ hasText: 'The trap fires' })).toHaveCount(1);

  // While the session runs the campaign page shows its hash, not its seed.
  const campaignPage = `/campaigns/${table.campaign}`;
  const lobby = await (await browser.newContext({ storageState: await player.context().storageState() })).newPage();
  await openHydrated(lobby, campaignPage);
  const running = lobby.locator('[data-test="dice-session"]');
  await expect(running).toHaveCount(1);
  await expect(running).toContainText('running');
  await expect(running.locator('code')).toHaveAttribute('title', hash);
  await expect(running.locator('[data-test="verify-dice"]')).toHaveCount(0);

  await gm.locator('[data-test="end-session"]').click();
  await gm.locator('[data-test="confirm-end-session"]').click();
  await expect(player.locator('[data-test="session-ended"]')).toContainText('Fair dice');

  // Each checks in their own browser: the player her open roll and the
  // GM's line (4 + 1 dice), the GM all three (4 + 1 + 1).
  for (const [page, verdict] of [
    [player, /✓ All 2 rolls \(5 dice\) you saw match/],
    [gm, /✓ All 3 rolls \(6 dice\) you saw match/],
  ] as const) {
    await openHydrated(page, campaignPage);
    const session = page.locator('[data-test="dice-session"]');
    await expect(session).toContainText('ended');
    await session.locator('[data-test="verify-dice"]').click();
    await expect(session.locator('[data-test="dice-verdict"]')).toContainText(verdict);
  }
  await gm.locator('[data-test="fair-dice"]').screenshot({ path: testInfo.outputPath('fair-dice.png') });
});
