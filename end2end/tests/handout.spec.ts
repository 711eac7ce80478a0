import { expect, test, type Page } from './fixtures';
import { deflateSync } from 'node:zlib';
import { openHydrated, signUp } from './support';
import { call, form, setUpTable } from './table';

// Handouts: the GM uploads a letter, shows it at the table to one player
// (her viewer opens; the other player's does not, and he cannot fetch
// it), then to everyone; the players open it again from the table's list
// and from the campaign page.

/** A real PNG of `width` × `height`: parchment with a dark band, so the viewer has something to draw. */
function png(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (width * 3 + 1) + 1 + x * 3;
      const band = Math.abs(y - height / 3) < height / 12;
      rows.set(band ? [70, 50, 30] : [236, 222, 188 - ((x + y + Date.now()) % 7)], at);
    }
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

async function expectDrawn(page: Page) {
  const image = page.locator('[data-test="handout-viewer"] [data-test="handout-image"]');
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(320);
}

test('the GM shows a letter to one player, then to everyone; each keeps it to open again', async ({ browser }, testInfo) => {
  let bruno: Page | undefined;
  let ariaName = '';
  const table = await setUpTable(browser, async (gm, player, campaign) => {
    ariaName = (await form<{ display_name: string }>(player.request, 'account/me', {})).display_name;
    // A second player, who is shown nothing at first.
    bruno = await (await browser.newContext()).newPage();
    await signUp(bruno, 'pl');
    const invitation = await call<{ token: string }>(gm.request, 'campaigns/invite', { campaign, role: 'player' });
    await call(bruno.request, 'campaigns/join', { token: invitation.token });
    // The GM uploads the letter on the campaign page: GM-only until shown.
    await openHydrated(gm, `/campaigns/${campaign}`);
    await gm.getByLabel('File').setInputFiles({ name: 'letter.png', mimeType: 'image/png', buffer: png(320, 200) });
    await gm.locator('#media-kind').selectOption('handout');
    await gm.getByRole('button', { name: 'Upload' }).click();
    await expect(gm.locator('[data-test="upload-outcome"]')).toContainText('letter.png: uploaded');
  });
  const { gm, player, session } = table;
  if (!bruno) throw new Error('no second player');
  await bruno.goto(`/sessions/${session}`);
  await expect(bruno.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(bruno.locator('[data-test="connection"]')).toHaveText('Connected');

  // To Aria's player alone.
  const form_ = gm.locator('[data-test="show-handout"]');
  await form_.locator('[data-test="handout-file"]').selectOption({ label: 'letter.png' });
  await form_.locator('[data-test="handout-chosen"]').check();
  await form_.locator('li', { hasText: ariaName }).locator('[data-test="handout-reader"]').check();
  await form_.locator('[data-test="handout-show"]').click();

  await expectDrawn(player);
  await expect(player.locator('[data-test="handout-viewer"]')).toContainText('letter.png');
  await player.screenshot({ path: testInfo.outputPath('handout-player.png') });
  await expect(gm.locator('[data-test="log"]')).toContainText('shows letter.png');
  await gm.screenshot({ path: testInfo.outputPath('handout-gm.png') });
  await expect(gm.locator('[data-test="handout-viewer"]')).toHaveCount(0);
  // Bruno: no viewer, no line, and the file's address answers nothing.
  await expect(bruno.locator('[data-test="log"]')).not.toContainText('letter.png');
  await expect(bruno.locator('[data-test="handout-viewer"]')).toHaveCount(0);
  const src = await player.locator('[data-test="handout-image"]').getAttribute('src');
  expect((await bruno.request.get(src!)).status()).toBe(403);
  expect((await player.request.get(src!)).status()).toBe(200);

  // Escape closes it; the table's list and the log line open it again.
  await player.keyboard.press('Escape');
  await expect(player.locator('[data-test="handout-viewer"]')).toHaveCount(0);
  await player.locator('[data-test="handout-list"] [data-test="handout-open"]', { hasText: 'letter.png' }).click();
  await expectDrawn(player);
  await player.locator('[data-test="handout-close"]').click();
  await player.locator('[data-test="log"] [data-test="log-handout"]').click();
  await expectDrawn(player);
  await player.locator('[data-test="handout-close"]').click();

  // The campaign's media list tells the GM it was handed to one member,
  // and takes it back: the player cannot fetch it any more.
  const library = await gm.context().newPage();
  await openHydrated(library, `/campaigns/${table.campaign}`);
  const letter = library.locator('[data-test="media-file"]', { hasText: 'letter.png' });
  await expect(letter.locator('[data-test="media-visibility"]')).toHaveText('handed to 1 member');
  await letter.locator('[data-test="media-take-back"]').click();
  await expect(letter.locator('[data-test="media-visibility"]')).toHaveText('GM only');
  await expect(letter.locator('[data-test="media-take-back"]')).toHaveCount(0);
  expect((await player.request.get(src!)).status()).toBe(403);
  // A file uploaded there now reaches the table's list on "Refresh".
  await library.getByLabel('File').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: png(64, 48) });
  await library.locator('#media-kind').selectOption('handout');
  await library.getByRole('button', { name: 'Upload' }).click();
  await expect(library.locator('[data-test="upload-outcome"]')).toContainText('notes.png: uploaded');
  await library.close();
  const notes = form_.locator('[data-test="handout-file"] option', { hasText: 'notes.png' });
  await expect(notes).toHaveCount(0);
  await form_.locator('[data-test="handout-files-refresh"]').click();
  await expect(notes).toHaveCount(1);

  // To everyone: Bruno's viewer opens now.
  await form_.locator('[data-test="handout-everyone"]').check();
  await form_.locator('[data-test="handout-show"]').click();
  await expectDrawn(bruno);
  expect((await bruno.request.get(src!)).status()).toBe(200);

  // The campaign page keeps it for the player.
  await openHydrated(player, `/campaigns/${table.campaign}`);
  const kept = player.locator('[data-test="campaign-handouts"]');
  await kept.locator('[data-test="handout-open"]', { hasText: 'letter.png' }).click();
  await expectDrawn(player);
});
