import type { PageContext, WireEvent } from './types';
import { VERSION } from './version';

type StaticContext = Omit<WireEvent['context'], 'page'>;

/**
 * The parts of an event's context that do not change while the page lives,
 * read once: `Intl` time zone resolution in particular is too slow to repeat
 * on every `track`.
 */
export function staticContext(): StaticContext {
  let timezone = '';
  try {
    timezone = Intl.DateTimeFormat().resolvedOptions().timeZone ?? '';
  } catch {
    // Some embedded browsers lack Intl; the server then has no time zone.
  }
  return {
    user_agent: navigator.userAgent,
    locale: navigator.language ?? '',
    timezone,
    screen: { width: screen.width, height: screen.height },
    library: { name: 'px-js', version: VERSION },
  };
}

/** The page as it is now (single-page apps change it without reloading). */
export function pageContext(): PageContext {
  return { url: location.href, referrer: document.referrer, title: document.title, path: location.pathname };
}
