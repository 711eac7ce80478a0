import { expect, test, type Page } from './fixtures';
import { openHydrated } from './support';
import { fogAt, setUpTable } from './table';

// A hex map: the GM turns the encounter's grid into hexagons in the editor;
// at the table both browsers draw hexagons, the ruler counts hexagon steps,
// and the fog lifts hexagon by hexagon.

// Hexagons 50 px across their flats, pointed top, odd rows shifted right:
// rows are 43.30 px apart and hexagon (0, 0)'s centre is at (25, 28.87).
const ROW = 50 * Math.sqrt(3) / 2;
const center = (column: number, row: number): [number, number] => [
  25 + column * 50 + (row % 2) * 25,
  50 / Math.sqrt(3) + row * ROW,
];

test('the GM makes the map hexagonal; the ruler and the fog follow the hexagons in both browsers', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser, async (gm, _player, campaign, _aria, encounter) => {
    const problems = await openHydrated(gm, `/campaigns/${campaign}/encounters/${encounter}`);
    await gm.locator('[data-test="grid-shape"]').selectOption('hex_rows');
    await gm.getByRole('button', { name: 'Save the map' }).click();
    await expect(gm.locator('[data-test="map-saved"]')).toBeVisible();
    await expect(gm.locator('[data-test="editor-preview"] [data-test="hex-grid"]')).toBeVisible();
    await gm.locator('[data-test="editor-preview"]').screenshot({ path: testInfo.outputPath('hex-editor.png') });
    expect(problems).toEqual([]);
  });
  const { gm, player } = table;
  for (const page of [gm, player]) {
    await expect(page.locator('.battle-map [data-test="hex-grid"]')).toBeVisible();
    await expect(page.locator('.battle-map .map-grid')).toHaveCount(0);
  }
  // Map point to screen, from a token whose top-left corner is known.
  const screenOf = async (page: Page, token: string, corner: [number, number]) => {
    const box = await page.locator(`[data-token="${token}"]`).boundingBox();
    if (!box) throw new Error('the token is not on screen');
    return ([x, y]: [number, number]): [number, number] => [box.x + x - corner[0], box.y + y - corner[1]];
  };

  // Aria (top-left 100, 100) stands in hexagon (2, 2). Two rows down and
  // three hexagons right is four steps on hexagons (three on squares).
  const onPlayer = await screenOf(player, table.mine, [100, 100]);
  await player.locator('[data-test="tool-ruler"]').click();
  const [fromX, fromY] = onPlayer(center(2, 2));
  const [toX, toY] = onPlayer(center(5, 4));
  await player.mouse.move(fromX, fromY);
  await player.mouse.down();
  for (let i = 1; i <= 6; i++) await player.mouse.move(fromX + ((toX - fromX) * i) / 6, fromY + ((toY - fromY) * i) / 6);
  await player.mouse.up();
  await expect(player.locator('[data-test="ruler"]')).toHaveText('20 ft');
  await expect(gm.locator('[data-test="ruler"]')).toHaveText(/^20 ft · Player pl_/);
  await player.locator('.map-viewport').focus();
  await player.keyboard.press('Escape');
  await expect(gm.locator('[data-test="ruler"]')).toHaveCount(0);

  // Fog on: the goblin (top-left 300, 100) stands in hexagon (6, 2) alone.
  const tools = gm.getByRole('toolbar', { name: 'Map tools' });
  await tools.getByRole('button', { name: /^Fog o/ }).click();
  await expect(player.locator(`[data-token="${table.goblin}"]`)).toHaveCount(0);
  // Her own hexagon stays clear on her map; the goblin's is dark.
  await expect.poll(() => fogAt(player, ...onPlayer(center(2, 2)))).toBe(0);
  expect(await fogAt(player, ...onPlayer(center(6, 2)))).toBe(255);
  const onGm = await screenOf(gm, table.goblin, [300, 100]);
  await tools.getByRole('button', { name: /Reveal/ }).click();
  // Lifting the hexagon east of it shows the player nothing of it…
  const changes = gm.locator('[data-test="recent-change"]');
  const before = await changes.count();
  await gm.mouse.click(...onGm(center(7, 2)));
  await expect(changes).toHaveCount(before + 1);
  await expect(player.locator(`[data-token="${table.goblin}"]`)).toHaveCount(0);
  // …lifting its own hexagon does (pressed above the token, which would
  // take the press for itself).
  const [x, y] = center(6, 2);
  await gm.mouse.click(...onGm([x, y - 22]));
  await expect(player.locator(`[data-token="${table.goblin}"]`)).toBeVisible();
  await expect(player.locator(`[data-token="${table.secret}"]`)).toHaveCount(0);
  await gm.screenshot({ path: testInfo.outputPath('hex-gm.png') });
  await player.screenshot({ path: testInfo.outputPath('hex-player.png') });
});
