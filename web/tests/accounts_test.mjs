// Accounts, dashboard, members, invitations, activity and the viewer's
// read-only UI, through the browser against a real weftd.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiToken, createWorkspace, inviteAndAccept, kTimeout, newPage, screenshot, signUp, weftdAndBrowser } from './harness.mjs';

const env = weftdAndBrowser();


test('sign up, sign out, sign in, reset the password', { timeout: 120_000 }, async () => {
  const { server, browser } = env;
  const { context, page } = await newPage(browser, server.url);
  await page.goto('/signin');
  await screenshot(page, 'sign-in');
  await page.goto('/signup');
  await page.getByRole('heading', { name: 'Create an account' }).waitFor();
  await screenshot(page, 'sign-up');
  const { email } = await signUp(page, 'Reset');
  await screenshot(page, 'workspaces');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  // A page that needs a session sends us to sign in.
  await page.goto('/');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();

  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Send reset link' }).click();
  await page.getByText('a reset link is on its way').waitFor();
  await screenshot(page, 'forgot-password');
  // Development mode writes the mail to weftd's log.
  let link;
  for (let i = 0; i < 100 && !link; ++i) {
    link = /https?:\/\/[^\s"\\]+\/reset-password\?token=[A-Za-z0-9._~%-]+/.exec(server.log())?.[0];
    if (!link) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(link, 'reset link in the log');
  await page.goto(new URL(link).pathname + new URL(link).search);
  await screenshot(page, 'reset-password');
  await page.getByLabel('New password', { exact: true }).fill('a brand new password');
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByRole('heading', { name: 'Password changed' }).waitFor();
  await page.getByRole('link', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Workspaces' }).waitFor(); // the reset signed us in
  await page.getByRole('button', { name: 'Sign out' }).click();

  await page.goto('/signin');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: /./ }).waitFor();
  await page.getByLabel('Password', { exact: true }).fill('a brand new password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workspaces' }).waitFor();
  await context.close();
});

test('documents: create, search, rename, delete and restore', { timeout: 120_000 }, async () => {
  const { server, browser } = env;
  const { context, page } = await newPage(browser, server.url);
  await signUp(page, 'Dana');
  const ws = await createWorkspace(page, 'Team Alpha');
  for (const [title, kind] of [['Roadmap', 'board'], ['Meeting notes', 'text'], ['Whiteboard', 'canvas']]) {
    await page.goto(`/w/${ws}`);
    await page.getByLabel('Title', { exact: true }).fill(title);
    await page.getByLabel('Kind', { exact: true }).selectOption(kind);
    await page.getByRole('button', { name: 'Create document' }).click();
    await page.waitForURL(/\/d\//);
  }
  await page.goto(`/w/${ws}`);
  const rows = page.locator('tbody tr');
  await page.getByRole('link', { name: 'Whiteboard' }).waitFor();
  assert.equal(await rows.count(), 3);
  await assert.doesNotReject(page.getByRole('cell', { name: 'Canvas' }).waitFor());
  await screenshot(page, 'dashboard');

  await page.getByLabel('Search', { exact: true }).fill('notes');
  await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1, null, { timeout: kTimeout });
  assert.equal(await rows.first().getByRole('link').textContent(), 'Meeting notes');
  await page.getByLabel('Search', { exact: true }).fill('');
  await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 3, null, { timeout: kTimeout });

  await page.getByRole('button', { name: 'Rename Roadmap' }).click();
  await page.getByLabel('New title for Roadmap', { exact: true }).fill('Roadmap 2027');
  await page.keyboard.press('Enter');
  await page.getByRole('link', { name: 'Roadmap 2027' }).waitFor();

  await page.getByRole('button', { name: 'Delete Whiteboard' }).click();
  await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 2, null, { timeout: kTimeout });
  await page.getByLabel('Show deleted', { exact: true }).check();
  await page.getByRole('button', { name: 'Restore Whiteboard' }).click();
  await page.getByText('No documents.').waitFor();
  await page.getByLabel('Show deleted', { exact: true }).uncheck();
  await page.getByRole('link', { name: 'Whiteboard' }).waitFor();

  await page.getByRole('link', { name: 'Activity' }).click();
  const feed = page.getByRole('list', { name: 'Activity' });
  await feed.getByText('Dana restored Whiteboard').waitFor();
  await feed.getByText('Dana renamed a document to Roadmap 2027').waitFor();
  await screenshot(page, 'activity');

  // Phone-sized screen: the same page stays usable.
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto(`/w/${ws}`);
  await page.getByRole('link', { name: 'Roadmap 2027' }).waitFor();
  await screenshot(page, 'dashboard-phone');
  await context.close();
});

test('members: invite, accept by link, change a role, remove; a viewer changes nothing', { timeout: 180_000 }, async () => {
  const { server, browser } = env;
  const a = await newPage(browser, server.url);
  const b = await newPage(browser, server.url);
  await signUp(a.page, 'Olivia');
  const bob = await signUp(b.page, 'Victor');
  const ws = await createWorkspace(a.page, 'Shared');
  await a.page.getByLabel('Title', { exact: true }).fill('Plan');
  await a.page.getByRole('button', { name: 'Create document' }).click();
  await a.page.waitForURL(/\/d\//);
  const docId = new URL(a.page.url()).pathname.split('/')[2];

  await inviteAndAccept(a.page, ws, bob.email, 'viewer', b.page);
  await a.page.goto(`/w/${ws}/members`);
  const member = a.page.locator(`li[data-member="${bob.email}"]`);
  await member.waitFor();
  assert.equal(await a.page.getByLabel('Role of Victor', { exact: true }).inputValue(), 'viewer');
  await a.page.getByRole('list', { name: 'Invitations' }).getByText('accepted').waitFor();
  await screenshot(a.page, 'members');

  // The viewer's UI offers no change.
  await b.page.goto(`/w/${ws}`);
  await b.page.getByRole('link', { name: 'Plan' }).waitFor();
  await b.page.getByText('viewer: read only').waitFor();
  assert.equal(await b.page.getByRole('button', { name: /Create document|Rename|Delete/ }).count(), 0);
  await b.page.goto(`/w/${ws}/members`);
  await b.page.locator('li[data-member]').first().waitFor();
  assert.equal(await b.page.getByRole('button', { name: /Invite|Remove/ }).count(), 0);
  assert.equal(await b.page.getByRole('combobox').count(), 0);
  await screenshot(b.page, 'viewer');

  // ... and the server refuses what the UI does not offer.
  const token = await apiToken(b.context.request, server, bob);
  const headers = { Authorization: `Bearer ${token}` };
  const create = await b.context.request.post(`${server.url}/api/v1/workspaces/${ws}/documents`,
    { headers, data: { kind: 'text', title: 'Sneaky' } });
  assert.equal(create.status(), 403);
  const rename = await b.context.request.patch(`${server.url}/api/v1/documents/${docId}`, { headers, data: { title: 'Mine' } });
  assert.equal(rename.status(), 403);
  const del = await b.context.request.delete(`${server.url}/api/v1/documents/${docId}`, { headers });
  assert.equal(del.status(), 403);

  // Promote, then remove.
  const patched = a.page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/members/'));
  await a.page.getByLabel('Role of Victor', { exact: true }).selectOption('editor');
  assert.equal((await patched).status(), 200);
  await b.page.goto(`/w/${ws}`);
  await b.page.getByRole('button', { name: 'Create document' }).waitFor();

  await a.page.getByRole('button', { name: 'Remove Victor' }).click();
  await member.waitFor({ state: 'detached' });
  await b.page.goto(`/w/${ws}`);
  await b.page.getByRole('alert').filter({ hasText: /./ }).waitFor();
  await a.context.close();
  await b.context.close();
});
