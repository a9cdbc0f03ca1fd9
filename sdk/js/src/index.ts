/**
 * PX browser SDK. The module is one client shared by the page; the IIFE
 * build exposes the same functions as the global `PX`.
 */
import { Client } from './client';
import type { Feedback } from './client';
import type { InitOptions, Properties } from './types';

export type { AutocaptureOptions, InitOptions, Persistence, Properties } from './types';
export type { Feedback } from './client';
export { VERSION as version } from './version';

const client = new Client();

export const init = (options: InitOptions): void => client.init(options);
export const track = (event: string, properties?: Properties): void => client.track(event, properties);
export const page = (properties?: Properties): void => client.page(properties);
export const identify = (userId: string | number, traits?: Properties): void => client.identify(userId, traits);
export const group = (groupType: string, groupKey: string | number, traits?: Properties): void =>
  client.group(groupType, groupKey, traits);
export const alias = (alias: string | number): void => client.alias(alias);
export const reset = (): void => client.reset();
export const register = (props: Properties): void => client.register(props);
export const unregister = (key: string): void => client.unregister(key);
export const optIn = (): void => client.optIn();
export const optOut = (): void => client.optOut();
export const hasOptedOut = (): boolean => client.hasOptedOut();
export const flush = (): Promise<void> => client.flush();
export const feedback = (feedback: Feedback): void => client.feedback(feedback);
export const getDistinctId = (): string | undefined => client.getDistinctId();
export const getSessionId = (): string | undefined => client.getSessionId();
