import { expect, test, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import { campaignWithImage, screenAt, setUpTable } from '../tests/table';
import { signUp } from '../tests/support';

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function report(name: string, numbers: Record<string, unknown>) {
  fs.mkdirSync('bench-results', { recursive: true });
  fs.writeFileSync(`bench-results/${name}.json`, JSON.stringify(numbers, null, 2));
  console.log(name, JSON.stringify(numbers));
}

async function panAndZoom(page: Page, url: string, name: string, extra: Record<string, unknown> = {}) {
  await page.setViewportSize({ width: 1600, height: 1000 });
  await page.goto(url);
  // BENCH_CSS: a stylesheet added to the page, to measure a variant of the
  // map's style against the same build (how the token styles were chosen).
  if (process.env.BENCH_CSS) await page.addStyleTag({ content: process.env.BENCH_CSS });
  await expect(page.locator('[data-test="bench"]')).toHaveAttribute('data-loaded', 'true');
  await expect(page.locator('.token').first()).toBeVisible();
  const result = await page.evaluate(async () => {
    const viewport = document.querySelector('.map-viewport') as HTMLElement;
    const rect = viewport.getBoundingClientRect();
    const cx = rect.left + rect.width / 2;
    const cy = rect.top + rect.height / 2;
    const frames: number[] = [];
    const panFrames: number[] = [];
    const zoomFrames: number[] = [];
    const work: number[] = [];
    const inView: number[] = [];
    const pointer = (type: string, x: number, y: number) =>
      viewport.dispatchEvent(new PointerEvent(type, { clientX: x, clientY: y, pointerId: 7, bubbles: true, isPrimary: true }));
    let x = cx;
    pointer('pointerdown', x, cy);
    const start = performance.now();
    let last = start;
    let n = 0;
    let zoomed = 0;
    await new Promise<void>((resolve) => {
      const frame = (t: number) => {
        frames.push(t - last);
        (t - start < 2500 ? panFrames : zoomFrames).push(t - last);
        last = t;
        const began = performance.now();
        n++;
        const elapsed = t - start;
        if (elapsed < 2500) {
          // Pan: 14 px a frame, drifting up and down.
          x -= 14;
          pointer('pointermove', x, cy + Math.sin(n / 12) * 60);
        } else {
          if (zoomed === 0) pointer('pointerup', x, cy);
          // Zoom around the middle between about 0.6 and 1.6: out for 8
          // frames, then in and out 16 frames each way.
          const inward = zoomed >= 8 && Math.floor((zoomed - 8) / 16) % 2 === 0;
          zoomed++;
          viewport.dispatchEvent(
            new WheelEvent('wheel', { deltaY: inward ? -40 : 40, clientX: cx, clientY: cy, bubbles: true, cancelable: true }),
          );
        }
        // Style and layout now, so the frame's work is counted here.
        void document.body.offsetHeight;
        work.push(performance.now() - began);
        inView.push(document.querySelectorAll('.token').length);
        if (elapsed < 5000) requestAnimationFrame(frame);
        else resolve();
      };
      requestAnimationFrame(frame);
    });
    return { frames: frames.slice(1), panFrames: panFrames.slice(1), zoomFrames: zoomFrames.slice(1), work, inView };
  });
  const numbers = {
    frames: result.frames.length,
    frame_ms_p50: quantile(result.frames, 0.5),
    frame_ms_p95: quantile(result.frames, 0.95),
    frame_ms_p99: quantile(result.frames, 0.99),
    frame_ms_max: Math.max(...result.frames),
    // Intervals longer than one and a half vsyncs: frames the page missed.
    dropped_frames: result.frames.filter((ms) => ms > 25).length,
    pan_frame_ms_p95: quantile(result.panFrames, 0.95),
    zoom_frame_ms_p95: quantile(result.zoomFrames, 0.95),
    work_ms_p50: quantile(result.work, 0.5),
    work_ms_p95: quantile(result.work, 0.95),
    tokens_in_dom_max: Math.max(...result.inView),
  };
  report(name, { ...numbers, ...extra });
}

test('a map of 10,000 tokens panned and zoomed for 5 s', async ({ page }) => {
  await panAndZoom(page, '/bench/map?tokens=10000', 'map-pan-zoom');
});

// The same map with art on every token: one image of a campaign (served
// by the server to its member, as at a table), worn by all 10,000 actors.
// A benchmark, not a user flow: the campaign and the file are set up over
// the API.
test('a map of 10,000 tokens, each wearing its art, panned and zoomed for 5 s', async ({ page }) => {
  await signUp(page, 'bench');
  const art = await campaignWithImage(page, 128, (g) => {
    const gradient = g.createRadialGradient(64, 48, 8, 64, 64, 64);
    gradient.addColorStop(0, '#e9c46a');
    gradient.addColorStop(1, '#264653');
    g.fillStyle = gradient;
    g.fillRect(0, 0, 128, 128);
    g.fillStyle = '#fff';
    g.font = 'bold 56px sans-serif';
    g.fillText('G', 44, 84);
  });
  await panAndZoom(page, `/bench/map?tokens=10000&art=${art}`, 'map-pan-zoom-art', { art: true });
  // The busy map painted the tokens on its canvas, with the art: the
  // screen is not the plain face colour in the middle of a token in view,
  // and the browser fetched the file once.
  const middle = await page.evaluate(() => {
    const button = [...document.querySelectorAll('.token')].find((t) => {
      const b = t.getBoundingClientRect();
      return b.left > 100 && b.top > 100 && b.right < 1500 && b.bottom < 900;
    })!;
    const b = button.getBoundingClientRect();
    return { x: b.left + b.width / 2, y: b.top + b.height * 0.3 };
  });
  const drawn = {
    painted: (await page.locator('.map-layer.painted').count()) === 1,
    pixel: await screenAt(page, middle.x, middle.y),
    fetched: await page.evaluate(
      (id) => performance.getEntriesByType('resource').filter((entry) => entry.name.endsWith(`/media/${id}`)).length,
      art,
    ),
  };
  expect(drawn.painted).toBe(true);
  expect(drawn.pixel).not.toEqual([138, 45, 28, 255]);
  expect(drawn.fetched).toBe(1);
  report('map-art-images', drawn);
});

test('one commit of 1,000 token moves applied in the browser store', async ({ page }) => {
  await page.goto('/bench/map?tokens=10000');
  await expect(page.locator('[data-test="bench"]')).toHaveAttribute('data-loaded', 'true');
  const button = page.locator('[data-test="apply-1000"]');
  for (let i = 0; i < 30; i++) {
    await button.click();
  }
  const read = async (what: string) =>
    ((await page.locator(`[data-test="${what}"]`).textContent()) ?? '')
      .trim()
      .split(/\s+/)
      .map(Number)
      .slice(5);
  const applied = await read('apply-ms');
  const decoded = await read('decode-ms');
  const stored = await read('store-ms');
  report('apply-1000', {
    runs: applied.length,
    apply_ms_p50: quantile(applied, 0.5),
    apply_ms_p95: quantile(applied, 0.95),
    apply_ms_max: Math.max(...applied),
    store_only_ms_p50: quantile(stored, 0.5),
    store_only_ms_p95: quantile(stored, 0.95),
    decode_ms_p50: quantile(decoded, 0.5),
    decode_ms_p95: quantile(decoded, 0.95),
  });
});

// Walls and sight (issue 17): a map where walls hide, previewed as a
// player's ten tokens see it, its darkness drawn from the shared polygons.
test('a map of 1,000 walls under a player\'s darkness, panned and zoomed for 5 s', async ({ page }) => {
  await panAndZoom(page, '/bench/map?tokens=100&walls=1000', 'map-pan-zoom-walls', { walls: 1000 });
  await expect(page.locator('[data-test="darkness"]')).toHaveAttribute('data-eyes', '10');
});

test('sight after one move, 300 walls and 10 viewing tokens, filtered in wasm', async ({ page }) => {
  await page.goto('/bench/map?tokens=100&walls=300');
  await expect(page.locator('[data-test="bench"]')).toHaveAttribute('data-loaded', 'true');
  const button = page.locator('[data-test="sight-1"]');
  for (let i = 0; i < 40; i++) {
    await button.click();
  }
  const runs = ((await page.locator('[data-test="sight-ms"]').textContent()) ?? '')
    .trim()
    .split(/\s+/)
    .map(Number)
    .slice(5);
  expect(runs.length).toBe(35);
  report('sight-wasm', {
    runs: runs.length,
    filter_ms_p50: quantile(runs, 0.5),
    filter_ms_p95: quantile(runs, 0.95),
    filter_ms_max: Math.max(...runs),
  });
});

test("from a player's drop to the GM's browser drawing the move", async ({ browser }) => {
  const table = await setUpTable(browser);
  const latencies: number[] = [];
  for (let i = 0; i < 60; i++) {
    // Watch first, then drop: the GM's page notes when it draws the token
    // at its committed place (its label follows the commit; a drag
    // preview moves the token without changing it). Both pages share this
    // machine's clock (performance.timeOrigin + now).
    await table.gm.evaluate((token) => {
      const w = window as unknown as { drawn?: number };
      w.drawn = undefined;
      const element = document.querySelector(`[data-token="${token}"]`)!;
      const observer = new MutationObserver(() => {
        observer.disconnect();
        requestAnimationFrame(() => (w.drawn = performance.timeOrigin + performance.now()));
      });
      observer.observe(element, { attributes: true, attributeFilter: ['aria-label'] });
    }, table.mine);
    // One cell right, then back: within Aria's speed, so the rules approve
    // it at once (the auto-approved path, as in play).
    const dropped = await table.player.evaluate(
      ({ token, right }) => {
        const element = document.querySelector(`[data-token="${token}"]`) as HTMLElement;
        const box = element.getBoundingClientRect();
        const x = box.left + box.width / 2;
        const y = box.top + box.height / 2;
        const fire = (type: string, at: number) =>
          element.dispatchEvent(new PointerEvent(type, { clientX: at, clientY: y, pointerId: 3, bubbles: true, isPrimary: true }));
        fire('pointerdown', x);
        fire('pointermove', x + (right ? 50 : -50));
        const at = performance.timeOrigin + performance.now();
        fire('pointerup', x + (right ? 50 : -50));
        return at;
      },
      { token: table.mine, right: i % 2 === 0 },
    );
    const drawn = await table.gm
      .waitForFunction(() => (window as unknown as { drawn?: number }).drawn, undefined, { timeout: 10_000 })
      .then((handle) => handle.jsonValue() as Promise<number>);
    latencies.push(drawn - dropped);
  }
  report('drop-to-draw', {
    moves: latencies.length,
    ms_p50: quantile(latencies, 0.5),
    ms_p99: quantile(latencies, 0.99),
    ms_max: Math.max(...latencies),
  });
});
