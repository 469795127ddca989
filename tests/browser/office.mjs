// The district office platform (/office) in real headless Chromium at 1440x900, for
// tests/tests/office_browser.rs.
//
//   node tests/browser/office.mjs MODE 'JSON ARGUMENTS'
//
// Drives Debian's Chromium (/usr/bin/chromium, or $PATROL_CHROMIUM) with npm playwright-core,
// through driver.mjs (shared with public.mjs), which says where playwright-core is found.
//
// Each run starts a fresh browser (a new temporary profile, so no session is left from the run
// before) and signs in through the form, typing the name and password; it does one MODE and
// prints one JSON line on stdout: what it saw, for the Rust test to assert on ({"error": ...} and
// exit 1 when a step failed; screenshots of the pages open then go to args.fail_shot). Progress
// goes to stderr.
//
// Every mode takes {origin, name, password, shots, fail_shot}, and:
//   dispatch   {period, issue}: the overview for `period` (typed into its form), the queue of open
//              problems (the nav's link), the queue filtered to overdue ones (the checkbox ticked
//              and the filter sent), then problem `issue` opened from the queue and dispatched to
//              city property (#assign-form's select and button). Screenshots of the overview and
//              the queue.
//   verify     {period, issue}: problem `issue`'s page (resolved by a crew meanwhile): its
//              after-photo, then verified through #verify-form; the overview again. Screenshot of
//              the problem's page.
//   reports    {month, downloads}: the assessment for `month` (typed into its form); every
//              export downloaded by clicking its link (assessment CSV and XLSX, the open queue's
//              CSV, stewards and merchants CSV and XLSX, the map's GeoJSON) into `downloads`; the
//              map drawn by Leaflet. Screenshots of the assessment and the map.
//
// Every mode returns the addresses the pages requested (`requests`, and those not to `origin` as
// `foreign_requests`): the test checks that none went anywhere but the server.

import path from 'node:path';

import { DESKTOP, frames, log, run, shot, submit, text } from './driver.mjs';

/// A fresh desktop page, signed in through the form: the office sends a browser without a
/// session to its sign-in page; the name and password are typed key by key.
async function signIn(a, ctx) {
  const context = await ctx.context(DESKTOP);
  const page = await context.newPage();
  ctx.pages.push(page);
  log('sign in as', a.name);
  const first = await page.goto(`${a.origin}/office`);
  await page.locator('form[action="/office/login"]').waitFor();
  const login = {
    status: first.status(),
    url: page.url(),
    title: await page.title(),
  };
  await page.locator('#name').pressSequentially(a.name);
  await page.locator('#password').pressSequentially(a.password);
  const sent = await submit(page, 'form[action="/office/login"]');
  await page.locator('#total-open').waitFor();
  login.post_status = sent.status();
  login.landed = page.url();
  login.who = await text(page, 'header .who');
  const cookies = await context.cookies();
  login.cookie = cookies
    .filter((c) => c.name === 'patrol_office')
    .map((c) => ({ http_only: c.httpOnly, same_site: c.sameSite }))[0] || null;
  return { page, login };
}

/// Types `value` into the `.filters` form's `name` field and sends the form (a GET).
async function filterBy(page, name, value) {
  const field = page.locator(`form.filters input[name=${name}]`);
  await field.fill('');
  await field.pressSequentially(value);
  await Promise.all([
    page.waitForURL((u) => u.searchParams.get(name) === value),
    page.locator('form.filters button[type=submit]').click(),
  ]);
  await page.waitForLoadState('load');
}

/// The overview's cards and its subdistricts' table.
async function overview(page) {
  const card = (id) => text(page, `#${id}`).then(Number);
  return {
    url: page.url(),
    open: await card('total-open'),
    overdue: await card('total-overdue'),
    reported: await card('total-reported'),
    resolved: await card('total-resolved'),
    verified: await card('total-verified'),
    subdistricts: await page
      .locator('#subdistricts tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [...r.cells].map((c) => c.textContent.replace(/\s+/g, ' ').trim())),
      ),
  };
}

/// The queue's rows as the table shows them, and its total.
async function queue(page) {
  return {
    url: page.url(),
    total: await text(page, '#queue-total'),
    rows: await page.locator('#queue tbody tr').evaluateAll((rows) =>
      rows.map((r) => ({
        id: r.dataset.id,
        status: r.dataset.status,
        overdue: r.classList.contains('overdue'),
        late_mark: r.querySelector('em') ? r.querySelector('em').textContent.trim() : null,
        category: r.cells[1].textContent.trim(),
      })),
    ),
  };
}

/// A problem's page as the supervisor sees it.
async function issuePage(page) {
  const status = page.locator('#issue-status');
  return {
    url: page.url(),
    status: await status.getAttribute('data-status'),
    status_text: await text(page, '#issue-status'),
    assignees: await text(page, '#assignees'),
    notice: (await page.locator('p.notice').count()) ? await text(page, 'p.notice') : null,
    can_assign: (await page.locator('#assign-form').count()) > 0,
    can_verify: (await page.locator('#verify-form').count()) > 0,
    can_comment: (await page.locator('#comment-form').count()) > 0,
    timeline: await page
      .locator('ol.timeline li')
      .evaluateAll((items) => items.map((i) => i.textContent.replace(/\s+/g, ' ').trim())),
  };
}

async function dispatch(a, ctx) {
  const { page, login } = await signIn(a, ctx);
  const result = { login };

  log('overview for', a.period);
  await filterBy(page, 'period', a.period);
  result.overview = await overview(page);
  await shot(page, path.join(a.shots, 'office-overview.png'));

  log('the queue');
  await tab(page, '问题', '/office/issues', '#queue');
  result.queue = await queue(page);
  await shot(page, path.join(a.shots, 'office-queue.png'));

  log('the queue, overdue only');
  await page.locator('form.filters input[name=overdue]').check();
  await Promise.all([
    page.waitForURL((u) => u.searchParams.get('overdue') === '1'),
    page.locator('form.filters button[type=submit]').click(),
  ]);
  await page.waitForLoadState('load');
  result.overdue_queue = await queue(page);
  result.overdue_queue.checked = await page.locator('form.filters input[name=overdue]').isChecked();

  log('dispatch', a.issue);
  await page.locator('form.filters input[name=overdue]').uncheck();
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/office/issues' && u.searchParams.get('overdue') === null),
    page.locator('form.filters button[type=submit]').click(),
  ]);
  await Promise.all([
    page.waitForURL((u) => u.pathname === `/office/issues/${a.issue}`),
    page.locator(`#queue tr[data-id="${a.issue}"] a`).click(),
  ]);
  await page.locator('#issue-status').waitFor();
  result.before = await issuePage(page);
  await page.locator('#assign-form select[name=to]').selectOption('city_property');
  result.chosen = await page.locator('#assign-form select[name=to]').inputValue();
  const sent = await submit(page, '#assign-form');
  await page.locator('p.notice').waitFor();
  result.post_status = sent.status();
  result.after = await issuePage(page);
  return result;
}

async function verify(a, ctx) {
  const { page, login } = await signIn(a, ctx);
  const result = { login };
  log('problem', a.issue);
  await page.goto(`${a.origin}/office/issues/${a.issue}`);
  await page.locator('#issue-status').waitFor();
  result.before = await issuePage(page);
  // Every photo, decoded as the supervisor sees it (lazy images load once scrolled to).
  const photos = page.locator('.photos img');
  for (let i = 0; i < (await photos.count()); i++) {
    await photos.nth(i).scrollIntoViewIfNeeded();
  }
  await page.waitForFunction(() =>
    [...document.querySelectorAll('.photos img')].every((i) => i.complete && i.naturalWidth > 0),
  );
  result.photos = await photos.evaluateAll((imgs) =>
    imgs.map((i) => ({
      src: i.getAttribute('src'),
      alt: i.alt,
      natural_width: i.naturalWidth,
      shown_width: i.getBoundingClientRect().width,
    })),
  );
  await page.evaluate(() => window.scrollTo(0, 0));

  await page.locator('#verify-form input[name=text]').pressSequentially(a.note);
  const sent = await submit(page, '#verify-form');
  await page.locator('p.notice').waitFor();
  result.post_status = sent.status();
  result.after = await issuePage(page);
  await page
    .waitForFunction(() =>
      [...document.querySelectorAll('.photos img')].every((i) => i.complete && i.naturalWidth > 0),
    )
    .catch(() => {});
  await shot(page, path.join(a.shots, 'office-issue.png'));

  log('overview for', a.period);
  await tab(page, '总览', '/office', '#total-open');
  await filterBy(page, 'period', a.period);
  result.overview = await overview(page);
  return result;
}

/// Clicks the link `link` and saves what it downloads into `dir`.
async function download(page, link, dir) {
  const [d] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const name = d.suggestedFilename();
  const file = path.join(dir, name);
  await d.saveAs(file);
  const failure = await d.failure();
  log('downloaded', name);
  return { href: await link.getAttribute('href'), url: d.url(), name, file, failure };
}

/// The header's link to the tab `label`.
const nav = (page, label) => page.locator('header nav').getByRole('link', { name: label, exact: true });

/// Goes to the nav's tab `label` (its page at `pathname`) and waits for `selector`.
async function tab(page, label, pathname, selector) {
  await Promise.all([page.waitForURL((u) => u.pathname === pathname), nav(page, label).click()]);
  await page.locator(selector).waitFor();
}

async function reports(a, ctx) {
  const { page, login } = await signIn(a, ctx);
  const result = { login, downloads: {} };

  log('assessment for', a.month);
  await tab(page, '考核', '/office/assessment', '#assessment');
  await filterBy(page, 'period', a.month);
  result.assessment = {
    url: page.url(),
    heading: await text(page, 'h1'),
    rows: await page.locator('#assessment tbody tr[data-user]').evaluateAll((rows) =>
      rows.map((r) => ({
        user: r.dataset.user,
        rank: r.cells[0].textContent.trim(),
        name: r.cells[1].textContent.trim(),
        subdistrict: r.cells[2].textContent.trim(),
        score: r.querySelector('td.score').textContent.replace(/\s+/g, ' ').trim(),
      })),
    ),
  };
  await shot(page, path.join(a.shots, 'office-assessment.png'));
  result.downloads.assessment_csv = await download(
    page,
    page.locator('form.filters a[href^="/office/assessment.csv"]'),
    a.downloads,
  );
  result.downloads.assessment_xlsx = await download(
    page,
    page.locator('form.filters a[href^="/office/assessment.xlsx"]'),
    a.downloads,
  );

  log('the queue export');
  await tab(page, '问题', '/office/issues', '#queue');
  result.queue = await queue(page);
  result.downloads.issues_csv = await download(
    page,
    page.locator('form.filters a[href^="/office/issues.csv"]'),
    a.downloads,
  );

  log('stewards and merchants');
  await tab(page, '小巷管家', '/office/stewards', 'form.filters');
  result.downloads.stewards_csv = await download(
    page,
    page.locator('a[href^="/office/stewards.csv"]'),
    a.downloads,
  );
  result.downloads.stewards_xlsx = await download(
    page,
    page.locator('a[href^="/office/stewards.xlsx"]'),
    a.downloads,
  );
  await tab(page, '商户', '/office/merchants', 'form.filters');
  result.downloads.merchants_csv = await download(
    page,
    page.locator('a[href^="/office/merchants.csv"]'),
    a.downloads,
  );
  result.downloads.merchants_xlsx = await download(
    page,
    page.locator('a[href^="/office/merchants.xlsx"]'),
    a.downloads,
  );

  log('the map');
  await tab(page, '地图', '/office/map', '#map');
  // The map's script says how much it drew once the data is on the map.
  await page.waitForFunction(() => /^共 /.test(document.getElementById('map-status').textContent));
  await frames(page);
  result.map = await page.evaluate(() => {
    const box = document.getElementById('map').getBoundingClientRect();
    const shapes = [...document.querySelectorAll('#map .leaflet-overlay-pane path.leaflet-interactive')];
    return {
      status: document.getElementById('map-status').textContent.trim(),
      box: { width: box.width, height: box.height },
      leaflet: document.getElementById('map').classList.contains('leaflet-container'),
      tiles: document.querySelectorAll('#map img.leaflet-tile').length,
      cards: Object.fromEntries(
        ['map-segments', 'map-open', 'map-overdue', 'map-signboards'].map((id) => [
          id,
          document.getElementById(id).textContent.trim(),
        ]),
      ),
      shapes: shapes.map((p) => {
        const r = p.getBoundingClientRect();
        const d = p.getAttribute('d') || '';
        return {
          // Leaflet draws a circle marker as two arcs, a line as moves and line-tos.
          kind: /a/i.test(d) ? 'circle' : 'line',
          stroke: p.getAttribute('stroke'),
          fill: p.getAttribute('fill'),
          inside:
            r.width + r.height > 0 &&
            r.left >= box.left - 1 &&
            r.right <= box.right + 1 &&
            r.top >= box.top - 1 &&
            r.bottom <= box.bottom + 1,
        };
      }),
    };
  });
  await shot(page, path.join(a.shots, 'office-map.png'));
  result.downloads.map_geojson = await download(page, page.locator('#map-download'), a.downloads);
  return result;
}

run('office.mjs', { dispatch, verify, reports });
