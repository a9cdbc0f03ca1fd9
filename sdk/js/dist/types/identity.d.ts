import type { Store } from './storage';
import type { Properties } from './types';
/** A session ends after this long without an event, as on the server. */
export declare const SESSION_TIMEOUT_MS: number;
/** Who is tracked, in which session, with which super properties; kept in a {@link Store}. */
export declare class Identity {
    private readonly store;
    private readonly key;
    private persisting;
    private s;
    private writtenAt;
    /**
     * `persisting` is false while the person is opted out: what is stored is
     * erased, and nothing identifying is written until {@link resume}.
     */
    constructor(store: Store, key: string, now: number, persisting: boolean);
    get distinctId(): string;
    get anonymousId(): string;
    get userId(): string | undefined;
    get superProperties(): Properties;
    /** The current session id, without counting as activity. */
    get sessionId(): string;
    /**
     * The session of an event happening at `now`: the current one, or a new one
     * after 30 minutes of inactivity. Before rotating, the store is read again,
     * because another tab of the same site may have kept the session alive.
     */
    session(now: number): string;
    identify(userId: string): void;
    register(props: Properties): void;
    unregister(key: string): void;
    /** A new anonymous person with a new session and no super properties. */
    reset(now: number): void;
    /** Stops writing to the store and erases what is there (opt-out). */
    forget(): void;
    /** Writes again from now on (opt-in). */
    resume(): void;
    save(now?: number): void;
}
