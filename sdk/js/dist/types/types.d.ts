/** Event or person properties: any JSON-serializable values. */
export type Properties = Record<string, unknown>;
/** Where identity, super properties and consent are kept between page loads. */
export type Persistence = 'localStorage' | 'cookie' | 'memory';
/** One switch per kind of automatically captured event; all on by default. */
export interface AutocaptureOptions {
    /** `page_view` on load and on SPA route changes. */
    pageview?: boolean;
    /** `page_leave` when the page is hidden for good or the SPA route changes. */
    pageleave?: boolean;
    /** `click` for clicks. */
    clicks?: boolean;
    /** `rage_click`: 3 or more quick clicks in one spot. */
    rageclicks?: boolean;
    /** `dead_click`: a click on a control that changed nothing within 2.5 s. */
    deadclicks?: boolean;
    /** `error_click`: a JavaScript error within 1 s of a click. */
    errorclicks?: boolean;
    /** `scroll` at 25, 50, 75 and 100 percent of the page. */
    scroll?: boolean;
    /** `error` for uncaught errors and unhandled promise rejections. */
    exceptions?: boolean;
    /** `web_vital`, one per metric: LCP, INP, CLS, FCP and TTFB. */
    webVitals?: boolean;
}
export interface InitOptions {
    /** The project's ingestion key (`pxi_...`), safe to ship in a page. */
    apiKey: string;
    /** Where PX runs, e.g. `https://px.example.com`. */
    host: string;
    /** Send as soon as this many events wait. */
    bufferSize?: number;
    /** Send waiting events at least this often, in milliseconds. */
    flushInterval?: number;
    compression?: 'gzip' | 'none';
    autocapture?: boolean | AutocaptureOptions;
    /** Treat a browser's Do Not Track or Global Privacy Control as an opt-out. */
    respectDoNotTrack?: boolean;
    persistence?: Persistence;
    /** Log what the SDK does to the console. */
    debug?: boolean;
}
/** Page part of an event's context. */
export interface PageContext {
    url: string;
    referrer: string;
    title: string;
    path: string;
}
/** An event exactly as the ingestion API takes it: no other fields allowed. */
export interface WireEvent {
    event: string;
    distinct_id: string;
    event_id: string;
    session_id: string;
    timestamp: string;
    properties: Properties;
    context: {
        page: PageContext;
        user_agent: string;
        locale: string;
        timezone: string;
        screen: {
            width: number;
            height: number;
        };
        library: {
            name: string;
            version: string;
        };
    };
    $set?: Properties;
    $set_once?: Properties;
}
/** Parts of an event the SDK sets for its own events. */
export interface CaptureExtra {
    /** The page the event is about, when not the current one (`page_leave` of an SPA route). */
    page?: PageContext;
    $set?: Properties;
}
/** Queues one event: how autocapture reaches the client. */
export type Capture = (event: string, properties?: Properties, extra?: CaptureExtra) => void;
