// Browser test of the ISUCOIN single-page app, driving Debian's Chromium with playwright-core.
//
//   ISUCOIN_URL=http://127.0.0.1:8000 ISUCOIN_BANK_ID=<fresh bank id> \
//   [ISUCOIN_BANK_ID2=<another fresh bank id>] [OUT=dir] node --test tests/browser/spa.test.mjs
//
// Without ISUCOIN_URL it starts tests/browser/mock_server.mjs (serving web/dist, built if missing)
// and makes up bank ids. With ISUCOIN_BANK_ID2 (always against the mock) a second user trades
// with the first. Screenshots go to $OUT (default tests/browser/out): spa.png, spa-signed-out.png,
// and spa-failure.png when a step fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WEB = path.resolve(HERE, '../../web');
const require = createRequire(path.join(WEB, 'package.json'));
const { chromium } = require('playwright-core');

const OUT = path.resolve(process.env.OUT || path.join(HERE, 'out'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 10_000;
const rid = () => Math.random().toString(36).slice(2, 10);

/** Run one named step; on failure, rethrow with the step's name so the report says what broke. */
async function step(name, fn) {
  try {
    return await fn();
  } catch (e) {
    const err = new Error(`step "${name}" failed: ${e.message}`);
    err.cause = e;
    throw err;
  }
}

async function setup() {
  let base = process.env.ISUCOIN_URL;
  let mock = null;
  let bank1 = process.env.ISUCOIN_BANK_ID;
  let bank2 = process.env.ISUCOIN_BANK_ID2;
  if (!base) {
    const webRoot = process.env.WEB_ROOT || path.join(WEB, 'dist');
    if (!process.env.WEB_ROOT) execFileSync(path.join(WEB, 'build.sh'), { stdio: 'inherit' });
    const { startMockServer } = await import('./mock_server.mjs');
    mock = await startMockServer({ webRoot });
    base = mock.url;
    bank1 ||= `spa-${rid()}`;
    bank2 ||= `spa-${rid()}`;
  }
  assert.ok(bank1, 'ISUCOIN_BANK_ID (a fresh bank account id) is required with ISUCOIN_URL');
  return { base: base.replace(/\/+$/, ''), mock, bank1, bank2 };
}

function launch() {
  assert.ok(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  // playwright gives the browser a new, empty temporary user-data-dir of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page that records JS errors and any request leaving the exchange's origin. */
async function openPage(browser, base) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(`${base}/`) && !u.startsWith('data:')) page.problems.push(`request outside the exchange: ${u}`);
  });
  await page.goto(`${base}/`);
  await page.locator('body[data-ready="true"]').waitFor();
  return page;
}

const noProblems = (page) => assert.deepEqual(page.problems, [], 'the page had problems');

async function signUpAndIn(page, { name, bankId, password }) {
  await step(`sign up ${bankId}`, async () => {
    await page.getByRole('button', { name: 'Create account', pressed: false }).click();
    const form = page.locator('#signup-form');
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('Bank ID').fill(bankId);
    await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#signin-form .msg').filter({ hasText: 'Account created' }).waitFor();
    assert.equal(await page.locator('#signin-form').getByLabel('Bank ID').inputValue(), bankId);
  });
  await step(`sign in ${bankId}`, async () => {
    const form = page.locator('#signin-form');
    await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#account').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#user-name').textContent(), name);
    await page.locator('#order-form').waitFor({ state: 'visible' });
    await page.getByRole('heading', { name: 'My orders' }).waitFor();
  });
}

/** Place an order through the form; returns its id (from the confirmation message). */
async function placeOrder(page, type, amount, price, { keyboard = false } = {}) {
  const form = page.locator('#order-form');
  if (keyboard) {
    // Without a mouse: the checked radio is the group's tab stop; arrows move the choice,
    // Tab goes on to the fields, Enter submits.
    await form.locator('input[name="type"]:checked').focus();
    for (let i = 0; i < 2 && await form.locator('input[name="type"]:checked').inputValue() !== type; i++) {
      await page.keyboard.press('ArrowRight');
    }
    assert.equal(await form.locator('input[name="type"]:checked').inputValue(), type);
    await page.keyboard.press('Tab');
    await page.keyboard.type(String(amount));
    await page.keyboard.press('Tab');
    await page.keyboard.type(String(price));
    await page.keyboard.press('Enter');
  } else {
    await form.getByText(type === 'buy' ? 'Buy' : 'Sell', { exact: true }).click();
    await form.getByLabel(/Amount/).fill(String(amount));
    await form.getByLabel(/Limit price/).fill(String(price));
    await form.getByRole('button', { name: `Place ${type} order` }).click();
  }
  const msg = form.locator('.msg');
  await msg.filter({ hasText: /order #\d+ placed|.+/ }).waitFor();
  const text = await msg.textContent();
  const m = /order #(\d+) placed/.exec(text);
  assert.ok(m, `placing a ${type} order of ${amount} @ ${price} failed: ${text}`);
  await form.getByLabel(/Amount/).fill('');
  await form.getByLabel(/Limit price/).fill('');
  return Number(m[1]);
}

const row = (page, id) => page.locator(`#orders-body tr[data-id="${id}"]`);
const info = async (page) => (await page.request.get(`${new URL(page.url()).origin}/info?cursor=0`)).json();

test('ISUCOIN single-page app in Chromium', { timeout: 120_000 }, async (t) => {
  fs.mkdirSync(OUT, { recursive: true });
  fs.rmSync(path.join(OUT, 'spa-failure.png'), { force: true }); // from an earlier run
  const env = await setup();
  t.diagnostic(`exchange ${env.base}${env.mock ? ' (mock server)' : ''}, bank ids ${env.bank1}${env.bank2 ? `, ${env.bank2}` : ''}, screenshots in ${OUT}`);
  const browser = await step('launch Chromium', launch);
  let page;
  try {
    page = await step('open the page', () => openPage(browser, env.base));

    await step('the chart renders candles', async () => {
      const canvas = page.locator('.chart-canvas canvas').first();
      await canvas.waitFor();
      const box = await canvas.boundingBox();
      assert.ok(box && box.width > 200 && box.height > 200, `chart canvas too small: ${JSON.stringify(box)}`);
      await page.waitForFunction(() => Number(document.querySelector('.chart-canvas').dataset.candles) > 0, null, { timeout: TIMEOUT });
      assert.notEqual(await page.locator('#last-price').textContent(), '—');
    });

    const user1 = { name: `Chair Fan ${rid()}`, bankId: env.bank1, password: `pw-${rid()}` };
    await step('a wrong password shows the API error', async () => {
      const form = page.locator('#signin-form');
      await form.getByLabel('Bank ID').fill(`${env.bank1}`);
      await form.getByLabel('Password').fill('wrong');
      await form.getByRole('button', { name: 'Sign in' }).click();
      const alert = form.getByRole('alert');
      await alert.waitFor();
      assert.ok((await alert.textContent()).trim().length > 0, 'empty error message');
      await form.getByLabel('Bank ID').fill('');
      await form.getByLabel('Password').fill('');
    });
    await signUpAndIn(page, user1);

    const market = await info(page);
    const sellPrice = Math.max(market.lowest_sell_price || 0, market.highest_buy_price || 0, 1000) + 5000;
    let sellId, buyId;
    await step('place a sell and a buy; both show as open in "my orders"', async () => {
      sellId = await placeOrder(page, 'sell', 2, sellPrice);
      buyId = await placeOrder(page, 'buy', 1, 1, { keyboard: true });
      for (const [id, type] of [[sellId, 'sell'], [buyId, 'buy']]) {
        await row(page, id).waitFor();
        assert.equal(await row(page, id).getAttribute('data-type'), type);
        assert.equal(await row(page, id).getAttribute('data-status'), 'open');
      }
    });
    await step('an invalid order shows the API error', async () => {
      const form = page.locator('#order-form');
      await form.getByLabel(/Amount/).fill('0');
      await form.getByLabel(/Limit price/).fill('100');
      await form.getByRole('button', { name: /Place .* order/ }).click();
      await form.getByRole('alert').filter({ hasNotText: 'placed' }).waitFor();
      assert.ok((await form.getByRole('alert').textContent()).trim().length > 0);
    });
    await step('cancel the buy', async () => {
      await row(page, buyId).getByRole('button', { name: 'Cancel' }).click();
      await row(page, buyId).waitFor({ state: 'detached' });
      assert.equal(await row(page, sellId).getAttribute('data-status'), 'open');
    });
    await step('the chart switches interval from the keyboard', async () => {
      await page.getByRole('tab', { name: '1 sec' }).focus();
      for (const [key, name] of [['chart_by_min', '1 min'], ['chart_by_hour', '1 hour']]) {
        await page.keyboard.press('ArrowRight');
        assert.equal(await page.getByRole('tab', { name }).getAttribute('aria-selected'), 'true');
        assert.equal(await page.locator('.chart-canvas').getAttribute('data-interval'), key);
        assert.ok(Number(await page.locator('.chart-canvas').getAttribute('data-candles')) > 0, `no ${key} candles`);
      }
      await page.keyboard.press('ArrowRight'); // wraps back to 1 sec
    });

    if (env.bank2) {
      await step('a second user trades with the first; both see it in "my orders"', async () => {
        const page2 = await openPage(browser, env.base);
        await signUpAndIn(page2, { name: `Seller ${rid()}`, bankId: env.bank2, password: `pw-${rid()}` });
        const m = await info(page2);
        // Just under the best ask (so ours is the sell a buyer meets first), above the best bid.
        const price = (m.lowest_sell_price ?? sellPrice) - 1;
        assert.ok(price > (m.highest_buy_price ?? 0), `no room in the spread: ${JSON.stringify(m)}`);
        const sell2 = await placeOrder(page2, 'sell', 1, price);
        const buy1 = await placeOrder(page, 'buy', 1, price);
        // Each page learns of the trade from GET /orders or from /info's traded_orders.
        for (const [p, id] of [[page, buy1], [page2, sell2]]) {
          await p.locator(`#orders-body tr[data-id="${id}"][data-status="traded"]`).waitFor({ timeout: 15_000 });
          assert.match(await row(p, id).textContent(), new RegExp(`Traded @ ¥${price.toLocaleString('ja-JP')}`));
        }
        noProblems(page2);
        await page2.context().close();
      });
    } else {
      t.diagnostic('ISUCOIN_BANK_ID2 not set: skipped the two-user trade');
    }

    await step('screenshot', async () => {
      await page.waitForTimeout(1200); // one more /info tick
      await page.screenshot({ path: path.join(OUT, 'spa.png'), fullPage: true });
    });
    await step('sign out', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.locator('#signin-form').waitFor({ state: 'visible' });
      assert.ok(await page.locator('#orders-section').isHidden(), '"my orders" still shown after sign-out');
      const res = await page.request.get(`${env.base}/orders`);
      assert.equal(res.status(), 401, 'GET /orders after sign-out should be 401');
      await page.screenshot({ path: path.join(OUT, 'spa-signed-out.png') });
    });
    noProblems(page);
  } catch (e) {
    if (page) await page.screenshot({ path: path.join(OUT, 'spa-failure.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await browser.close();
    await env.mock?.close();
  }
});
