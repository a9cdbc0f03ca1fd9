import type { Capture } from '../types';
import { guarded } from '../safe';

/** Entry types TypeScript's DOM library does not describe. */
interface LayoutShift extends PerformanceEntry {
  value: number;
  hadRecentInput: boolean;
}
interface EventTiming extends PerformanceEntry {
  interactionId?: number;
}

/** Observes `type`, buffered; false when this browser does not report it. */
function observe<E extends PerformanceEntry>(type: string, onEntry: (e: E) => void, extra?: object): boolean {
  // Checked first: observing an unknown type makes Chromium warn in the console.
  if (typeof PerformanceObserver !== 'function' || !PerformanceObserver.supportedEntryTypes?.includes(type)) {
    return false;
  }
  try {
    const po = new PerformanceObserver(
      guarded(type + ' observer', (list: PerformanceObserverEntryList) => {
        for (const e of list.getEntries()) onEntry(e as E);
      }),
    );
    po.observe({ type, buffered: true, ...extra } as PerformanceObserverInit);
    return true;
  } catch {
    return false;
  }
}

/** A Core Web Vital as PX names it. */
export type VitalName = 'LCP' | 'FCP' | 'CLS' | 'INP' | 'TTFB';

/**
 * Upper bounds of "good" and of "needs-improvement" for each metric
 * (web.dev's thresholds; PX's traffic simulator rates with the same).
 */
export const VITAL_THRESHOLDS: Record<VitalName, [number, number]> = {
  TTFB: [800, 1800],
  FCP: [1800, 3000],
  LCP: [2500, 4000],
  CLS: [0.1, 0.25],
  INP: [200, 500],
};

export function rating(name: VitalName, value: number): 'good' | 'needs-improvement' | 'poor' {
  const [good, poor] = VITAL_THRESHOLDS[name];
  return value <= good ? 'good' : value <= poor ? 'needs-improvement' : 'poor';
}

/**
 * Core Web Vitals measured as Google's web-vitals library does, in far
 * less code: the page reports them once, as one `web_vital` event per
 * metric (`name`, `value`, `rating`), when it is first hidden (after which
 * LCP, CLS and INP no longer change in a way the visitor saw).
 */
export class Vitals {
  private fcp?: number;
  private lcp?: number;
  private cls = 0;
  /** Whether layout shifts are reported here, so that a CLS of 0 means none happened. */
  private measuresCls: boolean;
  /** Current CLS session window: shifts less than 1 s apart, for at most 5 s. */
  private shiftWindow = { value: 0, first: 0, last: 0 };
  /** Longest duration of each interaction, by interaction id. */
  private interactions = new Map<number, number>();
  private reported = false;

  constructor() {
    observe('paint', (e) => {
      if (e.name === 'first-contentful-paint') this.fcp = e.startTime;
    });
    observe('largest-contentful-paint', (e) => {
      this.lcp = e.startTime;
    });
    this.measuresCls = observe<LayoutShift>('layout-shift', (e) => this.shift(e));
    const interaction = (e: EventTiming) => {
      if (!e.interactionId) return;
      this.interactions.set(e.interactionId, Math.max(this.interactions.get(e.interactionId) ?? 0, e.duration));
    };
    observe<EventTiming>('event', interaction, { durationThreshold: 40 });
    observe<EventTiming>('first-input', interaction);
  }

  /** A `web_vital` event for each metric measured; only the first call reports. */
  report(capture: Capture): void {
    if (this.reported) return;
    this.reported = true;
    const measured: [VitalName, number | undefined][] = [
      ['LCP', this.lcp],
      ['FCP', this.fcp],
      ['CLS', this.measuresCls ? Math.round(this.cls * 10_000) / 10_000 : undefined],
      ['INP', this.inp()],
      ['TTFB', this.ttfb()],
    ];
    for (const [name, raw] of measured) {
      if (raw === undefined) continue;
      const value = name === 'CLS' ? raw : Math.round(raw);
      capture('web_vital', { name, value, rating: rating(name, value) });
    }
  }

  private ttfb(): number | undefined {
    const nav = performance.getEntriesByType?.('navigation')[0] as PerformanceNavigationTiming | undefined;
    return nav && nav.responseStart > 0 ? nav.responseStart : undefined;
  }

  private shift(e: LayoutShift): void {
    if (e.hadRecentInput) return;
    const w = this.shiftWindow;
    if (w.value && e.startTime - w.last < 1000 && e.startTime - w.first < 5000) {
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
  private inp(): number | undefined {
    const durations = [...this.interactions.values()].sort((a, b) => b - a);
    if (!durations.length) return undefined;
    return durations[Math.min(durations.length - 1, Math.floor(durations.length / 50))];
  }
}
