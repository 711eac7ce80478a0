import { expect, test } from './fixtures';
import { openHydrated } from './support';
import { setUpTable } from './table';

// Area templates: a spell on the player's sheet offers its template, she
// places it, the GM sees it live with the tokens inside (a GM-only token
// among them for the GM alone), a cone turns with the drag, Escape puts it
// away for both.

test('a player places Fireball from her sheet and turns a cone; the GM sees both live with the tokens inside', async ({ browser }, testInfo) => {
  const table = await setUpTable(browser, async (_gm, player, campaign, aria) => {
    await openHydrated(player, `/campaigns/${campaign}/actors/${aria}`);
    await player.locator('[data-test="add-spell"]').selectOption('Fireball');
    await expect(player.locator('[data-test="sheet-attacks"]')).toContainText('Fireball');
  });
  const { gm, player } = table;
  const box = await player.locator(`[data-token="${table.mine}"]`).boundingBox();
  if (!box) throw new Error('Aria is not on screen');
  // Aria's top-left corner is map point (100, 100); cells are 50 px at zoom 1.
  const screen = (x: number, y: number): [number, number] => [box.x + x - 100, box.y + y - 100];

  // Her sheet at the table offers Fireball's 20-ft circle.
  const aim = player.locator('[data-test="table-sheet"] [data-test="aim"]');
  await expect(aim).toHaveText('◎ 20-ft circle');
  await aim.click();
  await expect(player.locator('[data-test="tool-template"]')).toHaveAttribute('aria-pressed', 'true');
  // Its point in the middle of the cell two below and one right of the
  // goblin's: the goblin (300, 100) and the GM's ambusher (400, 300) are
  // within 20 ft of it, Aria (100, 100) is not.
  await player.mouse.click(...screen(375, 225));
  const mine = player.locator('[data-test="template-row"]');
  await expect(mine).toContainText('Fireball (20-ft circle): 1 inside');
  await expect(mine.locator('[data-test="template-tokens"]')).toHaveText('Goblin');
  const theirs = gm.locator('[data-test="template-row"]');
  await expect(theirs).toContainText(/^20-ft circle · Player pl_\S+: 2 inside/);
  await expect(theirs.locator('[data-test="template-tokens"]')).toHaveText(/^(Goblin, Ambusher|Ambusher, Goblin)$/);
  await expect(gm.locator('.template .hit')).toHaveCount(2);
  await expect(player.locator('.template .hit')).toHaveCount(1);
  await gm.screenshot({ path: testInfo.outputPath('fireball-gm.png') });

  // A 30-ft cone from Aria's right edge, dragged to point east: the
  // goblin is in it, Aria behind it is not.
  const tools = player.getByRole('toolbar', { name: 'Map tools' });
  await tools.locator('[data-test="template-kind"]').selectOption('cone');
  await tools.locator('[data-test="template-size"]').fill('30');
  await tools.locator('[data-test="template-size"]').press('Tab');
  const stroke = async (from: [number, number], to: [number, number]) => {
    await player.mouse.move(...screen(...from));
    await player.mouse.down();
    for (let i = 1; i <= 6; i++) {
      await player.mouse.move(...screen(from[0] + ((to[0] - from[0]) * i) / 6, from[1] + ((to[1] - from[1]) * i) / 6));
    }
    await player.mouse.up();
  };
  await stroke([150, 125], [350, 125]);
  await expect(mine).toContainText('30-ft cone: 1 inside');
  await expect(mine.locator('[data-test="template-tokens"]')).toHaveText('Goblin');
  await expect(theirs).toContainText(/^30-ft cone · .*: 1 inside/);
  await expect(gm.locator('.template polygon')).toHaveCount(1);
  // Turned to point south from the same point: nobody is inside.
  await stroke([150, 125], [150, 400]);
  await expect(mine).toContainText('30-ft cone: 0 inside');
  await expect(theirs).toContainText(/: 0 inside — no token inside/);
  await player.screenshot({ path: testInfo.outputPath('cone-player.png') });

  // Escape puts it away for both.
  await player.locator('.map-viewport').focus();
  await player.keyboard.press('Escape');
  await expect(mine).toHaveCount(0);
  await expect(theirs).toHaveCount(0);
  await expect(gm.locator('.template')).toHaveCount(0);
});
