import { expect, test, type Page } from './fixtures';
import { campaignWithImage, screenAt } from './table';
import { signUp } from './support';

// A busy map (more than 200 tokens drawn) paints its tokens on one canvas
// under their buttons. These run on the benchmark page, a table of N local
// tokens with no server behind it: putting hundreds of tokens on a map
// through the editor would be minutes of clicks and test nothing more.

const first = '00000000-0000-0000-0000-000000001000';

async function openBusyMap(page: Page, query: string) {
  await page.setViewportSize({ width: 1600, height: 1000 });
  await page.goto(`/bench/map?${query}`);
  await expect(page.locator('[data-test="bench"]')).toHaveAttribute('data-loaded', 'true');
  await expect(page.locator('.map-layer')).toHaveClass(/painted/);
}

test('a busy map paints its tokens on one canvas, and their buttons still select them', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await openBusyMap(page, 'tokens=400');
  const token = page.locator(`[data-token="${first}"]`);
  // The button draws nothing of the token: the canvas does.
  await expect(token.locator('.token-face')).toBeHidden();
  const box = (await token.boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  // The face's colour inside the circle (above the initials), the map's
  // in the cell's corner outside it.
  await expect.poll(() => screenAt(page, cx, cy - box.height * 0.3)).toEqual([138, 45, 28, 255]);
  expect(await screenAt(page, box.x + 2, box.y + 2)).not.toEqual([138, 45, 28, 255]);
  // The transparent button is what the pointer presses.
  await token.click();
  await expect(token).toHaveAttribute('aria-pressed', 'true');
  await expect(token).toHaveClass(/selected/);
  // Zoomed in until few tokens are in view, the buttons draw them again
  // and the canvas is put away.
  await page.locator('.map-viewport').focus();
  for (let i = 0; i < 5; i++) await page.keyboard.press('+');
  await expect(page.locator('.map-layer')).not.toHaveClass(/painted/);
  await expect(page.locator('canvas.token-canvas')).toBeHidden();
  await expect(page.locator('.token-face').first()).toBeVisible();
  expect(errors).toEqual([]);
});

test('a busy map decodes an art file once and stamps it on every token wearing it', async ({ page }) => {
  await signUp(page, 'busy');
  const art = await campaignWithImage(page, 64, (g, side) => {
    g.fillStyle = 'rgb(0, 200, 0)';
    g.fillRect(0, 0, side, side);
  });
  await openBusyMap(page, `tokens=400&art=${art}`);
  // No token's button holds an image: the canvas stamps the one file.
  expect(await page.locator('.token img').count()).toBe(0);
  for (const n of [0x1000, 0x1000 + 21, 0x1000 + 105]) {
    const id = `00000000-0000-0000-0000-${n.toString(16).padStart(12, '0')}`;
    const box = (await page.locator(`[data-token="${id}"]`).boundingBox())!;
    await expect
      .poll(() => screenAt(page, box.x + box.width / 2, box.y + box.height / 2))
      .toEqual([0, 200, 0, 255]);
  }
  const fetched = await page.evaluate(
    (id) => performance.getEntriesByType('resource').filter((e) => e.name.endsWith(`/media/${id}`)).length,
    art,
  );
  expect(fetched).toBe(1);
});
