import type { Capture, Properties } from '../types';
export declare const RAGE_CLICKS = 3;
export declare const RAGE_INTERVAL_MS = 1000;
export declare const RAGE_RADIUS_PX = 30;
export declare const DEAD_CLICK_MS = 2500;
export declare const ERROR_CLICK_MS = 1000;
export interface ClickSwitches {
    clicks: boolean;
    rageclicks: boolean;
    deadclicks: boolean;
    errorclicks: boolean;
}
/**
 * Everything derived from clicks: `click`, `rage_click`, `dead_click` and
 * `error_click`. One capture-phase listener on the
 * document sees every click, even those the page stops from propagating.
 */
export declare class Clicks {
    private readonly capture;
    private readonly on;
    /** Requests to PX itself are not the page reacting to a click. */
    private readonly pxHost;
    private last?;
    private burst?;
    private watching;
    private mutations?;
    private requests?;
    constructor(capture: Capture, on: ClickSwitches, 
    /** Requests to PX itself are not the page reacting to a click. */
    pxHost: string);
    /** Whatever shows the page reacted: ends every dead-click watch. */
    activity(): void;
    /** Reports an uncaught error as an `error_click` if a click came less than 1 s before it. */
    onError(error: Properties): void;
    private onClick;
    private stopObserving;
    /**
     * PostHog's rule: clicks each less than 1 s after and 30 px from the
     * previous one form a burst; the third click of a burst is a rage click
     * (once: later clicks of the same burst are not reported again).
     */
    private isRage;
    /**
     * Watches a click on a control for 2.5 s: a DOM change, scroll,
     * navigation or network request in that time means the page reacted;
     * none means a dead click. Observers run only while a click is watched.
     */
    private watch;
}
