import { expect, test, type Page } from './fixtures';
import { at, drag, setUpTable } from './table';

// Light and sight at the table: the GM makes walls hide and the player's
// map darkens outside her token's sight; night falls and the goblin, four
// cells away, leaves her map; the GM hands it a torch and it is back, lit;
// without the torch, darkvision brings it back; the GM previews the
// player's view and goes back to seeing everything.

test('in the dark a player sees by darkvision and by the light tokens shed; the GM previews her view', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  const { gm, player } = table;
  const tools = (page: Page) => page.getByRole('toolbar', { name: 'Map tools' });
  const goblin = (page: Page) => page.locator(`[data-token="${table.goblin}"]`);
  const darkness = (page: Page) => page.locator('[data-test="darkness"]');

  // No darkness until walls hide; then one eye, Aria's, and daylight.
  await expect(darkness(player)).toHaveCount(0);
  await tools(gm).locator('[data-test="tool-walls"]').click();
  await tools(gm).locator('[data-test="vision"]').click();
  await expect(darkness(player)).toHaveAttribute('data-eyes', '1');
  await expect(goblin(player)).toBeVisible();
  // The GM sees everything by default: no darkness on the GM's map.
  await expect(darkness(gm)).toHaveCount(0);

  // Night falls: without darkvision or light, the goblin leaves her map.
  await tools(gm).locator('[data-test="daylight"]').click();
  await expect(tools(gm).locator('[data-test="daylight"]')).toHaveAttribute('aria-pressed', 'true');
  await expect(goblin(player)).toHaveCount(0);
  await expect(goblin(gm)).toBeVisible();

  // The GM hands the goblin a torch: it lights itself, and she sees it.
  const selected = gm.locator('[data-test="selected-token"]');
  await at(gm, table.goblin).focus();
  await selected.locator('[data-test="token-light"]').selectOption({ label: 'Torch (20/40 ft)' });
  await expect(goblin(player)).toBeVisible();
  await player.screenshot({ path: testInfo.outputPath('sight-torch-player.png') });
  await selected.locator('[data-test="token-light"]').selectOption({ label: 'none' });
  await expect(goblin(player)).toHaveCount(0);

  // Aria's darkvision (30 ft reach the goblin 20 ft away) brings it back.
  await at(gm, table.mine).focus();
  await selected.locator('[data-test="darkvision"]').selectOption({ label: '30 ft' });
  await expect(goblin(player)).toBeVisible();
  // Her own page offers no sight settings: they are the GM's.
  await at(player, table.mine).focus();
  await expect(player.locator('[data-test="darkvision"]')).toHaveCount(0);

  // The GM previews what the player sees, then sees everything again.
  const viewAs = tools(gm).locator('[data-test="sight-as"]');
  await viewAs.selectOption({ index: 1 });
  await expect(darkness(gm)).toHaveAttribute('data-eyes', '1');
  await gm.screenshot({ path: testInfo.outputPath('sight-gm-preview.png') });
  await viewAs.selectOption({ label: 'See everything' });
  await expect(darkness(gm)).toHaveCount(0);

  // Day breaks: the darkness stays (walls still hide), lit everywhere.
  await tools(gm).locator('[data-test="daylight"]').click();
  await expect(tools(gm).locator('[data-test="daylight"]')).toHaveAttribute('aria-pressed', 'false');
  await expect(darkness(player)).toHaveAttribute('data-eyes', '1');
});

// What a player has seen stays on her map, dimmed, once her token moves
// on; the server keeps it, so a reload brings it back; the GM's "Forget
// explored" leaves her only what she sees now. The GM's preview of her
// view shows what she explored, as it changes.
test('what a player has seen stays dimmed on her map, through a reload and in the GM\'s preview, until the GM makes her forget it', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser);
  const { gm, player } = table;
  const tools = (page: Page) => page.getByRole('toolbar', { name: 'Map tools' });
  const darkness = player.locator('[data-test="darkness"]');
  const explored = async () => Number((await darkness.getAttribute('data-explored')) ?? 'NaN');

  // Walls hide, the night falls, and Aria sees 30 ft by darkvision.
  await tools(gm).locator('[data-test="tool-walls"]').click();
  await tools(gm).locator('[data-test="vision"]').click();
  await tools(gm).locator('[data-test="daylight"]').click();
  await at(gm, table.mine).focus();
  await gm.locator('[data-test="selected-token"] [data-test="darkvision"]').selectOption({ label: '30 ft' });
  // She saw the whole lit map before the night fell: a new night, forgotten.
  await expect.poll(explored).toBeGreaterThan(1000);
  await tools(gm).locator('[data-test="forget-explored"]').click();
  // What 30 ft of darkvision reaches: about 130 cells.
  await expect.poll(explored).toBeLessThan(1000);
  const first = await explored();
  expect(first).toBeGreaterThan(0);

  // The GM moves her four cells down: what she saw stays explored.
  await tools(gm).getByTitle('Drag tokens and pan the map').click();
  await drag(gm, table.mine, 0, 4);
  await expect.poll(explored).toBeGreaterThan(first);
  const both = await explored();
  await player.screenshot({ path: testInfo.outputPath('sight-explored.png') });

  // A reload brings back what the server kept.
  await player.reload();
  await expect(player.locator('[data-test="connection"]')).toHaveText('Connected');
  await expect.poll(explored).toBe(both);

  // The GM previews her view: the same explored map, dimmed.
  await tools(gm).locator('[data-test="tool-walls"]').click();
  const viewAs = tools(gm).locator('[data-test="sight-as"]');
  const previewed = async () =>
    Number((await gm.locator('[data-test="darkness"]').getAttribute('data-explored')) ?? 'NaN');
  await viewAs.selectOption({ index: 1 });
  await expect.poll(previewed).toBe(both);
  await gm.screenshot({ path: testInfo.outputPath('sight-explored-gm-preview.png') });

  // The GM makes the players forget: only what she sees now is left, on
  // her map and in the GM's preview of it.
  await tools(gm).locator('[data-test="forget-explored"]').click();
  await expect.poll(explored).toBeLessThan(both);
  const now = await explored();
  expect(now).toBeGreaterThan(0);
  await expect.poll(previewed).toBe(now);
  await viewAs.selectOption({ label: 'See everything' });
  await expect(gm.locator('[data-test="darkness"]')).toHaveCount(0);
});
