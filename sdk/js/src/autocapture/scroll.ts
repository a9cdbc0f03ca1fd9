import type { Capture } from '../types';
import { guarded, listen } from '../safe';

export const SCROLL_MILESTONES = [25, 50, 75, 100];

/** How much of the page is or was in view, in percent of its height. */
export function visiblePercent(): number {
  const height = document.documentElement.scrollHeight;
  if (!height) return 0;
  return Math.min(100, Math.round(((window.scrollY + window.innerHeight) / height) * 100));
}

/**
 * The deepest point of the current page a person scrolled to, and
 * `scroll` events (`depth`: 25, 50, 75, 100) as it passes each milestone
 * (once per page view).
 * Measuring reads layout, so scroll events are coalesced to one measurement
 * per animation frame.
 */
export class ScrollDepth {
  max = 0;
  private next = 0;
  private scheduled = false;

  constructor(
    private readonly capture: Capture,
    private readonly milestones: boolean,
  ) {
    const measure = guarded('scroll depth', () => {
      this.scheduled = false;
      this.measure();
    });
    listen(
      window,
      'scroll',
      () => {
        if (this.scheduled) return;
        this.scheduled = true;
        requestAnimationFrame(measure);
      },
      { passive: true },
    );
  }

  measure(): void {
    this.max = Math.max(this.max, visiblePercent());
    while (this.next < SCROLL_MILESTONES.length && this.max >= SCROLL_MILESTONES[this.next]) {
      if (this.milestones) this.capture('scroll', { depth: SCROLL_MILESTONES[this.next] });
      this.next++;
    }
  }

  /** A new page view starts counting from the top. */
  reset(): void {
    this.max = 0;
    this.next = 0;
  }
}
