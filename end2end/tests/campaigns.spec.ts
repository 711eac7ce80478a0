import { allowStatuses, expect, test } from './fixtures';
import { openHydrated, signUp, stillSameDocument, uniqueLogin } from './support';

test('a new campaign appears in the list without a page reload', async ({ page }, testInfo) => {
  await signUp(page);
  const problems = await openHydrated(page, '/');
  const name = `Curse of Strahd ${Date.now()}`;

  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Game system').selectOption('dnd5e');
  await page.getByRole('button', { name: 'Create campaign' }).click();

  const entry = page.locator('.campaign-list li', { hasText: name });
  await expect(entry).toBeVisible();
  await expect(entry).toContainText('D&D 5th Edition');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('');
  expect(await stillSameDocument(page)).toBe(true);

  await page.screenshot({ path: testInfo.outputPath('campaigns.png'), fullPage: true });
  expect(problems).toEqual([]);
});

test('empty and over-long names get a clear message and create nothing', async ({ page }) => {
  await signUp(page);
  // The server refuses each with a 400, which the browser logs.
  const problems = await openHydrated(page, '/', { expectedStatuses: [400] });
  const entries = page.locator('.campaign-list li');
  const before = await entries.count();
  const nameField = page.getByLabel('Name', { exact: true });
  const create = page.getByRole('button', { name: 'Create campaign' });
  const error = page.getByRole('alert');

  await nameField.fill('   ');
  await create.click();
  await expect(error).toHaveText('A campaign needs a name.');

  await nameField.fill('x'.repeat(101));
  await expect(page.locator('#campaign-name-hint')).toHaveText('101 of 100 characters: too long');
  await create.click();
  await expect(error).toHaveText('A campaign name can have at most 100 characters; this one has 101.');

  await expect(entries).toHaveCount(before);
  expect(await stillSameDocument(page)).toBe(true);
  expect(problems).toEqual([]);
});

test('campaigns are private to their members', async ({ browser }) => {
  const gm = await browser.newContext();
  const other = await browser.newContext();
  const gmPage = await gm.newPage();
  const otherPage = await other.newPage();

  await signUp(gmPage);
  await openHydrated(gmPage, '/');
  const name = `Secret Heist ${Date.now()}`;
  await gmPage.getByLabel('Name', { exact: true }).fill(name);
  await gmPage.getByRole('button', { name: 'Create campaign' }).click();
  await expect(gmPage.locator('.campaign-list li', { hasText: name })).toBeVisible();

  await signUp(otherPage, 'player');
  await expect(otherPage.getByText('No campaigns yet')).toBeVisible();
  expect(await otherPage.content()).not.toContain(name);

  // A visitor who is not logged in is asked to log in.
  const visitor = await browser.newContext();
  const visitorPage = await visitor.newPage();
  await openHydrated(visitorPage, '/');
  await expect(visitorPage.locator('[data-test="log-in-prompt"]')).toBeVisible();
  expect(await visitorPage.content()).not.toContain(name);
  await Promise.all([gm.close(), other.close(), visitor.close()]);
});

test('log out, then log in again', async ({ page }) => {
  const login = await signUp(page);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.locator('[data-test="signed-in-as"]')).toHaveCount(0);

  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Login name').fill(login);
  // The wrong password is refused (400), and the page says so.
  allowStatuses([400]);
  await page.getByLabel('Password').fill('wrong password!');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong login name or password.');

  await page.getByLabel('Password').fill('a long enough password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('[data-test="signed-in-as"]')).toHaveText(`Player ${login}`);
});

test('a new password signs out the account everywhere else', async ({ browser }) => {
  const here = await browser.newContext();
  const elsewhere = await browser.newContext();
  const page = await here.newPage();
  const other = await elsewhere.newPage();
  const login = await signUp(page);
  await other.goto('/login');
  await expect(other.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await other.getByLabel('Login name').fill(login);
  await other.getByLabel('Password').fill('a long enough password');
  await other.getByRole('button', { name: 'Log in' }).click();
  await expect(other.locator('[data-test="signed-in-as"]')).toHaveText(`Player ${login}`);

  // A wrong current password is refused with a 400, which the browser logs.
  const problems = await openHydrated(page, '/', { expectedStatuses: [400] });
  await page.locator('[data-test="signed-in-as"]').click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { name: 'Change password' })).toBeVisible();
  await page.getByLabel('Current password').fill('not my password');
  await page.getByLabel('New password', { exact: true }).fill('an even longer password');
  await page.getByLabel('New password again').fill('an even longer password');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toHaveText('The current password is not right.');

  await page.getByLabel('Current password').fill('a long enough password');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status')).toHaveText(
    'Password changed. One other login of this account was signed out.',
  );
  await expect(page.getByLabel('Current password')).toHaveValue('');
  await expect(page.getByLabel('New password again')).toHaveValue('');
  await page.screenshot({ path: test.info().outputPath('account.png'), fullPage: true });

  // The other browser is signed out; this one is not.
  await other.goto('/');
  await expect(other.locator('[data-test="log-in-prompt"]')).toBeVisible();
  await page.goto('/');
  await expect(page.locator('[data-test="signed-in-as"]')).toHaveText(`Player ${login}`);

  // The old password no longer opens the account; the new one does.
  await other.goto('/login');
  await expect(other.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await other.getByLabel('Login name').fill(login);
  await other.getByLabel('Password').fill('a long enough password');
  await other.getByRole('button', { name: 'Log in' }).click();
  await expect(other.getByRole('alert')).toHaveText('Wrong login name or password.');
  await other.getByLabel('Password').fill('an even longer password');
  await other.getByRole('button', { name: 'Log in' }).click();
  await expect(other.locator('[data-test="signed-in-as"]')).toHaveText(`Player ${login}`);
  expect(problems).toEqual([]);
  await Promise.all([here.close(), elsewhere.close()]);
});

test('the list is in the server-rendered HTML, before any script runs', async ({ request }) => {
  const signedUp = await request.post('/api/account/sign_up', {
    form: { login: uniqueLogin('ssr'), display_name: 'SSR', password: 'a long enough password' },
    headers: { Accept: 'application/json' },
    maxRedirects: 0,
  });
  expect(signedUp.status()).toBeLessThan(400);
  const name = `Storm King's Thunder ${Date.now()}`;
  const created = await request.post('/api/campaigns/create', {
    form: { name, game_system: 'dnd5e' },
    headers: { Accept: 'application/json' },
  });
  expect(created.status()).toBe(200);

  const html = await (await request.get('/')).text();
  expect(html).toContain(name);
});

test("a new GM's empty campaign offers a sample encounter, and one click sets the table", async ({ page }, testInfo) => {
  await signUp(page);
  const problems = await openHydrated(page, '/');
  const name = `First evening ${Date.now()}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Create campaign' }).click();
  await page.locator('.campaign-list li', { hasText: name }).getByRole('link').click();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const offer = page.locator('[data-test="no-encounters"]');
  await expect(offer).toContainText('three goblins');
  await page.screenshot({ path: testInfo.outputPath('empty-campaign.png'), fullPage: true });
  await offer.locator('[data-test="sample-encounter"]').click();
  await expect(page).toHaveURL(/\/sessions\//);
  await expect(page.locator('[data-test="connection"]')).toHaveText('Connected');
  // Two goblins stand in the open; the third waits hidden, listed for the GM.
  await expect(page.locator('[data-token]', { hasText: 'Go' })).toHaveCount(3);
  await expect(page.locator('[data-token][aria-label*="hidden"]')).toHaveCount(1);
  await page.locator('[data-token][aria-label^="Goblin archer"]').focus();
  await expect(page.locator('[data-test="table-sheet"] [data-test="attacks"]')).toContainText('Scimitar');
  await page.screenshot({ path: testInfo.outputPath('sample-table.png') });
  expect(problems).toEqual([]);
});
