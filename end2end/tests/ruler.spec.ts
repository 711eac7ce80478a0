import { expect, test } from './fixtures';
import { setUpTable } from './table';

// The ruler: drawn by one browser, seen live by the other, through
// waypoints, put away with Escape; a dragged token shows its way against
// its speed.

test('a player measures through a waypoint, the GM sees it live, and a drag shows its distance against the speed', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  const { gm, player } = table;
  const aria = player.locator(`[data-token="${table.mine}"]`);
  const box = await aria.boundingBox();
  if (!box) throw new Error('Aria is not on screen');
  // The middle of Aria's cell; cells are 50 px at zoom 1.
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  const stroke = async (from: [number, number], to: [number, number]) => {
    await player.mouse.move(x + from[0] * 50, y + from[1] * 50);
    await player.mouse.down();
    for (let i = 1; i <= 6; i++) {
      await player.mouse.move(
        x + (from[0] + ((to[0] - from[0]) * i) / 6) * 50,
        y + (from[1] + ((to[1] - from[1]) * i) / 6) * 50,
      );
    }
    await player.mouse.up();
  };

  await player.locator('[data-test="tool-ruler"]').click();
  await expect(player.locator('[data-test="tool-ruler"]')).toHaveAttribute('aria-pressed', 'true');
  // Three cells right and one down: one diagonal counts 5 ft (5e).
  await stroke([0, 0], [3, 1]);
  await expect(player.locator('[data-test="ruler"]')).toHaveText('15 ft');
  const theirs = gm.locator('[data-test="ruler"]');
  await expect(theirs).toHaveText(/^15 ft · Player pl_/);
  // From its end, three down: a waypoint, 30 ft in all.
  await stroke([3, 1], [3, 4]);
  await expect(player.locator('[data-test="ruler"]')).toHaveText('30 ft');
  await expect(theirs).toHaveText(/^30 ft · /);
  await expect(gm.locator('.ruler polyline')).toHaveAttribute('points', /^(\S+ ){2}\S+$/);
  await gm.screenshot({ path: testInfo.outputPath('ruler.png') });
  // Escape puts it away for both.
  await player.locator('.map-viewport').focus();
  await player.keyboard.press('Escape');
  await expect(player.locator('[data-test="ruler"]')).toHaveCount(0);
  await expect(theirs).toHaveCount(0);

  // Back to moving: dragging Aria shows her way against her 30 ft.
  await player.getByRole('toolbar', { name: 'Map tools' }).getByRole('button', { name: /Move/ }).click();
  await player.mouse.move(x, y);
  await player.mouse.down();
  for (let i = 1; i <= 7; i++) await player.mouse.move(x + i * 50, y);
  await expect(player.locator('[data-test="ruler"]')).toHaveText('35 / 30 ft');
  await expect(player.locator('.ruler.over')).toHaveCount(1);
  for (let i = 6; i >= 4; i--) await player.mouse.move(x + i * 50, y);
  await expect(player.locator('[data-test="ruler"]')).toHaveText('20 / 30 ft');
  await expect(player.locator('.ruler.over')).toHaveCount(0);
  await player.mouse.up();
  await expect(player.locator('[data-test="ruler"]')).toHaveCount(0);
  // The drag's distance is the dragger's: the GM saw no ruler of it.
  await expect(theirs).toHaveCount(0);
});
