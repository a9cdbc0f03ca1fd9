import type { Store } from './storage';
import type { Properties } from './types';
import { uuidv7 } from './uuid';

/** A session ends after this long without an event, as on the server. */
export const SESSION_TIMEOUT_MS = 30 * 60 * 1000;

/**
 * How stale the stored last-activity time may get. Writing on every event
 * would put a storage write (slow for cookies) on the `track` path; a second
 * of staleness cannot change whether 30 minutes have passed.
 */
const TOUCH_WRITE_MS = 1000;

interface Saved {
  /** Anonymous id: who this browser is until `identify`. */
  anon: string;
  /** The id given to `identify`, if any. */
  user?: string;
  /** Current session id, and when it last saw an event (epoch ms). */
  sid: string;
  seen: number;
  /** Super properties, sent with every event. */
  props: Properties;
}

function fresh(now: number): Saved {
  return { anon: uuidv7(now), sid: uuidv7(now), seen: now, props: {} };
}

function parse(raw: string | null): Saved | null {
  if (!raw) return null;
  try {
    const s = JSON.parse(raw);
    if (typeof s?.anon !== 'string' || typeof s.sid !== 'string' || typeof s.seen !== 'number') return null;
    return {
      anon: s.anon,
      user: typeof s.user === 'string' ? s.user : undefined,
      sid: s.sid,
      seen: s.seen,
      props: s.props && typeof s.props === 'object' ? s.props : {},
    };
  } catch {
    return null;
  }
}

/** Who is tracked, in which session, with which super properties; kept in a {@link Store}. */
export class Identity {
  private s: Saved;
  private writtenAt = 0;
  /**
   * `persisting` is false while the person is opted out: what is stored is
   * erased, and nothing identifying is written until {@link resume}.
   */
  constructor(
    private readonly store: Store,
    private readonly key: string,
    now: number,
    private persisting: boolean,
  ) {
    const saved = parse(store.get(key));
    this.s = saved ?? fresh(now);
    if (!persisting) store.remove(key);
    // Written at once, so that other tabs and the next page load share the new ids.
    else if (!saved) this.save(now);
  }

  get distinctId(): string {
    return this.s.user ?? this.s.anon;
  }

  get anonymousId(): string {
    return this.s.anon;
  }

  get userId(): string | undefined {
    return this.s.user;
  }

  get superProperties(): Properties {
    return this.s.props;
  }

  /** The current session id, without counting as activity. */
  get sessionId(): string {
    return this.s.sid;
  }

  /**
   * The session of an event happening at `now`: the current one, or a new one
   * after 30 minutes of inactivity. Before rotating, the store is read again,
   * because another tab of the same site may have kept the session alive.
   */
  session(now: number): string {
    let rotated = false;
    if (now - this.s.seen > SESSION_TIMEOUT_MS) {
      const other = parse(this.store.get(this.key));
      if (other && other.anon === this.s.anon && now - other.seen <= SESSION_TIMEOUT_MS) {
        this.s.sid = other.sid;
      } else {
        this.s.sid = uuidv7(now);
        rotated = true;
      }
    }
    this.s.seen = now;
    if (rotated || now - this.writtenAt >= TOUCH_WRITE_MS) this.save(now);
    return this.s.sid;
  }

  identify(userId: string): void {
    this.s.user = userId;
    this.save();
  }

  register(props: Properties): void {
    this.s.props = { ...this.s.props, ...props };
    this.save();
  }

  unregister(key: string): void {
    const props = { ...this.s.props };
    delete props[key];
    this.s.props = props;
    this.save();
  }

  /** A new anonymous person with a new session and no super properties. */
  reset(now: number): void {
    this.s = fresh(now);
    this.save(now);
  }

  /** Stops writing to the store and erases what is there (opt-out). */
  forget(): void {
    this.persisting = false;
    this.store.remove(this.key);
  }

  /** Writes again from now on (opt-in). */
  resume(): void {
    this.persisting = true;
    this.save();
  }

  save(now: number = Date.now()): void {
    if (!this.persisting) return;
    this.store.set(this.key, JSON.stringify(this.s));
    this.writtenAt = now;
  }
}
