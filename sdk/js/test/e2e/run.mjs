// End to end: the IIFE bundle in headless Chromium, sending to a real
// `px serve`, events read back through PX's API.
//
//   PX_BIN=/path/to/px node test/e2e/run.mjs     (default PX_BIN: /work/cargo-target/debug/px)
//
// One scenario runs first (navigation, SPA routes, clicks, a rage click, a
// thrown error, offline and back, reload, identify, a full page change);
// each test then checks one promise of the SDK against what PX stored.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, serve, waitFor } from '../support.mjs';

const PX_BIN = process.env.PX_BIN ?? '/work/cargo-target/debug/px';
const BUNDLE = new URL('../../dist/px.js', import.meta.url);
const USER_ID = 'user-e2e-42';
const TYPED_SECRET = 'ana.typed@example.com';

const cleanups = [];
let px; // { url, projectId, ingestKey, secretKey }
let events = []; // every event PX stored, as read back
const seen = {}; // what the page said about itself during the scenario
const beacons = []; // requests that carried the key in the URL (navigator.sendBeacon), as PX answered them
const consoleErrors = [];
const pageErrors = [];

/** Starts `px serve` on a free port in a new data dir, with one project. */
async function startPx() {
  if (!existsSync(PX_BIN)) throw new Error(`PX_BIN=${PX_BIN} does not exist: build px or set PX_BIN`);
  const dataDir = mkdtempSync(join(tmpdir(), 'px-e2e-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const project = JSON.parse(
    execFileSync(PX_BIN, ['admin', 'project', 'create', 'sdk-e2e', '--json', '--data-dir', dataDir], {
      encoding: 'utf8',
    }),
  );
  const child = spawn(PX_BIN, ['serve', '--data-dir', dataDir, '--port', '0', '--bind', '127.0.0.1'], {
    env: { ...process.env, PX_ADMIN_PASSWORD: 'e2e-password-not-secret' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  cleanups.push(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`px serve exited with ${child.exitCode}:\n${output}`);
      return output.match(/listening on (http:\/\/[^\s]+)/)?.[1];
    },
    'px serve to print its address',
    60_000,
  );
  await waitFor(async () => (await fetch(`${url}/ready`).catch(() => null))?.ok, 'px to be ready', 60_000);
  return { url, projectId: project.project_id, ingestKey: project.ingest_key, secretKey: project.secret_key };
}

/**
 * Forwards every request of the page to PX, and records those carrying the
 * key in the URL: Playwright does not report beacons sent by a page that is
 * going away, a proxy sees them all.
 */
function recordingProxy(target) {
  return serve((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      for (const h of ['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']) delete headers[h];
      const answer = await fetch(target + req.url, { method: req.method, headers, body: body.length ? body : undefined });
      const text = await answer.text();
      if (req.url.includes('?key=')) {
        beacons.push({ url: req.url, method: req.method, type: req.headers['content-type'], status: answer.status, body });
      }
      const passed = {};
      answer.headers.forEach((v, k) => {
        if (k.startsWith('access-control-') || k === 'content-type' || k === 'retry-after') passed[k] = v;
      });
      res.writeHead(answer.status, passed);
      res.end(text);
    });
  });
}

/** The test site: every path is the same small shop page, instrumented with the bundle. */
function page(pxUrl, ingestKey) {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>PX test shop</title>
<script src="/px.js"></script>
<script>PX.init({ apiKey: ${JSON.stringify(ingestKey)}, host: ${JSON.stringify(pxUrl)}, flushInterval: 300 });</script>
</head><body>
<nav>
  <button id="to-cart">Cart</button>
  <button id="dead">Does nothing</button>
  <button id="crash">Pay</button>
  <a id="docs" href="/docs">Docs</a>
  <input id="email" type="email" placeholder="email">
</nav>
<main id="view"><h1>Home</h1></main>
<div style="height: 4000px"></div>
<script>
  document.getElementById('to-cart').addEventListener('click', () => {
    history.pushState({}, '', '/cart');
    document.querySelector('#view h1').textContent = 'Cart';
  });
  document.getElementById('crash').addEventListener('click', () => {
    throw new Error('checkout exploded');
  });
</script>
</body></html>`;
}

async function readEvents() {
  const out = [];
  let cursor = '';
  do {
    const res = await fetch(
      `${px.url}/api/v1/projects/${px.projectId}/events?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      { headers: { Authorization: `Bearer ${px.secretKey}` } },
    );
    assert.equal(res.status, 200, `reading events: ${await res.clone().text()}`);
    const body = await res.json();
    out.push(...body.events);
    cursor = body.next_cursor ?? '';
  } while (cursor);
  return out;
}

/** Polls PX until `ready(events)` holds. */
function eventsWhere(ready, what) {
  return waitFor(async () => {
    const all = await readEvents();
    return ready(all) && all;
  }, what);
}

const named = (name) => events.filter((e) => e.event === name);

before(async () => {
  px = await startPx();
  const proxy = await recordingProxy(px.url);
  cleanups.push(proxy.close);
  const site = await serve((req, res) => {
    if (req.url === '/px.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(readFileSync(BUNDLE));
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(page(proxy.url, px.ingestKey));
    }
  });
  cleanups.push(site.close);
  const browser = await launchBrowser();
  cleanups.push(browser.close);
  const { context } = browser;
  const tab = await context.newPage();
  tab.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  tab.on('pageerror', (e) => pageErrors.push(e.message));

  await tab.goto(`${site.url}/app`);
  seen.anonymousId = await tab.evaluate(() => PX.getDistinctId());
  seen.sessionId = await tab.evaluate(() => PX.getSessionId());
  await tab.evaluate(() => PX.track('added_to_cart', { sku: 'A-1', price: 12.5 }));

  await tab.click('#to-cart'); // SPA route change: /app -> /cart
  await tab.fill('#email', TYPED_SECRET);
  await tab.click('#email');

  const dead = await tab.locator('#dead').boundingBox();
  for (let i = 0; i < 3; i++) await tab.mouse.click(dead.x + 10, dead.y + 5);
  // Nothing may happen on the page until the dead-click window closes.
  await eventsWhere((all) => all.some((e) => e.event === 'dead_click'), 'a dead_click');

  await tab.click('#crash');
  await tab.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await tab.evaluate((id) => PX.identify(id, { plan: 'pro' }), USER_ID);
  await tab.evaluate(() => PX.flush());

  await context.setOffline(true);
  seen.onLineWhileOffline = await tab.evaluate(() => navigator.onLine);
  await tab.evaluate(async () => {
    for (let n = 1; n <= 3; n++) PX.track('offline_event', { n });
    await PX.flush();
  });
  seen.storedWhileOffline = await tab.evaluate((key) => localStorage.getItem(`px_queue_${key}`), px.ingestKey);
  await context.setOffline(false);
  await tab.reload(); // races the retry that going online starts: both may send, PX keeps one

  seen.afterReload = await tab.evaluate(() => ({ id: PX.getDistinctId(), session: PX.getSessionId() }));
  await Promise.all([tab.waitForURL('**/docs'), tab.click('#docs')]); // a full navigation
  await tab.evaluate(() => PX.track('docs_read'));
  await tab.evaluate(() => PX.flush());

  events = await eventsWhere(
    (all) =>
      all.some((e) => e.event === 'docs_read') &&
      all.filter((e) => e.event === 'web_vital' && e.properties.name === 'TTFB').length >= 2 &&
      all.filter((e) => e.event === 'offline_event').length >= 3 &&
      all.filter((e) => e.event === 'page_leave').length >= 3,
    'the last events of the scenario',
  );
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test('every event is stored exactly once', () => {
  const ids = events.map((e) => e.event_id);
  assert.equal(new Set(ids).size, ids.length, 'duplicate event_id');
  assert.equal(named('added_to_cart').length, 1);
  assert.equal(named('docs_read').length, 1);
  assert.equal(named('$identify').length, 1);
  assert.deepEqual(named('offline_event').map((e) => e.properties.n).sort(), [1, 2, 3]);
});

test('custom properties and context arrive', () => {
  const [cart] = named('added_to_cart');
  assert.equal(cart.properties.sku, 'A-1');
  assert.equal(cart.properties.price, 12.5);
  assert.equal(cart.path, '/app');
  assert.equal(cart.title, 'PX test shop');
  assert.equal(cart.lib, 'px-js');
  assert.match(cart.browser ?? '', /Chrom/);
});

test('page views and page leaves follow SPA routes, reloads and navigation', () => {
  const views = named('page_view').map((e) => e.path);
  assert.deepEqual(views.sort(), ['/app', '/cart', '/cart', '/docs']);
  const leaves = named('page_leave');
  assert.deepEqual(leaves.map((e) => e.path).sort(), ['/app', '/cart', '/cart']);
  for (const leave of leaves) assert.equal(typeof leave.properties.duration_ms, 'number');
});

test('leaving a page sends a beacon with the ingestion key in the URL, which PX accepts', async () => {
  // One at the reload, one at the navigation to /docs.
  await waitFor(() => beacons.length >= 2, `two beacons (got ${beacons.length})`);
  for (const beacon of beacons) {
    assert.equal(beacon.method, 'POST');
    assert.equal(new URL(beacon.url, 'http://x').searchParams.get('key'), px.ingestKey);
    assert.match(beacon.type ?? '', /^text\/plain/);
    assert.equal(beacon.status, 200);
  }
  const sent = beacons.flatMap((b) => JSON.parse(b.body).events.map((e) => e.event));
  assert.ok(sent.includes('page_leave'), `beaconed: ${sent}`);
});

test('clicks: plain, rage, dead and error clicks', () => {
  const clicks = named('click');
  const cart = clicks.find((e) => e.properties.selector === '#to-cart');
  assert.ok(cart, 'the click on #to-cart');
  assert.equal(cart.properties.text, 'Cart');
  assert.equal(cart.properties.tag, 'button');
  assert.equal(clicks.filter((e) => e.properties.selector === '#dead').length, 3);
  assert.ok(clicks.some((e) => e.properties.selector === '#docs' && e.properties.href.endsWith('/docs')));

  assert.deepEqual(named('rage_click').map((e) => e.properties.selector), ['#dead']);
  const deads = named('dead_click').map((e) => e.properties.selector);
  assert.ok(deads.includes('#dead'), `dead clicks: ${deads}`);
  assert.ok(!deads.includes('#to-cart'), 'a click that changed the route is not dead');

  const [errorClick] = named('error_click');
  assert.equal(errorClick.properties.selector, '#crash');
  assert.match(errorClick.properties.message, /checkout exploded/);
});

test('typed input values are never captured', () => {
  assert.ok(named('click').some((e) => e.properties.selector === '#email'));
  assert.ok(!JSON.stringify(events).includes(TYPED_SECRET));
});

test('error carries message, type, stack and source', () => {
  const [error] = named('error');
  assert.equal(error.properties.type, 'Error');
  assert.equal(error.properties.message, 'checkout exploded');
  assert.match(error.properties.stack, /checkout exploded/);
  assert.ok(error.properties.source.startsWith('http://127.0.0.1:'), error.properties.source); // the inline script's page
  assert.equal(typeof error.properties.line, 'number');
  assert.deepEqual(pageErrors, ['checkout exploded'], 'the only page error is the one thrown on purpose');
});

test('scroll depth milestones and web vitals', () => {
  // The reload restores the scroll position: that page view reaches the bottom too.
  const depths = named('scroll').map((e) => e.properties.depth);
  for (const d of [25, 50, 75, 100]) assert.equal(depths.filter((q) => q === d).length, 2, `${d}% in ${depths}`);
  assert.equal(depths.length, 8);
  // Two documents were hidden (at the reload and the navigation): each reported its vitals once.
  const vitals = named('web_vital');
  for (const name of ['FCP', 'TTFB', 'CLS']) {
    assert.equal(vitals.filter((v) => v.properties.name === name).length, 2, `${name} in ${JSON.stringify(vitals)}`);
  }
  for (const { properties: p } of vitals) {
    assert.equal(typeof p.value, 'number');
    assert.ok(['good', 'needs-improvement', 'poor'].includes(p.rating), JSON.stringify(p));
  }
});

test('offline events were kept in localStorage and delivered after coming back', () => {
  assert.equal(seen.onLineWhileOffline, false);
  const stored = JSON.parse(seen.storedWhileOffline ?? '[]').map((e) => e.event);
  assert.equal(stored.filter((name) => name === 'offline_event').length, 3);
});

test('one session across SPA routes, reloads and page changes', () => {
  assert.equal(seen.afterReload.session, seen.sessionId);
  assert.deepEqual([...new Set(events.map((e) => e.session_id))], [seen.sessionId]);
});

test('identify merges the anonymous id into the person', async () => {
  assert.equal(seen.afterReload.id, USER_ID);
  const [identify] = named('$identify');
  assert.equal(identify.distinct_id, USER_ID);
  assert.equal(identify.properties.$anon_distinct_id, seen.anonymousId);
  assert.ok(named('added_to_cart').every((e) => e.distinct_id === seen.anonymousId));
  assert.ok(named('docs_read').every((e) => e.distinct_id === USER_ID));
  assert.equal(new Set(events.map((e) => e.person_id)).size, 1, 'all events belong to one person');

  const res = await fetch(`${px.url}/api/v1/projects/${px.projectId}/persons/${USER_ID}`, {
    headers: { Authorization: `Bearer ${px.secretKey}` },
  });
  const person = await res.json();
  assert.deepEqual(person.distinct_ids.sort(), [seen.anonymousId, USER_ID].sort());
  assert.equal(person.properties.plan, 'pro');
  assert.equal(person.is_identified, true);
});

test('the page logged no console errors', () => {
  assert.deepEqual(consoleErrors, []);
});
