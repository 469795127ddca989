// The signboard pages in real headless Chromium, for tests/tests/public_browser.rs.
//
//   node tests/browser/public.mjs MODE 'JSON ARGUMENTS'
//
// Drives Debian's Chromium (/usr/bin/chromium, or $PATROL_CHROMIUM) with npm playwright-core,
// pinned in tests/browser/package.json and installed outside the repository by .ci/run:
//
//   npm install --prefix ~/.cache/streetpatrol/browser playwright-core@VERSION
//
// ($PATROL_TOOLS_DIR/browser when that is set). The Rust test passes that node_modules folder as
// $PATROL_BROWSER_MODULES; an ESM import of a bare name does not look there, so playwright-core is
// loaded with createRequire from it. Nothing is installed under tests/browser.
//
// Each run starts a fresh browser (a new temporary profile), does one MODE and prints one JSON line
// on stdout: what it saw, for the Rust test to assert on ({"error": ...} and exit 1 when a step
// failed; screenshots of the pages open then go to args.fail_shot). Progress goes to stderr.
//
// MODE:
//   report       args {url, origin, photo, category, description, phone, shots, fail_shot}: the
//                signboard page on a phone (390x844 at 2x, touch, zh-CN) and a 1440x900 desktop:
//                widths at 390 and 360 px, screenshots; the report form sent with no category (the browser's own checks
//                turned off) so the server's error shows; then sent right with the photo.
//                Returns the receipt's address.
//   receipt      args {url, origin, shots, fail_shot}: the receipt on both, screenshots, and the
//                after-photo's bytes as the page fetches them (base64).
//   steward      args {url, origin, name, phone, availability, fail_shot}: the steward form on a
//                phone; returns the applicant's page.
//   application  args {url, origin, fail_shot}: the applicant's page again: status, enrolment code.
//
// Every mode returns the addresses the pages requested (`requests`): the test checks that none
// went anywhere but the server.

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
const STEP_TIMEOUT_MS = 30_000;
const WHOLE_RUN_MS = 180_000;

const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
};
const DESKTOP = {
  viewport: { width: 1440, height: 900 },
  deviceScaleFactor: 1,
  locale: 'zh-CN',
};

const log = (...a) => console.error('[public.mjs]', ...a);

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

/// Whether the page scrolls sideways at its current width, and at `widths` (then back).
async function widths(page, list) {
  const before = page.viewportSize();
  const seen = {};
  for (const w of list) {
    await page.setViewportSize({ width: w, height: before.height });
    // Two frames: the layout at the new width is done.
    await page.evaluate(
      () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
    );
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

async function shot(page, file) {
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
  );
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  log('screenshot', file);
}

const text = (page, sel) =>
  page.locator(sel).first().evaluate((e) => e.textContent.replace(/\s+/g, ' ').trim());

/// Sends `form` by its submit button; returns the response to the POST.
async function submit(page, formSelector) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.locator(`${formSelector} button[type=submit]`).click(),
  ]);
  await page.waitForLoadState('load');
  return response;
}

/// The report form sent with no category, the browser's own checks off: the server's answer.
async function reportWithoutCategory(page, description, phone) {
  await page.locator('#description').fill(description);
  await page.locator('#contact_phone').fill(phone);
  await page.evaluate(() => {
    const form = document.getElementById('report-form');
    form.noValidate = true;
    for (const el of form.querySelectorAll('[required]')) el.removeAttribute('required');
  });
  const response = await submit(page, '#report-form');
  await page.locator('#category-error').waitFor();
  return {
    status: response.status(),
    url: page.url(),
    alert: await text(page, '.alert'),
    category_error: await text(page, '#category-error'),
    category_invalid: await page.locator('#category').getAttribute('aria-invalid'),
    description: await page.locator('#description').inputValue(),
    phone: await page.locator('#contact_phone').inputValue(),
  };
}

async function report(a, ctx) {
  const phoneCtx = await ctx.context(PHONE);
  const desktopCtx = await ctx.context(DESKTOP);
  const phone = await phoneCtx.newPage();
  const desktop = await desktopCtx.newPage();
  ctx.pages.push(phone, desktop);
  const result = {};

  log('signboard page', a.url);
  const first = await phone.goto(a.url);
  await phone.locator('#report-form').waitFor();
  result.signboard = {
    status: first.status(),
    lang: await phone.evaluate(() => document.documentElement.lang),
    title: await phone.title(),
    street: await text(phone, '#street-card h1'),
    facts: await text(phone, '#street-card .facts'),
    has_js: await phone.evaluate(() => document.documentElement.classList.contains('has-js')),
    // An id used twice: a label's `for` then names the first element only.
    duplicate_ids: await phone.evaluate(() => {
      const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
      return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
    }),
    // What each form label is the label of (its `for` resolved by the browser).
    labels: await phone.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll('label[for]')].map((l) => [
          l.htmlFor,
          l.control ? `${l.control.tagName.toLowerCase()}#${l.control.id}` : null,
        ]),
      ),
    ),
    widths: await widths(phone, [390, 360]),
  };
  await shot(phone, path.join(a.shots, 'public-signboard-390.png'));
  await desktop.goto(a.url);
  await desktop.locator('#report-form').waitFor();
  result.signboard.desktop_widths = await widths(desktop, [1440]);
  await shot(desktop, path.join(a.shots, 'public-signboard-1440.png'));

  log('report without a category');
  result.form_error = await reportWithoutCategory(phone, a.description, a.phone);
  result.form_error.widths = await widths(phone, [390, 360]);
  await shot(phone, path.join(a.shots, 'public-form-error-390.png'));
  const errorDesktop = await reportWithoutCategory(desktop, a.description, a.phone);
  result.form_error.desktop_status = errorDesktop.status;
  await shot(desktop, path.join(a.shots, 'public-form-error-1440.png'));

  log('report put right, with the photo');
  // On the page the server sent back: the description and phone are kept; the photo is chosen
  // again (a browser cannot be given a file back).
  await phone.locator('#category').selectOption(a.category);
  await phone.locator('#photos').setInputFiles(a.photo);
  // The page's script previews the photo (and would shrink a large one) before it is sent.
  await phone.locator('#previews img').first().waitFor();
  result.previews = await phone.locator('#previews img').count();
  const sent = await submit(phone, '#report-form');
  await phone.waitForURL(/\/r\/[^/?#]+/);
  await phone.locator('#token').waitFor();
  result.receipt = {
    post_status: sent.status(),
    url: phone.url(),
    status: await text(phone, '#status'),
    token: await text(phone, '#token'),
    token_visible: await phone.locator('#token').isVisible(),
    status_visible: await phone.locator('#status').isVisible(),
    body: await text(phone, 'main'),
    widths: await widths(phone, [390, 360]),
  };
  return result;
}

async function receipt(a, ctx) {
  const phoneCtx = await ctx.context(PHONE);
  const desktopCtx = await ctx.context(DESKTOP);
  const phone = await phoneCtx.newPage();
  const desktop = await desktopCtx.newPage();
  ctx.pages.push(phone, desktop);
  log('receipt', a.url);
  const r = await phone.goto(a.url);
  await phone.locator('#status').waitFor();
  const img = phone.locator('#after-photo');
  const hasPhoto = (await img.count()) > 0;
  const result = {
    http_status: r.status(),
    status: await text(phone, '#status'),
    token: await text(phone, '#token'),
    body: await text(phone, 'main'),
    after_photo: null,
    widths: await widths(phone, [390, 360]),
  };
  if (hasPhoto) {
    await img.scrollIntoViewIfNeeded();
    // Decoded and laid out, as the resident sees it.
    await phone.waitForFunction(() => {
      const i = document.getElementById('after-photo');
      return i.complete && i.naturalWidth > 0;
    });
    result.after_photo = await img.evaluate(async (i) => {
      const res = await fetch(i.src);
      const bytes = new Uint8Array(await res.arrayBuffer());
      let bin = '';
      for (let k = 0; k < bytes.length; k += 0x8000) {
        bin += String.fromCharCode.apply(null, bytes.subarray(k, k + 0x8000));
      }
      return {
        src: i.getAttribute('src'),
        natural_width: i.naturalWidth,
        natural_height: i.naturalHeight,
        shown_width: i.getBoundingClientRect().width,
        content_type: res.headers.get('content-type'),
        base64: btoa(bin),
      };
    });
  }
  await phone.evaluate(() => window.scrollTo(0, 0));
  await shot(phone, path.join(a.shots, 'public-receipt-390.png'));
  await desktop.goto(a.url);
  await desktop.locator('#status').waitFor();
  if (hasPhoto) {
    await desktop.waitForFunction(() => {
      const i = document.getElementById('after-photo');
      return i.complete && i.naturalWidth > 0;
    });
  }
  result.desktop_widths = await widths(desktop, [1440]);
  await shot(desktop, path.join(a.shots, 'public-receipt-1440.png'));
  return result;
}

async function steward(a, ctx) {
  const phoneCtx = await ctx.context(PHONE);
  const phone = await phoneCtx.newPage();
  ctx.pages.push(phone);
  log('steward form', a.url);
  await phone.goto(a.url);
  const form = phone.locator('#steward-form');
  await form.waitFor();
  await form.locator('#name').fill(a.name);
  await form.locator('#phone').fill(a.phone);
  await form.locator('#availability').fill(a.availability);
  // The steward form's choice of street.
  const street = await form.locator('select#street').inputValue();
  const sent = await submit(phone, '#steward-form');
  await phone.waitForURL(/\/a\/[^/?#]+/);
  await phone.locator('#status').waitFor();
  return {
    street,
    post_status: sent.status(),
    url: phone.url(),
    status: await text(phone, '#status'),
    body: await text(phone, 'main'),
    widths: await widths(phone, [390, 360]),
  };
}

async function application(a, ctx) {
  const phoneCtx = await ctx.context(PHONE);
  const phone = await phoneCtx.newPage();
  ctx.pages.push(phone);
  log('applicant page', a.url);
  const r = await phone.goto(a.url);
  await phone.locator('#status').waitFor();
  const code = phone.locator('#enrol-code');
  return {
    http_status: r.status(),
    status: await text(phone, '#status'),
    enrol_code: (await code.count()) > 0 ? await text(phone, '#enrol-code') : null,
    enrol_code_visible: (await code.count()) > 0 && (await code.isVisible()),
    body: await text(phone, 'main'),
    widths: await widths(phone, [390, 360]),
  };
}

const MODES = { report, receipt, steward, application };

async function main() {
  const [mode, json] = process.argv.slice(2);
  const run = MODES[mode];
  if (!run || !json) {
    out({ error: `usage: public.mjs ${Object.keys(MODES).join('|')} 'JSON'` });
    return 2;
  }
  const a = JSON.parse(json);
  const started = Date.now();
  const ctx = await open();
  ctx.pages = [];
  try {
    const result = await run(a, ctx);
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
    // Every open page as it was: `fail_shot` for the first, `-1`, `-2`... before `.png` for others.
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
}

const watchdog = setTimeout(() => {
  out({ error: `public.mjs did not finish in ${WHOLE_RUN_MS / 1000} s` });
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
