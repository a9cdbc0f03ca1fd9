// src/safe.ts
var debugging = false;
function setDebug(on) {
  debugging = on;
}
function log(...args) {
  if (debugging) console.log("[px]", ...args);
}
function safely(what, fn) {
  try {
    return fn();
  } catch (e) {
    log(what + " failed:", e);
    return void 0;
  }
}
function guarded(what, fn) {
  return (...args) => {
    safely(what, () => fn(...args));
  };
}
function listen(target, type, fn, options) {
  target.addEventListener(type, guarded(type + " listener", fn), options);
}

// src/autocapture/element.ts
var DATA_ATTRIBUTES = ["data-px", "data-testid", "data-test", "data-cy", "data-qa"];
var MAX_TEXT = 255;
var CLICKABLE = "a,button,input,select,textarea,label,summary,[role=button],[role=link],[role=menuitem],[role=tab],[role=checkbox],[role=switch],[role=option]";
var CONTROLS = "a[href],button,input[type=button],input[type=submit],input[type=reset],input[type=image],summary,[role=button],[role=link],[role=menuitem],[role=tab]";
var PRESSED_INPUT = /^(button|submit|reset|image|checkbox|radio|file|color|range)$/;
function escapeIdent(s) {
  return typeof CSS !== "undefined" && CSS.escape ? CSS.escape(s) : s.replace(/[^\w-]/g, (c) => "\\" + c);
}
function stableId(id) {
  return /^[A-Za-z][\w-]*$/.test(id) && !/\d{3,}/.test(id);
}
function isUnique(selector) {
  try {
    return document.querySelectorAll(selector).length === 1;
  } catch {
    return false;
  }
}
function nthOfType(el) {
  const parent = el.parentElement;
  if (!parent) return "";
  let index = 0;
  let count = 0;
  for (let sib = parent.firstElementChild; sib; sib = sib.nextElementSibling) {
    if (sib.tagName === el.tagName) {
      count++;
      if (sib === el) index = count;
    }
  }
  return count > 1 ? `:nth-of-type(${index})` : "";
}
function selectorOf(el) {
  const parts = [];
  for (let node = el; node; node = node.parentElement) {
    const tag = node.tagName.toLowerCase();
    if (tag === "body" || tag === "html") {
      parts.unshift("body");
      break;
    }
    const id = node.getAttribute("id");
    if (id && stableId(id) && isUnique("#" + escapeIdent(id))) {
      parts.unshift("#" + escapeIdent(id));
      break;
    }
    const attr = DATA_ATTRIBUTES.find((a) => node.hasAttribute(a));
    if (attr) {
      const sel = `[${attr}="${node.getAttribute(attr).replace(/["\\]/g, "\\$&")}"]`;
      if (isUnique(sel)) {
        parts.unshift(sel);
        break;
      }
    }
    parts.unshift(tag + nthOfType(node));
  }
  return parts.join(" > ");
}
function isField(el) {
  const tag = el.tagName;
  return tag === "TEXTAREA" || tag === "SELECT" || tag === "OPTION" || tag === "INPUT" && !PRESSED_INPUT.test(el.type) || el.isContentEditable === true;
}
function textOf(el) {
  if (isField(el)) return "";
  let text = "";
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      if (node.nodeType === Node.TEXT_NODE) return NodeFilter.FILTER_ACCEPT;
      const tag = node.tagName;
      return tag === "SCRIPT" || tag === "STYLE" || isField(node) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP;
    }
  });
  while (text.length <= MAX_TEXT * 2 && walker.nextNode()) {
    text += " " + walker.currentNode.nodeValue.slice(0, MAX_TEXT * 2);
  }
  return text.replace(/\s+/g, " ").trim().slice(0, MAX_TEXT);
}
function clickedElement(target) {
  return target.closest(CLICKABLE) ?? target;
}
function isControl(el) {
  return el.matches(CONTROLS);
}
function describe(el) {
  const props = { selector: selectorOf(el), tag: el.tagName.toLowerCase() };
  const text = textOf(el);
  if (text) props.text = text;
  const link = el.closest("a[href]");
  if (link) props.href = link.href;
  return props;
}

// src/autocapture/clicks.ts
var RAGE_CLICKS = 3;
var RAGE_INTERVAL_MS = 1e3;
var RAGE_RADIUS_PX = 30;
var DEAD_CLICK_MS = 2500;
var ERROR_CLICK_MS = 1e3;
var Clicks = class {
  constructor(capture, on, pxHost) {
    this.capture = capture;
    this.on = on;
    this.pxHost = pxHost;
    this.watching = [];
    listen(document, "click", (e) => this.onClick(e), { capture: true });
    if (on.deadclicks) {
      const activity = () => this.activity();
      listen(window, "scroll", activity, { capture: true, passive: true });
      for (const type of ["popstate", "hashchange", "pagehide", "beforeunload", "blur"]) {
        listen(window, type, activity);
      }
    }
  }
  /** Whatever shows the page reacted: ends every dead-click watch. */
  activity() {
    if (!this.watching.length) return;
    this.watching = [];
    this.stopObserving();
  }
  /** Reports an uncaught error as an `error_click` if a click came less than 1 s before it. */
  onError(error) {
    if (this.last && Date.now() - this.last.at <= ERROR_CLICK_MS) {
      this.capture("error_click", { selector: this.last.selector, ...error });
      this.last = void 0;
    }
  }
  onClick(e) {
    const node = e.target;
    const target = node?.nodeType === 1 ? node : node?.parentElement;
    if (!target || target.closest("[data-px-no-capture]")) return;
    const el = clickedElement(target);
    const props = describe(el);
    const now = Date.now();
    if (this.on.clicks) this.capture("click", props);
    if (this.on.errorclicks) this.last = { at: now, selector: props.selector };
    if (this.on.rageclicks && !isField(el) && this.isRage(e.clientX, e.clientY, now)) {
      this.capture("rage_click", props);
    }
    if (this.on.deadclicks && isControl(el)) this.watch(props);
  }
  stopObserving() {
    this.mutations?.disconnect();
    this.requests?.disconnect();
    this.mutations = this.requests = void 0;
  }
  /**
   * PostHog's rule: clicks each less than 1 s after and 30 px from the
   * previous one form a burst; the third click of a burst is a rage click
   * (once: later clicks of the same burst are not reported again).
   */
  isRage(x, y, at) {
    const b = this.burst;
    if (b && at - b.at < RAGE_INTERVAL_MS && Math.hypot(x - b.x, y - b.y) <= RAGE_RADIUS_PX) {
      this.burst = { x, y, at, count: b.count + 1 };
      return this.burst.count === RAGE_CLICKS;
    }
    this.burst = { x, y, at, count: 1 };
    return false;
  }
  /**
   * Watches a click on a control for 2.5 s: a DOM change, scroll,
   * navigation or network request in that time means the page reacted;
   * none means a dead click. Observers run only while a click is watched.
   */
  watch(props) {
    const watch = { at: performance.now(), props };
    this.watching.push(watch);
    if (!this.mutations) {
      const activity = guarded("dead-click observer", () => this.activity());
      this.mutations = new MutationObserver(activity);
      this.mutations.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
      if (typeof PerformanceObserver === "function") {
        this.requests = new PerformanceObserver((list) => {
          const since = this.watching[0]?.at ?? Infinity;
          if (list.getEntries().some((r) => r.startTime >= since && !r.name.startsWith(this.pxHost))) activity();
        });
        try {
          this.requests.observe({ type: "resource" });
        } catch {
        }
      }
    }
    setTimeout(
      guarded("dead-click check", () => {
        const i = this.watching.indexOf(watch);
        if (i < 0) return;
        this.watching.splice(i, 1);
        if (!this.watching.length) this.stopObserving();
        this.capture("dead_click", props);
      }),
      DEAD_CLICK_MS
    );
  }
};

// src/autocapture/exceptions.ts
var MAX_STACK = 4e3;
var MAX_PER_WINDOW = 10;
var WINDOW_MS = 1e4;
function describeError(thrown, fallbackType, fallbackMessage = "") {
  const e = thrown;
  if (e && typeof e === "object" && typeof e.message === "string") {
    const props = { type: typeof e.name === "string" ? e.name : fallbackType, message: e.message };
    if (typeof e.stack === "string") props.stack = e.stack.slice(0, MAX_STACK);
    return props;
  }
  const message = thrown === void 0 || thrown === null ? fallbackMessage : String(thrown);
  return { type: fallbackType, message };
}
function watchErrors(report) {
  let windowStart = 0;
  let count = 0;
  const limited = (props) => {
    const now = Date.now();
    if (now - windowStart > WINDOW_MS) {
      windowStart = now;
      count = 0;
    }
    if (++count <= MAX_PER_WINDOW) report(props);
  };
  listen(window, "error", (e) => {
    const props = describeError(e.error, "Error", e.message);
    if (e.filename) Object.assign(props, { source: e.filename, line: e.lineno, column: e.colno });
    limited(props);
  });
  listen(window, "unhandledrejection", (e) => {
    limited(describeError(e.reason, "UnhandledRejection"));
  });
}

// src/version.ts
var VERSION = "0.1.0";

// src/context.ts
function staticContext() {
  let timezone = "";
  try {
    timezone = Intl.DateTimeFormat().resolvedOptions().timeZone ?? "";
  } catch {
  }
  return {
    user_agent: navigator.userAgent,
    locale: navigator.language ?? "",
    timezone,
    screen: { width: screen.width, height: screen.height },
    library: { name: "px-js", version: VERSION }
  };
}
function pageContext() {
  return { url: location.href, referrer: document.referrer, title: document.title, path: location.pathname };
}

// src/autocapture/scroll.ts
var SCROLL_MILESTONES = [25, 50, 75, 100];
function visiblePercent() {
  const height = document.documentElement.scrollHeight;
  if (!height) return 0;
  return Math.min(100, Math.round((window.scrollY + window.innerHeight) / height * 100));
}
var ScrollDepth = class {
  constructor(capture, milestones) {
    this.capture = capture;
    this.milestones = milestones;
    this.max = 0;
    this.next = 0;
    this.scheduled = false;
    const measure = guarded("scroll depth", () => {
      this.scheduled = false;
      this.measure();
    });
    listen(
      window,
      "scroll",
      () => {
        if (this.scheduled) return;
        this.scheduled = true;
        requestAnimationFrame(measure);
      },
      { passive: true }
    );
  }
  measure() {
    this.max = Math.max(this.max, visiblePercent());
    while (this.next < SCROLL_MILESTONES.length && this.max >= SCROLL_MILESTONES[this.next]) {
      if (this.milestones) this.capture("scroll", { depth: SCROLL_MILESTONES[this.next] });
      this.next++;
    }
  }
  /** A new page view starts counting from the top. */
  reset() {
    this.max = 0;
    this.next = 0;
  }
};

// src/autocapture/pages.ts
function routeKey() {
  const hash = /^#[!/]/.test(location.hash) ? location.hash : "";
  return location.pathname + location.search + hash;
}
var Pages = class {
  constructor(capture, on, scroll) {
    this.capture = capture;
    this.on = on;
    this.scroll = scroll;
    this.key = routeKey();
    this.page = pageContext();
    this.since = Date.now();
    this.view();
  }
  /** Called after every history change; only a new route counts. */
  check() {
    const key = routeKey();
    if (key === this.key) return;
    this.leave();
    this.key = key;
    this.page = pageContext();
    this.since = Date.now();
    this.scroll.reset();
    this.view();
  }
  /** The page is shown again from the back/forward cache: a new view. */
  restored() {
    this.since = Date.now();
    this.view();
  }
  /**
   * `page_leave` for the page being left. When the whole document goes
   * (`unloading`), what is in view still counts as seen; on a route change
   * the view may already show the next route, so only scrolling counts.
   */
  leave(unloading = false) {
    if (!this.on.pageleave) return;
    const seen = unloading ? Math.max(this.scroll.max, visiblePercent()) : this.scroll.max;
    this.capture("page_leave", { duration_ms: Date.now() - this.since, max_scroll_percent: seen }, { page: this.page });
  }
  view() {
    if (this.on.pageview) this.capture("page_view");
  }
};

// src/autocapture/vitals.ts
function observe(type, onEntry, extra) {
  if (typeof PerformanceObserver !== "function" || !PerformanceObserver.supportedEntryTypes?.includes(type)) {
    return false;
  }
  try {
    const po = new PerformanceObserver(
      guarded(type + " observer", (list) => {
        for (const e of list.getEntries()) onEntry(e);
      })
    );
    po.observe({ type, buffered: true, ...extra });
    return true;
  } catch {
    return false;
  }
}
var VITAL_THRESHOLDS = {
  TTFB: [800, 1800],
  FCP: [1800, 3e3],
  LCP: [2500, 4e3],
  CLS: [0.1, 0.25],
  INP: [200, 500]
};
function rating(name, value) {
  const [good, poor] = VITAL_THRESHOLDS[name];
  return value <= good ? "good" : value <= poor ? "needs-improvement" : "poor";
}
var Vitals = class {
  constructor() {
    this.cls = 0;
    /** Current CLS session window: shifts less than 1 s apart, for at most 5 s. */
    this.shiftWindow = { value: 0, first: 0, last: 0 };
    /** Longest duration of each interaction, by interaction id. */
    this.interactions = /* @__PURE__ */ new Map();
    this.reported = false;
    observe("paint", (e) => {
      if (e.name === "first-contentful-paint") this.fcp = e.startTime;
    });
    observe("largest-contentful-paint", (e) => {
      this.lcp = e.startTime;
    });
    this.measuresCls = observe("layout-shift", (e) => this.shift(e));
    const interaction = (e) => {
      if (!e.interactionId) return;
      this.interactions.set(e.interactionId, Math.max(this.interactions.get(e.interactionId) ?? 0, e.duration));
    };
    observe("event", interaction, { durationThreshold: 40 });
    observe("first-input", interaction);
  }
  /** A `web_vital` event for each metric measured; only the first call reports. */
  report(capture) {
    if (this.reported) return;
    this.reported = true;
    const measured = [
      ["LCP", this.lcp],
      ["FCP", this.fcp],
      ["CLS", this.measuresCls ? Math.round(this.cls * 1e4) / 1e4 : void 0],
      ["INP", this.inp()],
      ["TTFB", this.ttfb()]
    ];
    for (const [name, raw] of measured) {
      if (raw === void 0) continue;
      const value = name === "CLS" ? raw : Math.round(raw);
      capture("web_vital", { name, value, rating: rating(name, value) });
    }
  }
  ttfb() {
    const nav = performance.getEntriesByType?.("navigation")[0];
    return nav && nav.responseStart > 0 ? nav.responseStart : void 0;
  }
  shift(e) {
    if (e.hadRecentInput) return;
    const w = this.shiftWindow;
    if (w.value && e.startTime - w.last < 1e3 && e.startTime - w.first < 5e3) {
      w.value += e.value;
      w.last = e.startTime;
    } else {
      this.shiftWindow = { value: e.value, first: e.startTime, last: e.startTime };
    }
    this.cls = Math.max(this.cls, this.shiftWindow.value);
  }
  /**
   * INP: the slowest interaction, except that one outlier is ignored per
   * 50 interactions (a high percentile on busy pages, as web-vitals does).
   */
  inp() {
    const durations = [...this.interactions.values()].sort((a, b) => b - a);
    if (!durations.length) return void 0;
    return durations[Math.min(durations.length - 1, Math.floor(durations.length / 50))];
  }
};

// src/autocapture/index.ts
function switches(option) {
  const all = option !== false;
  const o = typeof option === "object" && option ? option : {};
  const pick = (v) => all && v !== false;
  return {
    pageview: pick(o.pageview),
    pageleave: pick(o.pageleave),
    clicks: pick(o.clicks),
    rageclicks: pick(o.rageclicks),
    deadclicks: pick(o.deadclicks),
    errorclicks: pick(o.errorclicks),
    scroll: pick(o.scroll),
    exceptions: pick(o.exceptions),
    webVitals: pick(o.webVitals)
  };
}
function watchHistory(onChange) {
  for (const method of ["pushState", "replaceState"]) {
    const original = history[method];
    history[method] = function(...args) {
      const result = original.apply(this, args);
      safely("history." + method, onChange);
      return result;
    };
  }
  listen(window, "popstate", onChange);
  listen(window, "hashchange", onChange);
}
function startAutocapture(capture, on, pxHost) {
  const clicks = on.clicks || on.rageclicks || on.deadclicks || on.errorclicks ? new Clicks(capture, on, pxHost) : void 0;
  const scroll = on.scroll || on.pageview || on.pageleave ? new ScrollDepth(capture, on.scroll) : void 0;
  const pages = scroll && (on.pageview || on.pageleave) ? new Pages(capture, on, scroll) : void 0;
  const vitals = on.webVitals ? new Vitals() : void 0;
  if (pages || on.deadclicks) {
    watchHistory(() => {
      pages?.check();
      clicks?.activity();
    });
  }
  if (pages) {
    listen(window, "pageshow", (e) => {
      if (e.persisted) pages.restored();
    });
  }
  if (on.exceptions || on.errorclicks) {
    watchErrors((error) => {
      if (on.exceptions) capture("error", error);
      clicks?.onError(error);
    });
  }
  return {
    hidden: () => vitals?.report(capture),
    pagehide: () => {
      vitals?.report(capture);
      pages?.leave(true);
    }
  };
}

// src/uuid.ts
var HEX = [];
for (let i = 0; i < 256; i++) HEX.push((i + 256).toString(16).slice(1));
function randomBytes(bytes) {
  if (typeof crypto !== "undefined" && crypto.getRandomValues) {
    crypto.getRandomValues(bytes);
  } else {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.random() * 256 | 0;
  }
}
function uuidv7(now = Date.now()) {
  const b = new Uint8Array(16);
  randomBytes(b);
  let t = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = b[6] & 15 | 112;
  b[8] = b[8] & 63 | 128;
  const h = (i) => HEX[b[i]];
  return h(0) + h(1) + h(2) + h(3) + "-" + h(4) + h(5) + "-" + h(6) + h(7) + "-" + h(8) + h(9) + "-" + h(10) + h(11) + h(12) + h(13) + h(14) + h(15);
}

// src/identity.ts
var SESSION_TIMEOUT_MS = 30 * 60 * 1e3;
var TOUCH_WRITE_MS = 1e3;
function fresh(now) {
  return { anon: uuidv7(now), sid: uuidv7(now), seen: now, props: {} };
}
function parse(raw) {
  if (!raw) return null;
  try {
    const s = JSON.parse(raw);
    if (typeof s?.anon !== "string" || typeof s.sid !== "string" || typeof s.seen !== "number") return null;
    return {
      anon: s.anon,
      user: typeof s.user === "string" ? s.user : void 0,
      sid: s.sid,
      seen: s.seen,
      props: s.props && typeof s.props === "object" ? s.props : {}
    };
  } catch {
    return null;
  }
}
var Identity = class {
  /**
   * `persisting` is false while the person is opted out: what is stored is
   * erased, and nothing identifying is written until {@link resume}.
   */
  constructor(store, key, now, persisting) {
    this.store = store;
    this.key = key;
    this.persisting = persisting;
    this.writtenAt = 0;
    const saved = parse(store.get(key));
    this.s = saved ?? fresh(now);
    if (!persisting) store.remove(key);
    else if (!saved) this.save(now);
  }
  get distinctId() {
    return this.s.user ?? this.s.anon;
  }
  get anonymousId() {
    return this.s.anon;
  }
  get userId() {
    return this.s.user;
  }
  get superProperties() {
    return this.s.props;
  }
  /** The current session id, without counting as activity. */
  get sessionId() {
    return this.s.sid;
  }
  /**
   * The session of an event happening at `now`: the current one, or a new one
   * after 30 minutes of inactivity. Before rotating, the store is read again,
   * because another tab of the same site may have kept the session alive.
   */
  session(now) {
    let rotated = false;
    if (now - this.s.seen > SESSION_TIMEOUT_MS) {
      const other = parse(this.store.get(this.key));
      if (other && other.anon === this.s.anon && now - other.seen <= SESSION_TIMEOUT_MS) {
        this.s.sid = other.sid;
      } else {
        this.s.sid = uuidv7(now);
        rotated = true;
      }
    }
    this.s.seen = now;
    if (rotated || now - this.writtenAt >= TOUCH_WRITE_MS) this.save(now);
    return this.s.sid;
  }
  identify(userId) {
    this.s.user = userId;
    this.save();
  }
  register(props) {
    this.s.props = { ...this.s.props, ...props };
    this.save();
  }
  unregister(key) {
    const props = { ...this.s.props };
    delete props[key];
    this.s.props = props;
    this.save();
  }
  /** A new anonymous person with a new session and no super properties. */
  reset(now) {
    this.s = fresh(now);
    this.save(now);
  }
  /** Stops writing to the store and erases what is there (opt-out). */
  forget() {
    this.persisting = false;
    this.store.remove(this.key);
  }
  /** Writes again from now on (opt-in). */
  resume() {
    this.persisting = true;
    this.save();
  }
  save(now = Date.now()) {
    if (!this.persisting) return;
    this.store.set(this.key, JSON.stringify(this.s));
    this.writtenAt = now;
  }
};

// src/queue.ts
var MAX_QUEUED = 1e3;
function serialize(events) {
  try {
    return { json: JSON.stringify(events), bad: [] };
  } catch {
    const parts = [];
    const bad = [];
    for (const ev of events) {
      try {
        parts.push(JSON.stringify(ev));
      } catch {
        bad.push(ev);
      }
    }
    return { json: "[" + parts.join(",") + "]", bad };
  }
}
var Queue = class {
  constructor(store, key, max = MAX_QUEUED) {
    this.store = store;
    this.key = key;
    this.max = max;
    this.events = [];
    /** Events dropped to keep the bound since the last report to the server. */
    this.dropped = 0;
    /** Whether the store may hold events of ours that acks must clean up. */
    this.stored = false;
  }
  get length() {
    return this.events.length;
  }
  push(ev) {
    this.events.push(ev);
    this.bound();
  }
  /** The oldest `n` events, leaving out those `skip` says are already on their way. */
  head(n, skip) {
    const out = [];
    for (const ev of this.events) {
      if (out.length >= n) break;
      if (!skip(ev)) out.push(ev);
    }
    return out;
  }
  /**
   * Takes over the events that earlier page loads (or other tabs) stored and
   * did not see delivered. Some may have reached the server after all; the
   * server drops those repeats by `event_id`.
   */
  restore() {
    const saved = this.read();
    if (!saved.length) return;
    const ids = new Set(this.events.map((e) => e.event_id));
    this.events = saved.filter((e) => !ids.has(e.event_id)).concat(this.events);
    this.stored = true;
    this.bound();
  }
  /** Forgets delivered (or undeliverable) events, here and in the store. */
  remove(done) {
    const ids = new Set(done.map((e) => e.event_id));
    this.events = this.events.filter((e) => !ids.has(e.event_id));
    if (this.stored) {
      const left = this.read().filter((e) => !ids.has(e.event_id));
      this.write(left);
      this.stored = left.length > 0;
    }
  }
  /**
   * Writes the waiting events to the store, merged with what other tabs of
   * the same site stored there, oldest dropped past the bound.
   */
  persist() {
    if (!this.store) return;
    const mine = new Set(this.events.map((e) => e.event_id));
    const merged = this.read().filter((e) => !mine.has(e.event_id)).concat(this.events).sort((a, b) => a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0);
    this.write(merged.slice(Math.max(0, merged.length - this.max)));
    this.stored = merged.length > 0;
  }
  /** Drops events that cannot be serialized, so they stop blocking the queue. */
  discard(bad) {
    log(`dropped ${bad.length} event(s) that cannot be sent`);
    this.events = this.events.filter((e) => !bad.includes(e));
  }
  clear() {
    this.events = [];
    this.dropped = 0;
    this.store?.remove(this.key);
    this.stored = false;
  }
  bound() {
    const over = this.events.length - this.max;
    if (over > 0) {
      this.events.splice(0, over);
      this.dropped += over;
      log(`queue full: dropped the ${over} oldest event(s)`);
    }
  }
  read() {
    const raw = this.store?.get(this.key);
    if (!raw) return [];
    try {
      const list = JSON.parse(raw);
      return Array.isArray(list) ? list.filter((e) => !!e && typeof e === "object" && typeof e.event_id === "string") : [];
    } catch {
      return [];
    }
  }
  write(events) {
    if (!this.store) return;
    if (!events.length) {
      this.store.remove(this.key);
      return;
    }
    const { json, bad } = serialize(events);
    if (bad.length) this.discard(bad);
    this.store.set(this.key, json);
  }
};

// src/storage.ts
function memoryStore() {
  const data = /* @__PURE__ */ new Map();
  return {
    get: (key) => data.get(key) ?? null,
    set: (key, value) => void data.set(key, value),
    remove: (key) => void data.delete(key)
  };
}
function localStore() {
  let ls;
  try {
    ls = window.localStorage;
    const probe = "__px_probe";
    ls.setItem(probe, "1");
    ls.removeItem(probe);
  } catch {
    return null;
  }
  return {
    get: (key) => {
      try {
        return ls.getItem(key);
      } catch {
        return null;
      }
    },
    set: (key, value) => {
      try {
        ls.setItem(key, value);
      } catch (e) {
        log("localStorage refused a write:", e);
      }
    },
    remove: (key) => {
      try {
        ls.removeItem(key);
      } catch {
      }
    }
  };
}
var YEAR_SECONDS = 365 * 24 * 3600;
function cookieStore() {
  const write = (key, value, lifetime) => {
    try {
      const secure = location.protocol === "https:" ? "; Secure" : "";
      document.cookie = `${key}=${encodeURIComponent(value)}; path=/; ${lifetime}; SameSite=Lax${secure}`;
    } catch (e) {
      log("cookie refused a write:", e);
    }
  };
  return {
    get: (key) => {
      try {
        for (const part of document.cookie.split("; ")) {
          const eq = part.indexOf("=");
          if (part.slice(0, eq) === key) return decodeURIComponent(part.slice(eq + 1));
        }
      } catch {
      }
      return null;
    },
    set: (key, value) => write(key, value, `max-age=${YEAR_SECONDS}`),
    remove: (key) => write(key, "", "expires=Thu, 01 Jan 1970 00:00:00 GMT")
  };
}
function openStores(persistence) {
  const local = localStore();
  if (persistence === "memory") {
    return { state: memoryStore(), consent: local ?? cookieStore(), queue: null };
  }
  if (persistence === "cookie") {
    const cookies = cookieStore();
    return { state: cookies, consent: cookies, queue: local };
  }
  const state = local ?? cookieStore();
  return { state, consent: state, queue: local };
}

// src/transport.ts
var KEEPALIVE_MAX_BYTES = 6e4;
function fitBytes(events, maxBytes) {
  const encoder = new TextEncoder();
  const batch = [];
  const parts = [];
  let size = 80;
  for (const ev of events) {
    let json;
    try {
      json = JSON.stringify(ev);
    } catch {
      continue;
    }
    size += encoder.encode(json).length + 1;
    if (size > maxBytes) break;
    batch.push(ev);
    parts.push(json);
  }
  return { batch, json: "[" + parts.join(",") + "]" };
}
function canGzip() {
  return typeof CompressionStream === "function";
}
async function gzip(text) {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}
function retryAfterMs(header, now = Date.now()) {
  if (!header) return void 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1e3;
  const at = Date.parse(header);
  return Number.isNaN(at) ? void 0 : Math.max(0, at - now);
}
function envelope(eventsJson) {
  return `{"events":${eventsJson},"sent_at":"${(/* @__PURE__ */ new Date()).toISOString()}"}`;
}
function sendBeacon(to, eventsJson) {
  if (typeof navigator.sendBeacon !== "function") return false;
  try {
    return navigator.sendBeacon(`${to.url}?key=${encodeURIComponent(to.apiKey)}`, envelope(eventsJson));
  } catch (e) {
    log("sendBeacon failed:", e);
    return false;
  }
}
async function sendBatch(to, eventsJson, opts) {
  const text = envelope(eventsJson);
  const headers = {
    Authorization: `Bearer ${to.apiKey}`,
    "Content-Type": "application/json"
  };
  let body = text;
  if (opts.gzip && !opts.keepalive && canGzip()) {
    try {
      body = await gzip(text);
      headers["Content-Encoding"] = "gzip";
    } catch (e) {
      log("gzip failed, sending uncompressed:", e);
    }
  }
  let res;
  try {
    res = await fetch(to.url, { method: "POST", headers, body, keepalive: opts.keepalive, credentials: "omit" });
  } catch (e) {
    log("network error:", e);
    return { kind: "retry" };
  }
  if (res.ok) {
    const answer = await res.json().catch(() => null);
    if (answer?.rejected?.length) log("the server rejected events:", answer.rejected);
    return { kind: "sent" };
  }
  if (res.status === 429 || res.status === 408 || res.status >= 500) {
    return { kind: "retry", afterMs: retryAfterMs(res.headers.get("Retry-After")) };
  }
  if (res.status === 413) return { kind: "too_large" };
  log(`the server refused a batch with ${res.status}:`, await res.text().catch(() => ""));
  return { kind: "refused", status: res.status };
}

// src/client.ts
var MAX_BATCH = 500;
var BACKOFF_BASE_MS = 1e3;
var BACKOFF_CAP_MS = 3e4;
var RETRY_AFTER_CAP_MS = 36e5;
function doNotTrack() {
  const nav = navigator;
  return nav.doNotTrack === "1" || nav.globalPrivacyControl === true;
}
function positive(n, fallback) {
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : fallback;
}
var Client = class {
  constructor() {
    this.optedOut = false;
    /** Events in a request not answered yet; they are not sent again meanwhile. */
    this.inFlight = /* @__PURE__ */ new Set();
    /**
     * Events handed to a beacon, which never answers: not sent again when the
     * page is hidden (`visibilitychange` follows `pagehide`), but still by
     * regular flushes if the page comes back from the back/forward cache.
     */
    this.beaconed = /* @__PURE__ */ new WeakSet();
    this.flushAt = 0;
    /** No request before this time (epoch ms): the server or the network asked for a pause. */
    this.backoffUntil = 0;
    this.failures = 0;
    /** Shrinks when the server answers 413, so the next batches fit. */
    this.batchLimit = MAX_BATCH;
  }
  init(options) {
    safely("init", () => this.start(options));
  }
  track(event, properties) {
    this.run("track", () => this.enqueue(event, properties));
  }
  /** A `page_view` by hand, for pages autocapture cannot see change. */
  page(properties) {
    this.run("page", () => this.enqueue("page_view", properties));
  }
  /**
   * Names the person. The first identify of an anonymous browser sends its
   * anonymous id along, and the server merges that id's past and future
   * events into the person; `traits` become person properties.
   */
  identify(userId, traits) {
    this.run("identify", () => {
      const id = String(userId ?? "").trim();
      if (!id) return log("identify needs a user id");
      const anonymous = this.identity.userId === void 0;
      if (!anonymous && id === this.identity.userId && !traits) return;
      const previous = this.identity.distinctId;
      this.identity.identify(id);
      const props = anonymous && previous !== id ? { $anon_distinct_id: previous } : {};
      this.enqueue("$identify", props, { $set: traits });
    });
  }
  /**
   * Puts the person in a group (a company, a team): every later event
   * carries `$groups`, and a `group` event records the group's traits.
   */
  group(groupType, groupKey, traits) {
    this.run("group", () => {
      const key = String(groupKey);
      const groups = { ...this.identity.superProperties.$groups, [groupType]: key };
      this.identity.register({ $groups: groups });
      this.enqueue("group", { ...traits, group_type: groupType, group_id: key });
    });
  }
  /** Makes `alias` another id of the current person (e.g. a backend id). */
  alias(alias2) {
    this.run("alias", () => this.enqueue("$create_alias", { alias: String(alias2) }));
  }
  /** Forgets the person (logout): new anonymous id, new session, no super properties. */
  reset() {
    this.run("reset", () => this.identity.reset(Date.now()));
  }
  /** Super properties: sent with every later event, kept across reloads. */
  register(props) {
    this.run("register", () => this.identity.register(props));
  }
  unregister(key) {
    this.run("unregister", () => this.identity.unregister(key));
  }
  /** Consent given: events are captured and sent, also after reloads. */
  optIn() {
    this.run("optIn", () => {
      this.consent.set(this.key("consent"), "in");
      this.optedOut = false;
      this.identity.resume();
    });
  }
  /** Consent refused: nothing is captured or sent, queued events and stored ids are erased. */
  optOut() {
    this.run("optOut", () => {
      this.consent.set(this.key("consent"), "out");
      this.optedOut = true;
      this.queue.clear();
      this.identity.forget();
    });
  }
  hasOptedOut() {
    return this.run("hasOptedOut", () => this.optedOut) ?? false;
  }
  /** Sends what is queued now; resolves when done or paused by a retry delay. Never rejects. */
  flush() {
    return this.run("flush", () => this.drain()) ?? Promise.resolve();
  }
  /** A `feedback` event: `{ rating, comment, ...properties }`. */
  feedback(feedback2) {
    this.run("feedback", () => this.enqueue("feedback", { ...feedback2 }));
  }
  getDistinctId() {
    return this.run("getDistinctId", () => this.identity.distinctId);
  }
  getSessionId() {
    return this.run("getSessionId", () => this.identity.sessionId);
  }
  /** `fn` if init succeeded, through {@link safely}. */
  run(what, fn) {
    return safely(what, () => {
      if (this.cfg) return fn();
      log(what + " called before init: ignored");
      return void 0;
    });
  }
  key(name) {
    return `px_${name}_${this.cfg.apiKey}`;
  }
  start(o) {
    if (this.cfg) return log("init called again: ignored");
    if (!o || typeof o.apiKey !== "string" || !o.apiKey || typeof o.host !== "string" || !o.host) {
      console.warn("[px] init needs { apiKey, host }: nothing will be sent");
      return;
    }
    setDebug(!!o.debug);
    this.cfg = {
      apiKey: o.apiKey,
      bufferSize: Math.min(MAX_QUEUED, Math.round(positive(o.bufferSize, 100))),
      flushInterval: positive(o.flushInterval, 5e3),
      gzip: o.compression !== "none"
    };
    const host = o.host.replace(/\/+$/, "");
    this.endpoint = { url: host + "/api/v1/events/batch", apiKey: o.apiKey };
    const stores = openStores(o.persistence ?? "localStorage");
    this.consent = stores.consent;
    const consent = this.consent.get(this.key("consent"));
    this.optedOut = consent === "out" || consent !== "in" && !!o.respectDoNotTrack && doNotTrack();
    this.identity = new Identity(stores.state, this.key("state"), Date.now(), !this.optedOut);
    this.queue = new Queue(stores.queue, this.key("queue"));
    if (this.optedOut) this.queue.clear();
    else this.queue.restore();
    this.context = staticContext();
    listen(document, "visibilitychange", () => {
      if (document.visibilityState === "hidden") this.onHidden(false);
    });
    listen(window, "pagehide", () => this.onHidden(true));
    listen(window, "online", () => {
      this.backoffUntil = 0;
      this.failures = 0;
      void this.flush();
    });
    const capture = (event, properties, extra) => this.enqueue(event, properties, extra);
    this.autocapture = startAutocapture(capture, switches(o.autocapture), host);
    if (this.queue.length) this.schedule(Date.now(), 0);
    log("ready", { distinctId: this.identity.distinctId, optedOut: this.optedOut });
  }
  /**
   * Builds the event and queues it: no serialization, compression or I/O
   * here, so `track` costs microseconds; all of that happens on flush.
   */
  enqueue(event, properties, extra) {
    if (this.optedOut) return;
    if (typeof event !== "string" || !event) return log("an event needs a name");
    const now = Date.now();
    const ev = {
      event,
      distinct_id: this.identity.distinctId,
      event_id: uuidv7(now),
      session_id: this.identity.session(now),
      timestamp: new Date(now).toISOString(),
      properties: { ...this.identity.superProperties, ...typeof properties === "object" ? properties : null },
      context: { page: extra?.page ?? pageContext(), ...this.context }
    };
    if (extra?.$set) ev.$set = extra.$set;
    this.queue.push(ev);
    const cfg = this.cfg;
    this.schedule(now, this.queue.length >= cfg.bufferSize ? 0 : cfg.flushInterval);
  }
  /** Flushes after `delay` ms, unless a flush is already due by then. */
  schedule(now, delay) {
    const at = now + delay;
    if (this.flushTimer !== void 0) {
      if (this.flushAt <= at) return;
      clearTimeout(this.flushTimer);
    }
    this.flushAt = at;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = void 0;
      void this.flush();
    }, delay);
  }
  /** One sending loop at a time; a flush during it shares it (the loop takes events queued meanwhile). */
  drain() {
    if (!this.draining) {
      this.draining = this.sendWaiting().finally(() => {
        this.draining = void 0;
      });
    }
    return this.draining;
  }
  async sendWaiting() {
    while (!this.optedOut && Date.now() >= this.backoffUntil) {
      const batch = this.queue.head(this.batchLimit, (ev) => this.inFlight.has(ev));
      if (!batch.length) return;
      if (navigator.onLine === false) return this.retryLater();
      this.reportDrops(batch[0]);
      const { json, bad } = serialize(batch);
      if (bad.length) {
        this.queue.discard(bad);
        continue;
      }
      if (!this.settle(batch, await this.send(batch, json, false))) return;
    }
  }
  /** Events dropped to keep the queue bounded are counted on the next event sent, so the loss shows. */
  reportDrops(ev) {
    if (!this.queue.dropped) return;
    ev.properties.$dropped_events = (ev.properties.$dropped_events || 0) + this.queue.dropped;
    this.queue.dropped = 0;
  }
  async send(batch, json, keepalive) {
    for (const ev of batch) this.inFlight.add(ev);
    try {
      return await sendBatch(this.endpoint, json, { gzip: this.cfg.gzip, keepalive });
    } finally {
      for (const ev of batch) this.inFlight.delete(ev);
    }
  }
  /** Applies a batch's outcome to the queue; false when sending must pause. */
  settle(batch, outcome) {
    switch (outcome.kind) {
      case "sent":
        this.failures = 0;
        this.queue.remove(batch);
        return true;
      case "refused":
        log("dropping a batch the server refused:", outcome.status);
        this.queue.remove(batch);
        return true;
      case "too_large":
        if (batch.length > 1) this.batchLimit = Math.ceil(batch.length / 2);
        else this.queue.remove(batch);
        return true;
      case "retry":
        this.retryLater(outcome.afterMs);
        return false;
    }
  }
  /**
   * Keeps the events (also in storage, in case the page goes away first)
   * and tries again after the server's Retry-After, or after a full-jitter
   * exponential backoff: random delays keep many browsers from retrying
   * together after an outage.
   */
  retryLater(afterMs) {
    this.queue.persist();
    this.failures++;
    const delay = Math.ceil(
      afterMs !== void 0 ? Math.min(afterMs, RETRY_AFTER_CAP_MS) : Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1))
    );
    this.backoffUntil = Date.now() + delay;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.flush(), delay);
    log(`delivery failed ${this.failures} time(s); retrying in ${Math.round(delay)} ms`);
  }
  /**
   * The page was hidden and may never come back: store what is queued, and
   * send what fits in one request the browser completes even after the page
   * is gone. On `pagehide` (the page is being left) that is a beacon, where
   * the browser has one: older browsers lack `fetch` keepalive, and a beacon
   * needs no CORS preflight. Otherwise, and when the beacon is refused, a
   * keepalive `fetch`. The events stay stored until a response says they
   * arrived (a beacon never answers); if the page dies first, the next page
   * load sends them again and the server drops the repeats by `event_id`.
   */
  onHidden(pagehide) {
    if (pagehide) this.autocapture?.pagehide();
    else this.autocapture?.hidden();
    if (this.optedOut) return;
    this.identity.save();
    if (!this.queue.length) return;
    this.queue.persist();
    if (Date.now() < this.backoffUntil) return;
    const waiting = this.queue.head(MAX_QUEUED, (ev) => this.inFlight.has(ev) || this.beaconed.has(ev));
    const { batch, json } = fitBytes(waiting, KEEPALIVE_MAX_BYTES);
    if (!batch.length) return;
    if (pagehide && sendBeacon(this.endpoint, json)) {
      for (const ev of batch) this.beaconed.add(ev);
      return;
    }
    void this.send(batch, json, true).then(
      (outcome) => safely("keepalive outcome", () => {
        if (this.settle(batch, outcome) && this.queue.length) this.schedule(Date.now(), 0);
      })
    );
  }
};

// src/index.ts
var client = new Client();
var init = (options) => client.init(options);
var track = (event, properties) => client.track(event, properties);
var page = (properties) => client.page(properties);
var identify = (userId, traits) => client.identify(userId, traits);
var group = (groupType, groupKey, traits) => client.group(groupType, groupKey, traits);
var alias = (alias2) => client.alias(alias2);
var reset = () => client.reset();
var register = (props) => client.register(props);
var unregister = (key) => client.unregister(key);
var optIn = () => client.optIn();
var optOut = () => client.optOut();
var hasOptedOut = () => client.hasOptedOut();
var flush = () => client.flush();
var feedback = (feedback2) => client.feedback(feedback2);
var getDistinctId = () => client.getDistinctId();
var getSessionId = () => client.getSessionId();
export {
  alias,
  feedback,
  flush,
  getDistinctId,
  getSessionId,
  group,
  hasOptedOut,
  identify,
  init,
  optIn,
  optOut,
  page,
  register,
  reset,
  track,
  unregister,
  VERSION as version
};
