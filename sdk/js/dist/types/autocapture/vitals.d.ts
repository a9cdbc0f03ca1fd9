import type { Capture } from '../types';
/** A Core Web Vital as PX names it. */
export type VitalName = 'LCP' | 'FCP' | 'CLS' | 'INP' | 'TTFB';
/**
 * Upper bounds of "good" and of "needs-improvement" for each metric
 * (web.dev's thresholds; PX's traffic simulator rates with the same).
 */
export declare const VITAL_THRESHOLDS: Record<VitalName, [number, number]>;
export declare function rating(name: VitalName, value: number): 'good' | 'needs-improvement' | 'poor';
/**
 * Core Web Vitals measured as Google's web-vitals library does, in far
 * less code: the page reports them once, as one `web_vital` event per
 * metric (`name`, `value`, `rating`), when it is first hidden (after which
 * LCP, CLS and INP no longer change in a way the visitor saw).
 */
export declare class Vitals {
    private fcp?;
    private lcp?;
    private cls;
    /** Whether layout shifts are reported here, so that a CLS of 0 means none happened. */
    private measuresCls;
    /** Current CLS session window: shifts less than 1 s apart, for at most 5 s. */
    private shiftWindow;
    /** Longest duration of each interaction, by interaction id. */
    private interactions;
    private reported;
    constructor();
    /** A `web_vital` event for each metric measured; only the first call reports. */
    report(capture: Capture): void;
    private ttfb;
    private shift;
    /**
     * INP: the slowest interaction, except that one outlier is ignored per
     * 50 interactions (a high percentile on busy pages, as web-vitals does).
     */
    private inp;
}
