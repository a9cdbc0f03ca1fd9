import type { AutocaptureOptions, Capture, Properties } from '../types';
import { listen, safely } from '../safe';
import { Clicks } from './clicks';
import { watchErrors } from './exceptions';
import { Pages } from './pages';
import { ScrollDepth } from './scroll';
import { Vitals } from './vitals';

export type Switches = Required<AutocaptureOptions>;

/** `true` turns everything on, `false` everything off; in an object, each switch is on unless set to false. */
export function switches(option: boolean | AutocaptureOptions | undefined): Switches {
  const all = option !== false;
  const o: AutocaptureOptions = typeof option === 'object' && option ? option : {};
  const pick = (v: boolean | undefined) => all && v !== false;
  return {
    pageview: pick(o.pageview),
    pageleave: pick(o.pageleave),
    clicks: pick(o.clicks),
    rageclicks: pick(o.rageclicks),
    deadclicks: pick(o.deadclicks),
    errorclicks: pick(o.errorclicks),
    scroll: pick(o.scroll),
    exceptions: pick(o.exceptions),
    webVitals: pick(o.webVitals),
  };
}

/** Hooks the client calls as the page goes away, before it sends what is queued. */
export interface Autocapture {
  /** The page was hidden: maybe a tab switch, maybe the last chance to send. */
  hidden(): void;
  /** The document is being unloaded or put in the back/forward cache. */
  pagehide(): void;
}

/**
 * Calls `onChange` after every history change made by the page. The
 * History API fires no event for pushState/replaceState, so both are
 * wrapped; the page's own call runs first and untouched, errors included.
 */
function watchHistory(onChange: () => void): void {
  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      const result = original.apply(this, args);
      safely('history.' + method, onChange);
      return result;
    };
  }
  listen(window, 'popstate', onChange);
  listen(window, 'hashchange', onChange);
}

export function startAutocapture(capture: Capture, on: Switches, pxHost: string): Autocapture {
  const clicks =
    on.clicks || on.rageclicks || on.deadclicks || on.errorclicks ? new Clicks(capture, on, pxHost) : undefined;
  const scroll = on.scroll || on.pageview || on.pageleave ? new ScrollDepth(capture, on.scroll) : undefined;
  const pages = scroll && (on.pageview || on.pageleave) ? new Pages(capture, on, scroll) : undefined;
  const vitals = on.webVitals ? new Vitals() : undefined;

  if (pages || on.deadclicks) {
    watchHistory(() => {
      pages?.check();
      clicks?.activity();
    });
  }
  if (pages) {
    listen<PageTransitionEvent>(window, 'pageshow', (e) => {
      if (e.persisted) pages.restored();
    });
  }
  if (on.exceptions || on.errorclicks) {
    watchErrors((error: Properties) => {
      if (on.exceptions) capture('error', error);
      clicks?.onError(error);
    });
  }
  return {
    hidden: () => vitals?.report(capture),
    pagehide: () => {
      vitals?.report(capture);
      pages?.leave(true);
    },
  };
}
