import { describe, expect, test, vi } from 'vitest';
import { startAutocapture, switches } from '../../src/autocapture';
import { DEAD_CLICK_MS, ERROR_CLICK_MS } from '../../src/autocapture/clicks';
import { describe as describeElement, selectorOf, textOf } from '../../src/autocapture/element';
import { Vitals, rating } from '../../src/autocapture/vitals';
import type { AutocaptureOptions, CaptureExtra, Properties } from '../../src/types';
import { fakeServer, isolatePage, startClient } from './helpers';

isolatePage();

const INGEST = 'https://px.test';

interface Captured {
  event: string;
  props: Properties;
  extra?: CaptureExtra;
}

/** Autocapture wired to a recorder instead of a client. */
function autocapture(only: AutocaptureOptions = {}) {
  const captured: Captured[] = [];
  const hooks = startAutocapture(
    (event, props = {}, extra) => captured.push({ event, props, extra }),
    switches(only),
    INGEST,
  );
  return {
    hooks,
    captured,
    names: () => captured.map((c) => c.event),
    of: (event: string) => captured.filter((c) => c.event === event),
  };
}

/** Only the named switches on. */
function just(...on: (keyof AutocaptureOptions)[]): AutocaptureOptions {
  const all = switches(true);
  return Object.fromEntries(Object.keys(all).map((k) => [k, on.includes(k as keyof AutocaptureOptions)]));
}

function click(el: Element, at: { x?: number; y?: number } = {}): void {
  el.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: at.x ?? 10, clientY: at.y ?? 10 }));
}

function html(markup: string): void {
  document.body.innerHTML = markup;
}

describe('switches', () => {
  test('true, false and partial objects', () => {
    expect(Object.values(switches(true)).every(Boolean)).toBe(true);
    expect(Object.values(switches(undefined)).every(Boolean)).toBe(true);
    expect(Object.values(switches(false)).some(Boolean)).toBe(false);
    const partial = switches({ clicks: false, webVitals: false });
    expect(partial.clicks).toBe(false);
    expect(partial.webVitals).toBe(false);
    expect(partial.pageview).toBe(true);
  });
});

describe('selectors', () => {
  test('a stable unique id anchors the selector', () => {
    html('<main id="app"><div><section><button>Go</button></section></div></main>');
    expect(selectorOf(document.querySelector('button')!)).toBe('#app > div > section > button');
    expect(selectorOf(document.querySelector('#app')!)).toBe('#app');
  });

  test('generated ids are passed over', () => {
    html('<div id=":r1:"><button id="ember1234">Go</button></div>');
    expect(selectorOf(document.querySelector('button')!)).toBe('body > div > button');
  });

  test('a unique data attribute comes next', () => {
    html('<ul><li><a data-testid="buy-now" href="/buy">Buy</a></li></ul>');
    expect(selectorOf(document.querySelector('a')!)).toBe('[data-testid="buy-now"]');
  });

  test('a repeated data attribute is not enough; positions make it unique', () => {
    html('<ul><li data-testid="row">a</li><li data-testid="row">b</li><li data-testid="row">c</li></ul>');
    const third = document.querySelectorAll('li')[2];
    const sel = selectorOf(third);
    expect(sel).toBe('body > ul > li:nth-of-type(3)');
    expect(document.querySelector(sel)).toBe(third);
  });

  test('nth-of-type only where siblings share a tag, and the selector finds the element', () => {
    html('<div><p>x</p><span>a</span><span>b<em>deep</em></span></div><div><span>c</span></div>');
    const em = document.querySelector('em')!;
    const sel = selectorOf(em);
    expect(sel).toBe('body > div:nth-of-type(1) > span:nth-of-type(2) > em');
    expect(document.querySelectorAll(sel)).toHaveLength(1);
    expect(document.querySelector(sel)).toBe(em);
  });

  test('data attribute values are quoted safely', () => {
    html('<button data-px=\'say "hi"\'>Hi</button>');
    const sel = selectorOf(document.querySelector('button')!);
    expect(document.querySelector(sel)).toBe(document.querySelector('button'));
  });
});

describe('element text', () => {
  test('is trimmed, collapsed and cut at 255 characters', () => {
    html(`<button>  Add
        to   cart  </button><div id="long">${'word '.repeat(200)}</div>`);
    expect(textOf(document.querySelector('button')!)).toBe('Add to cart');
    const long = textOf(document.querySelector('#long')!);
    expect(long).toHaveLength(255);
    expect(long.startsWith('word word')).toBe(true);
  });

  test('never includes what was typed or chosen in a field', () => {
    html(`<form id="f"><label>Email <input name="email" value="preset"></label>
      <textarea>typed note</textarea><select><option>secret-choice</option></select>
      <div contenteditable="true">draft text</div><input type="password" value="hunter2"></form>`);
    const input = document.querySelector('input[name=email]') as HTMLInputElement;
    input.value = 'ana@example.com';
    const form = document.querySelector('#f')!;
    const text = textOf(form);
    expect(text).toBe('Email');
    for (const el of [input, document.querySelector('textarea')!, document.querySelector('select')!]) {
      expect(textOf(el)).toBe('');
    }
    const all = JSON.stringify([form, ...form.querySelectorAll('*')].map((el) => describeElement(el)));
    for (const secret of ['ana@example.com', 'preset', 'typed note', 'secret-choice', 'draft text', 'hunter2']) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('click', () => {
  test('record selector, tag, text and href of the clickable element', () => {
    html('<nav id="menu"><a href="/pricing"><span>See <b>pricing</b></span></a></nav>');
    const ac = autocapture(just('clicks'));
    click(document.querySelector('b')!);
    expect(ac.captured).toEqual([
      {
        event: 'click',
        props: { selector: '#menu > a', tag: 'a', text: 'See pricing', href: `${location.origin}/pricing` },
        extra: undefined,
      },
    ]);
  });

  test('clicks on fields carry no value, clicks in data-px-no-capture nothing at all', () => {
    html('<input id="q" value="my search"><div data-px-no-capture><button>Private</button></div>');
    const ac = autocapture(just('clicks'));
    (document.querySelector('#q') as HTMLInputElement).value = 'typed secret';
    click(document.querySelector('#q')!);
    click(document.querySelector('button')!);
    expect(ac.captured).toHaveLength(1);
    expect(ac.captured[0].props).toEqual({ selector: '#q', tag: 'input' });
  });
});

describe('rage_click', () => {
  test('three clicks, each under 1 s and within 30 px of the previous: one rage click', () => {
    vi.useFakeTimers();
    html('<button id="buy">Buy</button>');
    const ac = autocapture(just('rageclicks'));
    const button = document.querySelector('#buy')!;
    click(button, { x: 100, y: 100 });
    vi.advanceTimersByTime(900);
    click(button, { x: 120, y: 110 });
    vi.advanceTimersByTime(900);
    click(button, { x: 140, y: 120 }); // 22 px from the previous click
    vi.advanceTimersByTime(100);
    click(button, { x: 140, y: 120 }); // same burst: not reported again
    expect(ac.of('rage_click')).toHaveLength(1);
    expect(ac.of('rage_click')[0].props.selector).toBe('#buy');
  });

  test('a gap of 1 s or more, or 30+ px apart, is no rage', () => {
    vi.useFakeTimers();
    html('<button>Go</button>');
    const ac = autocapture(just('rageclicks'));
    const button = document.querySelector('button')!;
    click(button);
    vi.advanceTimersByTime(500);
    click(button);
    vi.advanceTimersByTime(1000);
    click(button); // 1 s after the previous: a new burst starts
    vi.advanceTimersByTime(10);
    click(button, { x: 60, y: 10 }); // 50 px away: a new burst
    vi.advanceTimersByTime(10);
    click(button, { x: 60, y: 45 }); // 35 px away: a new burst
    expect(ac.of('rage_click')).toHaveLength(0);
  });

  test('text fields and number steppers are ignored', () => {
    html('<input type="number" id="qty"><input id="name"><textarea></textarea>');
    const ac = autocapture(just('rageclicks'));
    for (const sel of ['#qty', '#name', 'textarea']) {
      for (let i = 0; i < 5; i++) click(document.querySelector(sel)!);
    }
    expect(ac.of('rage_click')).toHaveLength(0);
  });
});

describe('dead_click', () => {
  test('a click on a control that changes nothing within 2.5 s', async () => {
    vi.useFakeTimers();
    html('<button id="broken">Save</button>');
    const ac = autocapture(just('deadclicks'));
    click(document.querySelector('#broken')!);
    await vi.advanceTimersByTimeAsync(DEAD_CLICK_MS - 1);
    expect(ac.of('dead_click')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(ac.of('dead_click').map((c) => c.props.selector)).toEqual(['#broken']);
  });

  test('a DOM change, scroll or navigation means the page reacted', async () => {
    vi.useFakeTimers();
    html('<button id="mutates">Open</button><button id="scrolls">Down</button><a id="route" href="#x">Next</a>');
    const ac = autocapture(just('deadclicks'));
    document.querySelector('#mutates')!.addEventListener('click', () => {
      setTimeout(() => document.body.append(document.createElement('dialog')), 1000);
    });
    click(document.querySelector('#mutates')!);
    await vi.advanceTimersByTimeAsync(DEAD_CLICK_MS);
    click(document.querySelector('#scrolls')!);
    window.dispatchEvent(new Event('scroll'));
    await vi.advanceTimersByTimeAsync(DEAD_CLICK_MS);
    click(document.querySelector('#route')!);
    history.pushState({}, '', '/next');
    await vi.advanceTimersByTimeAsync(DEAD_CLICK_MS);
    expect(ac.of('dead_click')).toHaveLength(0);
  });

  test('clicks on things that are not controls are not candidates', async () => {
    vi.useFakeTimers();
    html('<p id="prose">Just text</p><input type="checkbox">');
    const ac = autocapture(just('deadclicks'));
    click(document.querySelector('#prose')!);
    click(document.querySelector('input')!);
    await vi.advanceTimersByTimeAsync(DEAD_CLICK_MS * 2);
    expect(ac.of('dead_click')).toHaveLength(0);
  });
});

describe('errors', () => {
  function throwUncaught(error: Error): void {
    window.dispatchEvent(new ErrorEvent('error', { error, message: error.message, filename: 'app.js', lineno: 3, colno: 7 }));
  }

  test('error carries message, type, stack and where it was thrown', () => {
    const ac = autocapture(just('exceptions'));
    const error = new TypeError('x is undefined');
    throwUncaught(error);
    expect(ac.of('error')[0].props).toEqual({
      type: 'TypeError',
      message: 'x is undefined',
      stack: error.stack,
      source: 'app.js',
      line: 3,
      column: 7,
    });
  });

  test('unhandled rejections, with or without an Error', () => {
    const ac = autocapture(just('exceptions'));
    const rejection = (reason: unknown) => {
      const e = new Event('unhandledrejection') as Event & { reason: unknown };
      e.reason = reason;
      window.dispatchEvent(e);
    };
    rejection(new RangeError('too far'));
    rejection('plain string');
    expect(ac.of('error').map((c) => [c.props.type, c.props.message])).toEqual([
      ['RangeError', 'too far'],
      ['UnhandledRejection', 'plain string'],
    ]);
  });

  test('a flood of errors is rate-limited', () => {
    const ac = autocapture(just('exceptions'));
    for (let i = 0; i < 100; i++) throwUncaught(new Error(`e${i}`));
    expect(ac.of('error')).toHaveLength(10);
  });

  test('error_click: an error within 1 s of a click names the clicked element', () => {
    vi.useFakeTimers();
    html('<button id="pay">Pay</button><button id="later">Later</button>');
    const ac = autocapture(just('errorclicks'));
    click(document.querySelector('#pay')!);
    vi.advanceTimersByTime(ERROR_CLICK_MS - 100);
    throwUncaught(new Error('payment widget crashed'));
    click(document.querySelector('#later')!);
    vi.advanceTimersByTime(ERROR_CLICK_MS + 100);
    throwUncaught(new Error('unrelated'));
    expect(ac.of('error_click').map((c) => [c.props.selector, c.props.message])).toEqual([
      ['#pay', 'payment widget crashed'],
    ]);
    expect(ac.of('error')).toHaveLength(0); // that switch is off
  });
});

describe('page views', () => {
  test('on load, on SPA route changes, and not for anchors or same-route replaces', () => {
    history.replaceState({}, '', '/start');
    const ac = autocapture(just('pageview', 'pageleave'));
    history.pushState({}, '', '/products?page=2');
    history.replaceState({ scroll: 1 }, '', '/products?page=2');
    history.replaceState({}, '', '/products?page=2#reviews'); // an anchor, not a route
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    history.pushState({}, '', '/products?page=2#/compare'); // a hash route
    History.prototype.pushState.call(history, {}, '', '/back'); // as the back button would, unseen...
    window.dispatchEvent(new PopStateEvent('popstate')); // ...until popstate
    const trail = ac.captured.map((c) => `${c.event} ${c.extra?.page?.path ?? ''}`);
    expect(trail).toEqual([
      'page_view ',
      'page_leave /start',
      'page_view ',
      'page_leave /products',
      'page_view ',
      'page_leave /products',
      'page_view ',
    ]);
    expect(ac.captured[5].extra?.page?.url).toMatch(/\/products\?page=2#\/compare$/);
  });

  test('page_leave on pagehide has duration and scroll depth', () => {
    vi.useFakeTimers();
    const ac = autocapture(just('pageleave'));
    vi.advanceTimersByTime(4200);
    ac.hooks.pagehide();
    const [leave] = ac.of('page_leave');
    expect(leave.props.duration_ms).toBe(4200);
    expect(typeof leave.props.max_scroll_percent).toBe('number');
  });
});

describe('scroll', () => {
  test('each milestone once, as the page is scrolled', () => {
    vi.useFakeTimers();
    Object.defineProperty(document.documentElement, 'scrollHeight', { value: 4000, configurable: true });
    vi.stubGlobal('innerHeight', 1000);
    const ac = autocapture(just('scroll'));
    const scrollTo = (y: number) => {
      vi.stubGlobal('scrollY', y);
      window.dispatchEvent(new Event('scroll'));
      vi.advanceTimersByTime(20); // one animation frame
    };
    scrollTo(100); // 27%
    scrollTo(200);
    scrollTo(2100); // 78%
    scrollTo(0);
    scrollTo(3000); // 100%
    expect(ac.of('scroll').map((c) => c.props.depth)).toEqual([25, 50, 75, 100]);
    delete (document.documentElement as { scrollHeight?: number }).scrollHeight;
  });
});

describe('web_vital', () => {
  test('ratings follow the web.dev thresholds', () => {
    expect(rating('LCP', 2500)).toBe('good');
    expect(rating('LCP', 2500.1)).toBe('needs-improvement');
    expect(rating('LCP', 4000.1)).toBe('poor');
    expect(rating('CLS', 0.05)).toBe('good');
    expect(rating('CLS', 0.3)).toBe('poor');
    expect(rating('INP', 350)).toBe('needs-improvement');
  });

  test('one event per metric measured, reported once', () => {
    vi.spyOn(performance, 'getEntriesByType').mockReturnValue([
      { responseStart: 950.4 } as PerformanceNavigationTiming,
    ]);
    const vitals = new Vitals();
    const captured: Captured[] = [];
    const capture = (event: string, props: Properties = {}) => captured.push({ event, props });
    vitals.report(capture);
    vitals.report(capture);
    expect(captured.find((c) => c.props.name === 'TTFB')).toEqual({
      event: 'web_vital',
      props: { name: 'TTFB', value: 950, rating: 'needs-improvement' },
    });
    expect(captured.every((c) => c.event === 'web_vital' && Object.keys(c.props).length === 3)).toBe(true);
    expect(new Set(captured.map((c) => c.props.name)).size).toBe(captured.length);
  });
});

describe('through a client', () => {
  test('autocaptured events are queued and sent like any other', async () => {
    const server = fakeServer();
    html('<button id="b">B</button>');
    const px = startClient({ autocapture: just('pageview', 'clicks') });
    click(document.querySelector('#b')!);
    await px.flush();
    expect(server.events().map((e) => e.event)).toEqual(['page_view', 'click']);
  });
});
