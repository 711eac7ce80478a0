import { expect, test, type Page } from './fixtures';
import { centreOf, setUpTable } from './table';

// Walls at the table: the GM builds a wall with a door in it and makes
// walls hide, and the goblin beyond the door leaves the player's map; the
// player's browser refuses her move through the closed door, she opens
// the door from beside it, sees the goblin again and walks through; the
// GM locks it and her click is refused; a click with the wall tool
// removes a wall.

test('the GM walls off the room; the player opens the door beside her and walks through; a locked door stays shut', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  const { gm, player } = table;
  // The goblin, who stays put, has its top-left corner at map point
  // (300, 100); Aria's is at (100, 100); cells are 50 px at zoom 1.
  const screenOf = async (page: Page) => {
    const box = await page.locator(`[data-token="${table.goblin}"]`).boundingBox();
    if (!box) throw new Error('the goblin is not on screen');
    return (x: number, y: number): [number, number] => [box.x + x - 300, box.y + y - 100];
  };
  const tools = (page: Page) => page.getByRole('toolbar', { name: 'Map tools' });
  const build = async (from: [number, number], to: [number, number]) => {
    const screen = await screenOf(gm);
    // A little off the corners: the tool snaps the ends onto them.
    await gm.mouse.move(...screen(from[0] + 3, from[1] - 4));
    await gm.mouse.down();
    for (let i = 1; i <= 8; i++) {
      await gm.mouse.move(...screen(from[0] + ((to[0] - from[0]) * i) / 8 + 3, from[1] + ((to[1] - from[1]) * i) / 8 - 4));
    }
    await gm.mouse.up();
  };
  const lines = (page: Page) => page.locator('.map-walls [data-wall]');
  const door = (page: Page) => page.locator('[data-door]');

  // Only the GM has the wall tool.
  await expect(tools(player).locator('[data-test="tool-walls"]')).toHaveCount(0);
  await tools(gm).locator('[data-test="tool-walls"]').click();
  await build([200, 50], [200, 100]);
  await tools(gm).locator('[data-test="wall-kind-wall-door"]').click();
  await build([200, 100], [200, 150]);
  await tools(gm).locator('[data-test="wall-kind-wall-solid"]').click();
  await build([200, 150], [200, 400]);
  await expect(lines(gm)).toHaveCount(3);
  await expect(gm.locator('.map-walls .wall-door')).toHaveCount(1);
  // The player has the door, not the GM's lines.
  await expect(door(player)).toHaveAttribute('data-state', 'closed');
  await expect(lines(player)).toHaveCount(0);
  await gm.screenshot({ path: testInfo.outputPath('walls-gm.png') });

  // The GM makes the walls hide: the goblin, beyond the closed door,
  // leaves the player's map (and her browser); the GM still has it.
  const goblin = (page: Page) => page.locator(`[data-token="${table.goblin}"]`);
  await expect(goblin(player)).toBeVisible();
  await tools(gm).locator('[data-test="vision"]').click();
  await expect(tools(gm).locator('[data-test="vision"]')).toHaveAttribute('aria-pressed', 'true');
  await expect(goblin(player)).toHaveCount(0);
  await expect(goblin(gm)).toBeVisible();

  // Two cells right goes through the closed door: refused at once, in
  // her browser, and Aria stays.
  const drag = async (cells: number) => {
    const { x, y } = await centreOf(player, table.mine);
    await player.mouse.move(x, y);
    await player.mouse.down();
    for (let i = 1; i <= 8; i++) await player.mouse.move(x + (cells * 50 * i) / 8, y);
    await player.mouse.up();
  };
  const start = await centreOf(player, table.mine);
  // Where the GM sees her before any drag (a drag shows the GM where she
  // is dragged, for a moment after it ends).
  const gmStart = (await centreOf(gm, table.mine)).x;
  await drag(2);
  await expect(player.locator('[data-test="toast"]').last()).toContainText('closed door is in the way');
  await expect.poll(async () => (await centreOf(player, table.mine)).x).toBeCloseTo(start.x, 0);

  // She opens it from beside it; both see it open; now she walks through.
  await door(player).click();
  await expect(door(gm)).toHaveAttribute('data-state', 'open');
  await expect(door(player)).toHaveAttribute('data-state', 'open');
  await expect(goblin(player)).toBeVisible();
  await drag(2);
  await expect.poll(async () => (await centreOf(gm, table.mine)).x - gmStart).toBeCloseTo(100, 0);
  await player.screenshot({ path: testInfo.outputPath('walls-player.png') });

  // The GM locks it (right click): her click is refused.
  await door(gm).click({ button: 'right' });
  await expect(door(player)).toHaveAttribute('data-state', 'locked');
  await door(player).click();
  await expect(player.locator('[data-test="toast"]').last()).toContainText('the door is locked');
  await expect(door(gm)).toHaveAttribute('data-state', 'locked');

  // A click on the long wall with the wall tool removes it.
  const screen = await screenOf(gm);
  await gm.mouse.click(...screen(201, 300));
  await expect(lines(gm)).toHaveCount(2);
});
