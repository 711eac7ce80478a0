import { expect, test, type Page } from './fixtures';
import { setUpTable } from './table';

// Drawing on the map: the GM draws and everyone sees it; players draw
// only once the GM lets them, erase their own drawings and never the
// GM's; the GM clears the map, and Ctrl+Z brings the drawings back.

test('the GM draws, lets the player draw, the player erases her own; the GM clears the map and takes it back', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  const { gm, player } = table;
  // Aria's top-left corner is map point (100, 100); cells are 50 px at zoom 1.
  const screenOf = async (page: Page) => {
    const box = await page.locator(`[data-token="${table.mine}"]`).boundingBox();
    if (!box) throw new Error('Aria is not on screen');
    return (x: number, y: number): [number, number] => [box.x + x - 100, box.y + y - 100];
  };
  const stroke = async (page: Page, from: [number, number], to: [number, number]) => {
    const screen = await screenOf(page);
    await page.mouse.move(...screen(...from));
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) {
      await page.mouse.move(...screen(from[0] + ((to[0] - from[0]) * i) / 10, from[1] + ((to[1] - from[1]) * i) / 10 + (i % 2) * 4));
    }
    await page.mouse.up();
  };
  const drawings = (page: Page) => page.locator('.map-drawings [data-drawing]');
  const tools = (page: Page) => page.getByRole('toolbar', { name: 'Map tools' });

  // Only the GM has a pen to begin with.
  await expect(tools(gm).locator('[data-test="tool-draw"]')).toBeVisible();
  await expect(tools(player).locator('[data-test="tool-draw"]')).toHaveCount(0);

  // A freehand stroke across the map, below the tokens.
  await tools(gm).locator('[data-test="tool-draw"]').click();
  await stroke(gm, [150, 260], [450, 260]);
  await expect(drawings(gm)).toHaveCount(1);
  await expect(drawings(player)).toHaveCount(1);
  await expect(drawings(player).locator('polyline')).toHaveAttribute('stroke', '#d62828');

  // The GM lets players draw: the player's pen appears.
  const allow = tools(gm).locator('[data-test="players-draw"]');
  await expect(allow).toHaveText('Only I draw');
  await allow.click();
  await expect(allow).toHaveText('Players draw');
  await tools(player).locator('[data-test="tool-draw"]').click();
  await tools(player).locator('[data-test="pen"]').selectOption('rectangle');
  await tools(player).getByRole('radio', { name: 'Blue' }).click();
  await stroke(player, [200, 320], [300, 400]);
  await expect(drawings(gm)).toHaveCount(2);
  await expect(drawings(gm).locator('rect')).toHaveAttribute('stroke', '#457b9d');
  await gm.screenshot({ path: testInfo.outputPath('drawings-gm.png') });

  // Her eraser over the GM's stroke leaves it; over her rectangle's left
  // side it takes the rectangle away, for both.
  await tools(player).locator('[data-test="tool-erase"]').click();
  await stroke(player, [300, 230], [300, 290]);
  await stroke(player, [190, 340], [215, 380]);
  await expect(drawings(player)).toHaveCount(1);
  await expect(drawings(gm)).toHaveCount(1);
  await expect(drawings(gm).locator('polyline')).toHaveCount(1);

  // The GM clears the map, then takes the clearing back with Ctrl+Z.
  await tools(gm).locator('[data-test="tool-erase"]').click();
  await tools(gm).locator('[data-test="erase-all"]').click();
  await expect(drawings(gm)).toHaveCount(0);
  await expect(drawings(player)).toHaveCount(0);
  await gm.locator('.map-viewport').focus();
  await gm.keyboard.press('Control+z');
  await expect(drawings(gm)).toHaveCount(1);
  await expect(drawings(player)).toHaveCount(1);

  // The GM takes the leave back: the player's pen goes.
  await tools(gm).locator('[data-test="tool-draw"]').click();
  await tools(gm).locator('[data-test="players-draw"]').click();
  await expect(tools(player).locator('[data-test="tool-draw"]')).toHaveCount(0);
  await expect(tools(player).getByRole('button', { name: /Move/ })).toHaveAttribute('aria-pressed', 'true');
  await player.screenshot({ path: testInfo.outputPath('drawings-player.png') });
});
