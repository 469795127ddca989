// The signboard pages in real headless Chromium, for tests/tests/public_browser.rs.
//
//   node tests/browser/public.mjs MODE 'JSON ARGUMENTS'
//
// Drives Debian's Chromium (/usr/bin/chromium, or $PATROL_CHROMIUM) with npm playwright-core,
// through driver.mjs (shared with office.mjs), which says where playwright-core is found.
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

import path from 'node:path';

import { DESKTOP, log, run, shot, submit, text, widths } from './driver.mjs';

const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
};

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

run('public.mjs', { report, receipt, steward, application });
