import { allowConsoleErrors, expect, test, type Page } from './fixtures';
import { redisNode, type ServerNode } from './nodes';
import { at, centreOf, drag, setUpTable } from './table';

const connection = (page: Page) => page.locator('[data-test="connection"]');

/** Presses a token, drags it `first` cells right, runs `meanwhile`, then `rest` cells more and drops it. */
async function dragAcross(page: Page, token: string, first: number, rest: number, meanwhile: () => Promise<void>) {
  const { x, y } = await centreOf(page, token);
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= 4; i++) await page.mouse.move(x + (first * 50 * i) / 4, y);
  await meanwhile();
  for (let i = 1; i <= 4; i++) await page.mouse.move(x + first * 50 + (rest * 50 * i) / 4, y);
  await page.mouse.up();
}

test('on two Redis nodes, the network drops mid-drag and mid-approval, the owner node is killed, and both browsers converge', async ({
  browser,
}, testInfo) => {
  test.setTimeout(120_000);
  // Dropped networks and a killed node are what this test is about: the
  // browser logs each failed socket and fetch.
  allowConsoleErrors(/WebSocket connection to .* failed|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE/);
  const a: ServerNode = await redisNode(testInfo.outputPath('node-a.log'));
  const b: ServerNode = await redisNode(testInfo.outputPath('node-b.log'));
  try {
    await a.start();
    await b.start();
    // The GM opens the table first, on A, which so owns the session; the
    // player is on B, which forwards her to A.
    const table = await setUpTable(browser, undefined, { gm: a.url, player: b.url });
    const { gm, player } = table;

    // The player's network drops in the middle of her drag: the drop is
    // shown at once and waits in her outbox, then applies when she is back.
    await dragAcross(player, table.mine, 1, 1, () => player.context().setOffline(true));
    await expect(connection(player)).toContainText('Offline: 1 request will be sent');
    await expect(at(player, table.mine)).toHaveAttribute('aria-label', /column 5, row 3/);
    await player.context().setOffline(false);
    await expect(connection(player)).toHaveText('Connected', { timeout: 20_000 });
    await expect(at(gm, table.mine)).toHaveAttribute('aria-label', /column 5, row 3/);

    // A move too long for the rules waits for the GM, whose network drops
    // the moment they approve: the approval either arrived or the request
    // is still in the queue when they are back; either way it applies once.
    await drag(player, table.mine, 8);
    const queued = gm.locator('[data-test="queued"]');
    await expect(queued).toHaveCount(1);
    await queued.locator('[data-test="approve"]').click();
    await gm.context().setOffline(true);
    await expect(connection(gm)).toContainText('Offline');
    await gm.context().setOffline(false);
    await expect(connection(gm)).toHaveText('Connected', { timeout: 20_000 });
    if ((await queued.count()) > 0) await queued.locator('[data-test="approve"]').click();
    await expect(queued).toHaveCount(0);
    await expect(at(player, table.mine)).toHaveAttribute('aria-label', /column 13, row 3/);
    await expect(at(gm, table.mine)).toHaveAttribute('aria-label', /column 13, row 3/);
    await expect(player.locator('[data-test="connection"]')).toHaveText('Connected');

    // The owner dies. B stops forwarding once A's lease runs out, the
    // player's page reconnects to B, which takes the session over from the
    // log, and her next move applies there.
    await a.kill();
    await expect(connection(gm)).toContainText('Offline');
    await expect(connection(player)).toHaveText('Connected', { timeout: 20_000 });
    await drag(player, table.mine, -1);
    await expect(connection(player)).toHaveText('Connected', { timeout: 20_000 });
    await expect(at(player, table.mine)).toHaveAttribute('aria-label', /column 12, row 3/);
    // A comes back; the GM's page reconnects to it, is forwarded to B, the
    // owner now, and catches up.
    await a.start();
    await expect(connection(gm)).toHaveText('Connected', { timeout: 30_000 });
    await expect(at(gm, table.mine)).toHaveAttribute('aria-label', /column 12, row 3/);
    await drag(gm, table.goblin, 1);
    await expect(at(player, table.goblin)).toHaveAttribute('aria-label', /column 8, row 3/);
    await expect(at(gm, table.goblin)).toHaveAttribute('aria-label', /column 8, row 3/);
  } finally {
    await a.kill();
    await b.kill();
  }
});
