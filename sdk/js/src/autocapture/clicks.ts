import type { Capture, Properties } from '../types';
import { guarded, listen } from '../safe';
import { clickedElement, describe, isControl, isField } from './element';

export const RAGE_CLICKS = 3;
export const RAGE_INTERVAL_MS = 1000;
export const RAGE_RADIUS_PX = 30;
export const DEAD_CLICK_MS = 2500;
export const ERROR_CLICK_MS = 1000;

export interface ClickSwitches {
  clicks: boolean;
  rageclicks: boolean;
  deadclicks: boolean;
  errorclicks: boolean;
}

interface Watch {
  /** performance.now() of the click, comparable with resource timings. */
  at: number;
  props: Properties;
}

/**
 * Everything derived from clicks: `click`, `rage_click`, `dead_click` and
 * `error_click`. One capture-phase listener on the
 * document sees every click, even those the page stops from propagating.
 */
export class Clicks {
  private last?: { at: number; selector: string };
  private burst?: { x: number; y: number; at: number; count: number };
  private watching: Watch[] = [];
  private mutations?: MutationObserver;
  private requests?: PerformanceObserver;

  constructor(
    private readonly capture: Capture,
    private readonly on: ClickSwitches,
    /** Requests to PX itself are not the page reacting to a click. */
    private readonly pxHost: string,
  ) {
    listen<MouseEvent>(document, 'click', (e) => this.onClick(e), { capture: true });
    if (on.deadclicks) {
      const activity = () => this.activity();
      listen(window, 'scroll', activity, { capture: true, passive: true });
      for (const type of ['popstate', 'hashchange', 'pagehide', 'beforeunload', 'blur']) {
        listen(window, type, activity);
      }
    }
  }

  /** Whatever shows the page reacted: ends every dead-click watch. */
  activity(): void {
    if (!this.watching.length) return;
    this.watching = [];
    this.stopObserving();
  }

  /** Reports an uncaught error as an `error_click` if a click came less than 1 s before it. */
  onError(error: Properties): void {
    if (this.last && Date.now() - this.last.at <= ERROR_CLICK_MS) {
      this.capture('error_click', { selector: this.last.selector, ...error });
      this.last = undefined;
    }
  }

  private onClick(e: MouseEvent): void {
    const node = e.target as Node | null;
    const target = node?.nodeType === 1 ? (node as Element) : node?.parentElement;
    if (!target || target.closest('[data-px-no-capture]')) return;
    const el = clickedElement(target);
    const props = describe(el);
    const now = Date.now();
    if (this.on.clicks) this.capture('click', props);
    if (this.on.errorclicks) this.last = { at: now, selector: props.selector as string };
    if (this.on.rageclicks && !isField(el) && this.isRage(e.clientX, e.clientY, now)) {
      this.capture('rage_click', props);
    }
    if (this.on.deadclicks && isControl(el)) this.watch(props);
  }

  private stopObserving(): void {
    this.mutations?.disconnect();
    this.requests?.disconnect();
    this.mutations = this.requests = undefined;
  }

  /**
   * PostHog's rule: clicks each less than 1 s after and 30 px from the
   * previous one form a burst; the third click of a burst is a rage click
   * (once: later clicks of the same burst are not reported again).
   */
  private isRage(x: number, y: number, at: number): boolean {
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
  private watch(props: Properties): void {
    const watch: Watch = { at: performance.now(), props };
    this.watching.push(watch);
    if (!this.mutations) {
      const activity = guarded('dead-click observer', () => this.activity());
      this.mutations = new MutationObserver(activity);
      this.mutations.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
      if (typeof PerformanceObserver === 'function') {
        this.requests = new PerformanceObserver((list) => {
          const since = this.watching[0]?.at ?? Infinity;
          if (list.getEntries().some((r) => r.startTime >= since && !r.name.startsWith(this.pxHost))) activity();
        });
        try {
          this.requests.observe({ type: 'resource' });
        } catch {
          // No resource timing here: requests cannot be seen, the other signals still count.
        }
      }
    }
    setTimeout(
      guarded('dead-click check', () => {
        const i = this.watching.indexOf(watch);
        if (i < 0) return;
        this.watching.splice(i, 1);
        if (!this.watching.length) this.stopObserving();
        this.capture('dead_click', props);
      }),
      DEAD_CLICK_MS,
    );
  }
}
