import { expect, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { signUp } from './support';

/** Calls a server function (JSON in, JSON out) as the page's user. */
export async function call<T>(request: APIRequestContext, endpoint: string, body: unknown): Promise<T> {
  const response = await request.post(`/api/${endpoint}`, { data: body });
  if (!response.ok()) {
    throw new Error(`${endpoint}: ${response.status()} ${await response.text()}`);
  }
  return (await response.json()) as T;
}

/** A server function that takes form fields (the account and campaign ones). */
export async function form<T>(request: APIRequestContext, endpoint: string, fields: Record<string, string>): Promise<T> {
  const response = await request.post(`/api/${endpoint}`, { form: fields });
  if (!response.ok()) {
    throw new Error(`${endpoint}: ${response.status()} ${await response.text()}`);
  }
  return (await response.json()) as T;
}

export interface Table {
  gm: Page;
  player: Page;
  campaign: string;
  encounter: string;
  session: string;
  /** The player's own token (speed 30 ft: six cells of 5 ft). */
  mine: string;
  /** A monster everyone sees. */
  goblin: string;
  /** A token only the GM sees. */
  secret: string;
}

/**
 * A campaign with a GM and a player in two browser contexts: the player
 * plays "Aria", the map has her token, a visible goblin and a GM-only
 * ambusher, and a session is running on it. Both pages are open on the
 * table and connected.
 */
export async function setUpTable(
  browser: Browser,
  /** What the two do before the GM starts the session (Aria's id given). */
  before?: (gm: Page, player: Page, campaign: string, aria: string, encounter: string) => Promise<void>,
  /** Where each opens the table (default: the test server). The GM's page opens first. */
  origins: { gm: string; player: string } = { gm: '', player: '' },
): Promise<Table> {
  const gm = await (await browser.newContext()).newPage();
  const player = await (await browser.newContext()).newPage();
  await signUp(gm, 'gm');
  await signUp(player, 'pl');
  const campaign = await form<{ id: string }>(gm.request, 'campaigns/create', {
    name: `Table ${Date.now()}`,
    game_system: 'dnd5e',
  });
  const invitation = await call<{ token: string }>(gm.request, 'campaigns/invite', {
    campaign: campaign.id,
    role: 'player',
  });
  await call(player.request, 'campaigns/join', { token: invitation.token });
  const me = await form<{ id: string }>(player.request, 'account/me', {});
  const actor = (kind: string, name: string, owner: string | null) =>
    call<string>(gm.request, 'actors/create', {
      campaign: campaign.id,
      actor: { compendium_ref: null, name, kind, level: 3, character_class: null, owner },
    });
  const aria = await actor('character', 'Aria', me.id);
  const goblinActor = await actor('monster', 'Goblin', null);
  const encounter = await call<string>(gm.request, 'encounters/create', {
    campaign: campaign.id,
    name: 'Crossroads',
    map: { grid_size: 50 },
    image: null,
  });
  const place = (actor: string | null, name: string, x: number, y: number, visibility: string) =>
    call<string>(gm.request, 'encounters/place_token', {
      campaign: campaign.id,
      encounter,
      token: { actor, name, position: { x, y }, visibility, scale: 1 },
    });
  const mine = await place(aria, 'Aria', 100, 100, 'visible');
  const goblin = await place(goblinActor, 'Goblin', 300, 100, 'visible');
  const secret = await place(goblinActor, 'Ambusher', 400, 300, 'gm_only');
  if (before) await before(gm, player, campaign.id, aria, encounter);
  const session = await call<string>(gm.request, 'sessions/start', { campaign: campaign.id, encounter });
  for (const [page, origin] of [
    [gm, origins.gm],
    [player, origins.player],
  ] as const) {
    await page.goto(`${origin}/sessions/${session}`);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator('[data-test="connection"]')).toHaveText('Connected');
    await expect(page.locator(`[data-token="${mine}"]`)).toBeVisible();
  }
  return { gm, player, campaign: campaign.id, encounter, session, mine, goblin, secret };
}

/** The middle of a token on the screen. */
export async function centreOf(page: Page, token: string): Promise<{ x: number; y: number }> {
  const box = await page.locator(`[data-token="${token}"]`).boundingBox();
  if (!box) throw new Error(`token ${token} is not on screen`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Drags a token by `cells` grid cells (50 px at zoom 1) right and down. */
export async function drag(page: Page, token: string, right: number, down = 0): Promise<void> {
  const { x, y } = await centreOf(page, token);
  await page.mouse.move(x, y);
  await page.mouse.down();
  const steps = 8;
  for (let i = 1; i <= steps; i++) {
    await page.mouse.move(x + (right * 50 * i) / steps, y + (down * 50 * i) / steps);
  }
  await page.mouse.up();
}

/** The token's place as its label says it ("column 3, row 3"). */
export function at(page: Page, token: string) {
  return page.locator(`[data-token="${token}"]`);
}

/** The fog's opacity (0 to 255) on the page's map at a screen point. */
export async function fogAt(page: Page, x: number, y: number): Promise<number> {
  return page.evaluate(
    ([x, y]) => {
      const canvas = document.querySelector('canvas.fog-layer') as HTMLCanvasElement;
      const box = canvas.getBoundingClientRect();
      const context = canvas.getContext('2d');
      if (!context) throw new Error('the fog has no canvas');
      return context.getImageData(Math.round(x - box.left), Math.round(y - box.top), 1, 1).data[3];
    },
    [x, y],
  );
}

// The pixel on screen at a point of the page (RGBA): what the user sees,
// the canvas under the transparent buttons and whatever covers it. (The
// canvas shows a bitmap, which a script cannot read back.)
export async function screenAt(page: Page, x: number, y: number): Promise<number[]> {
  const png = await page.screenshot({ clip: { x: Math.round(x), y: Math.round(y), width: 1, height: 1 } });
  return page.evaluate(async (data) => {
    const image = new Image();
    image.src = `data:image/png;base64,${data}`;
    await image.decode();
    const copy = document.createElement('canvas');
    copy.width = copy.height = 1;
    const g = copy.getContext('2d')!;
    g.drawImage(image, 0, 0);
    return [...g.getImageData(0, 0, 1, 1).data];
  }, png.toString('base64'));
}

// A campaign of a signed-in user, with one image uploaded to it over the
// API (the set-up of tests and benchmarks of how the map draws art, not of
// uploading, which library.spec tests through the page); `draw` paints the
// image on a canvas of `side` pixels in the page. Returns the file's id.
export async function campaignWithImage(
  page: Page,
  side: number,
  draw: (g: CanvasRenderingContext2D, side: number) => void,
): Promise<string> {
  const campaign = await form<{ id: string }>(page.request, 'campaigns/create', {
    name: `Art ${Date.now()}`,
    game_system: 'dnd5e',
  });
  await page.goto('/');
  const png = await page.evaluate(
    ([side, source]) => {
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = side as number;
      // eslint-disable-next-line no-new-func
      new Function('g', 'side', `(${source})(g, side)`)(canvas.getContext('2d')!, side);
      return canvas.toDataURL('image/png').split(',')[1];
    },
    [side, draw.toString()] as const,
  );
  const uploaded = await page.request.post(`/api/campaigns/${campaign.id}/media?name=art.png&kind=token`, {
    data: Buffer.from(png, 'base64'),
    headers: { 'content-type': 'image/png' },
  });
  expect(uploaded.status()).toBe(201);
  return ((await uploaded.json()) as { file: { id: string } }).file.id;
}
