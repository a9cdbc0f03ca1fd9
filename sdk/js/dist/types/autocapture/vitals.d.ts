import type { Capture } from '../types';
/**
 * Core Web Vitals measured as Google's web-vitals library does, in far
 * less code: the page reports them once, in a `$web_vitals` event, when it
 * is first hidden (after which LCP, CLS and INP no longer change in a way
 * the visitor saw).
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
    /** `$web_vitals` with what was measured; only the first call reports. */
    report(capture: Capture): void;
    private shift;
    /**
     * INP: the slowest interaction, except that one outlier is ignored per
     * 50 interactions (a high percentile on busy pages, as web-vitals does).
     */
    private inp;
}
