import { expect, test } from './fixtures';
import { openHydrated } from './support';
import { at, drag, setUpTable } from './table';

// Replay: the GM scrubs through the evening while it runs; once it ends,
// the player replays it too and sees what she saw then, never the GM's
// secret token or what it did.

test('the GM replays the evening while it runs; the player replays it once ended, without the secret token', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  const { gm, player } = table;
  // Three commits: Aria two cells right, the GM's secret ambusher one
  // right, the goblin one down.
  await drag(player, table.mine, 2);
  await expect(at(gm, table.mine)).toHaveAttribute('aria-label', /column 5, row 3/);
  await drag(gm, table.secret, 1);
  await expect(at(gm, table.secret)).toHaveAttribute('aria-label', /column 10, row 7/);
  await drag(gm, table.goblin, 0, 1);
  await expect(at(player, table.goblin)).toHaveAttribute('aria-label', /column 7, row 4/);

  // The GM opens the replay from the table bar, in a new tab.
  const [replay] = await Promise.all([
    gm.context().waitForEvent('page'),
    gm.locator('.table-bar [data-test="replay-link"]').click(),
  ]);
  await expect(replay.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const where = replay.locator('[data-test="replay-where"]');
  await expect(where).toHaveText(/^Version 0 of 3 — the start$/);
  await expect(at(replay, table.mine)).toHaveAttribute('aria-label', /column 3, row 3/);
  await expect(at(replay, table.secret)).toHaveAttribute('aria-label', /column 9, row 7/);
  // The second step: Aria moved, the ambusher not yet.
  await replay.locator('[data-test="replay-step"]').nth(1).click();
  await expect(where).toHaveText(/^Version 2 of 3 — .* · Player gm_\S+ · move token$/);
  await expect(at(replay, table.mine)).toHaveAttribute('aria-label', /column 5, row 3/);
  await expect(at(replay, table.secret)).toHaveAttribute('aria-label', /column 10, row 7/);
  await expect(at(replay, table.goblin)).toHaveAttribute('aria-label', /column 7, row 3/);
  // Back to the first, then play to the end.
  await replay.locator('[data-test="replay-step"]').first().click();
  await expect(at(replay, table.secret)).toHaveAttribute('aria-label', /column 9, row 7/);
  await expect(at(replay, table.mine)).toHaveAttribute('aria-label', /column 5, row 3/);
  await replay.locator('[data-test="replay-play"]').click();
  await expect(where).toHaveText(/^Version 3 of 3/);
  await expect(replay.locator('[data-test="replay-play"]')).toHaveAttribute('aria-pressed', 'false');
  await expect(at(replay, table.goblin)).toHaveAttribute('aria-label', /column 7, row 4/);
  // A replay changes nothing: a drag on it asks nothing of the table.
  await drag(replay, table.goblin, 2);
  await expect(at(gm, table.goblin)).toHaveAttribute('aria-label', /column 7, row 4/);
  await replay.screenshot({ path: testInfo.outputPath('replay-gm.png') });
  await replay.close();

  // A player may not replay a running session: the campaign page's link
  // says why.
  const campaignPage = await player.context().newPage();
  await openHydrated(campaignPage, `/campaigns/${table.campaign}`, { expectedStatuses: [403] });
  await campaignPage.locator('[data-test="fair-dice"] [data-test="replay-link"]').first().click();
  await expect(campaignPage.locator('[data-test="replay-error"]')).toHaveText(/opens when the GM ends the session/);
  await expect(campaignPage.locator('[data-token]')).toHaveCount(0);
  await campaignPage.close();

  const frames: string[] = [];
  player.on('response', async (response) => {
    if (response.url().includes('/api/sessions/replay')) frames.push(await response.text());
  });

  // The GM ends the session; the player replays it from the notice.
  await gm.locator('[data-test="end-session"]').click();
  await gm.locator('[data-test="confirm-end-session"]').click();
  await expect(player.locator('[data-test="session-ended"]')).toBeVisible();
  await player.locator('[data-test="session-ended"] [data-test="replay-link"]').click();
  await expect(player).toHaveURL(/\/replay$/);
  await expect(player.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const hers = player.locator('[data-test="replay-where"]');
  // Every version, as live; the ambusher's move is not among her steps.
  await expect(hers).toHaveText(/^Version 0 of 3/);
  await expect(player.locator('[data-test="replay-step"]')).toHaveCount(2);
  await expect(at(player, table.mine)).toHaveAttribute('aria-label', /column 3, row 3/);
  await player.locator('[data-test="replay-scrubber"]').fill('3');
  await expect(hers).toHaveText(/^Version 3 of 3 — .* · Player gm_\S+ · move token$/);
  await expect(at(player, table.goblin)).toHaveAttribute('aria-label', /column 7, row 4/);
  await player.locator('[data-test="replay-scrubber"]').fill('2');
  await expect(hers).toHaveText(/^Version 2 of 3 — .* · something you did not see$/);
  await expect(player.locator(`[data-token="${table.secret}"]`)).toHaveCount(0);
  expect(frames.join('')).not.toContain(table.secret);
  expect(frames.join('')).not.toContain('Ambusher');
  await player.screenshot({ path: testInfo.outputPath('replay-player.png') });
});
