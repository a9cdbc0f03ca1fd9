import type { Capture } from '../types';
export declare const SCROLL_MILESTONES: number[];
/** How much of the page is or was in view, in percent of its height. */
export declare function visiblePercent(): number;
/**
 * The deepest point of the current page a person scrolled to, and
 * `scroll` events (`depth`: 25, 50, 75, 100) as it passes each milestone
 * (once per page view).
 * Measuring reads layout, so scroll events are coalesced to one measurement
 * per animation frame.
 */
export declare class ScrollDepth {
    private readonly capture;
    private readonly milestones;
    max: number;
    private next;
    private scheduled;
    constructor(capture: Capture, milestones: boolean);
    measure(): void;
    /** A new page view starts counting from the top. */
    reset(): void;
}
