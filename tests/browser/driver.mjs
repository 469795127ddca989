// What the browser tests' drivers (public.mjs, office.mjs) share: starting Debian's Chromium
// with playwright-core, recording every request and console error, and running one MODE per
// node run that prints one JSON line for the Rust test (tests/src/browser.rs) to assert on.
//
// playwright-core is pinned in tests/browser/package.json and installed outside the repository
// by .ci/run:
//
//   npm install --prefix ~/.cache/streetpatrol/browser playwright-core@VERSION
//
// ($PATROL_TOOLS_DIR/browser when that is set). The Rust test passes that node_modules folder as
// $PATROL_BROWSER_MODULES; an ESM import of a bare name does not look there, so playwright-core is
// loaded with createRequire from it. Nothing is installed under tests/browser.

import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = process.env.PATROL_CHROMIUM || '/usr/bin/chromium';
const MODULES =
  process.env.PATROL_BROWSER_MODULES ||
  path.join(
    process.env.PATROL_TOOLS_DIR ||
      path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'streetpatrol'),
    'browser',
    'node_modules',
  );
export const STEP_TIMEOUT_MS = 30_000;
const WHOLE_RUN_MS = 180_000;

/// A 1440x900 desktop in Chinese.
export const DESKTOP = {
  viewport: { width: 1440, height: 900 },
  deviceScaleFactor: 1,
  locale: 'zh-CN',
};

let NAME = 'driver';
export const log = (...a) => console.error(`[${NAME}]`, ...a);

function out(value) {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/// A browser with a context per device; every request any page makes is kept.
async function open() {
  const require = createRequire(path.join(MODULES, 'noop.js'));
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--lang=zh-CN',
    ],
    // The browser's own words (a file input's button) in Chinese, as on a resident's phone:
    // Chromium on Linux takes them from LANGUAGE, and Debian's chromium-l10n has them (without
    // it they stay English).
    env: { ...process.env, LANGUAGE: 'zh_CN' },
  });
  const requests = [];
  const consoleErrors = [];
  const contexts = [];
  const context = async (options) => {
    const c = await browser.newContext(options);
    c.setDefaultTimeout(STEP_TIMEOUT_MS);
    c.on('request', (r) => requests.push(r.url()));
    c.on('page', (p) => {
      p.on('console', (m) => {
        // Where the message comes from: a resource's address for a failed load.
        if (m.type() === 'error') consoleErrors.push(`${m.location().url || p.url()}: ${m.text()}`);
      });
      p.on('pageerror', (e) => consoleErrors.push(`${p.url()}: ${e.message}`));
    });
    contexts.push(c);
    return c;
  };
  return { browser, context, requests, consoleErrors };
}

/// Two animation frames: the layout is done.
export const frames = (page) =>
  page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

/// Whether the page scrolls sideways at its current width, and at `widths` (then back).
export async function widths(page, list) {
  const before = page.viewportSize();
  const seen = {};
  for (const w of list) {
    await page.setViewportSize({ width: w, height: before.height });
    await frames(page);
    seen[w] = await page.evaluate(() => {
      const doc = document.scrollingElement;
      // The widest element past the right edge, to say what overflows.
      let culprit = null;
      let right = window.innerWidth;
      for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.right > right + 0.5) {
          right = r.right;
          culprit = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${
            el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : ''
          } (right edge ${Math.round(r.right)} px)`;
        }
      }
      return { scroll_width: doc.scrollWidth, inner_width: window.innerWidth, widest: culprit };
    });
  }
  await page.setViewportSize(before);
  return seen;
}

export async function shot(page, file) {
  await frames(page);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  log('screenshot', file);
}

/// The text of the first element `sel` matches, spaces folded.
export const text = (page, sel) =>
  page.locator(sel).first().evaluate((e) => e.textContent.replace(/\s+/g, ' ').trim());

/// Sends `form` by its submit button; returns the response to the POST.
export async function submit(page, formSelector) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.locator(`${formSelector} button[type=submit]`).click(),
  ]);
  await page.waitForLoadState('load');
  return response;
}

/// The driver's main: `node SCRIPT MODE 'JSON'` runs `modes[MODE](args, ctx)` in a fresh browser
/// and prints its result with the requests every page made (`requests`, and `foreign_requests`:
/// those not to `args.origin`) and the console errors; on a failure {"error": ...}, exit 1, and
/// a screenshot of every page in `ctx.pages` (`args.fail_shot`, then `-1`, `-2`... before
/// `.png`).
export function run(name, modes) {
  NAME = name;
  const main = async () => {
    const [mode, json] = process.argv.slice(2);
    const step = modes[mode];
    if (!step || !json) {
      out({ error: `usage: ${name} ${Object.keys(modes).join('|')} 'JSON'` });
      return 2;
    }
    const a = JSON.parse(json);
    const started = Date.now();
    const ctx = await open();
    ctx.pages = [];
    try {
      const result = await step(a, ctx);
      result.requests = ctx.requests;
      result.foreign_requests = ctx.requests.filter((u) => {
        if (u.startsWith('data:')) return false;
        try {
          return new URL(u).origin !== a.origin;
        } catch {
          return true;
        }
      });
      result.console_errors = ctx.consoleErrors;
      result.ms = Date.now() - started;
      out(result);
      return 0;
    } catch (e) {
      log('failed:', e && e.stack ? e.stack : e);
      const where = [];
      for (const [i, page] of ctx.pages.entries()) {
        where.push(page.url());
        if (a.fail_shot) {
          const file = i === 0 ? a.fail_shot : a.fail_shot.replace(/\.png$/, `-${i}.png`);
          await page.screenshot({ path: file, fullPage: true }).catch(() => {});
        }
      }
      out({ error: String(e && e.message ? e.message : e), pages: where, requests: ctx.requests });
      return 1;
    } finally {
      await ctx.browser.close().catch(() => {});
    }
  };

  const watchdog = setTimeout(() => {
    out({ error: `${name} did not finish in ${WHOLE_RUN_MS / 1000} s` });
    process.exit(3);
  }, WHOLE_RUN_MS);

  main().then(
    (code) => {
      clearTimeout(watchdog);
      process.exit(code);
    },
    (e) => {
      clearTimeout(watchdog);
      out({ error: `could not start the browser: ${e && e.stack ? e.stack : e}` });
      process.exit(1);
    },
  );
}
