import type { AutocaptureOptions, Capture } from '../types';
export type Switches = Required<AutocaptureOptions>;
/** `true` turns everything on, `false` everything off; in an object, each switch is on unless set to false. */
export declare function switches(option: boolean | AutocaptureOptions | undefined): Switches;
/** Hooks the client calls as the page goes away, before it sends what is queued. */
export interface Autocapture {
    /** The page was hidden: maybe a tab switch, maybe the last chance to send. */
    hidden(): void;
    /** The document is being unloaded or put in the back/forward cache. */
    pagehide(): void;
}
export declare function startAutocapture(capture: Capture, on: Switches, pxHost: string): Autocapture;
