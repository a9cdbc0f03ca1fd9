// Sends PostHog's calls through posthog-node to PX (see
// crates/px/tests/compat.rs, which checks what PX stored).
import { PostHog } from 'posthog-node';
import { main } from './proxy.mjs';

await main(['/batch/'], async (host, apiKey) => {
  const errors = [];
  const posthog = new PostHog(apiKey, { host, flushAt: 20, flushInterval: 0, fetchRetryDelay: 50, fetchRetryCount: 3 });
  posthog.on('error', (e) => errors.push(e));

  posthog.capture({
    distinctId: 'ph-anon',
    event: '$pageview',
    properties: {
      $current_url: 'https://shop.example/docs?utm_campaign=launch',
      $referrer: 'https://news.example/',
      $browser: 'Firefox',
      $browser_version: 121,
      $os: 'Mac OS X',
      $device_type: 'Desktop',
      $screen_width: 1280,
      $screen_height: 800,
      $session_id: 'ph-session-1',
      title: 'Docs',
    },
  });
  posthog.capture({ distinctId: 'ph-anon', event: 'searched', properties: { query: 'pricing' } });
  posthog.identify({
    distinctId: 'ph-user',
    properties: { $set: { plan: 'team' }, $set_once: { first_plan: 'free' }, $anon_distinct_id: 'ph-anon' },
  });
  posthog.capture({
    distinctId: 'ph-user',
    event: '$autocapture',
    properties: { $event_type: 'click', $el_text: 'Buy now', $elements_chain: 'button.cta:text="Buy now"nth-child="2"' },
  });
  posthog.capture({
    distinctId: 'ph-user',
    event: '$exception',
    properties: { $exception_list: [{ type: 'TypeError', value: 'plan is undefined' }] },
  });
  posthog.alias({ distinctId: 'ph-user', alias: 'ph-legacy' });
  posthog.groupIdentify({ groupType: 'company', groupKey: 'acme', properties: { name: 'Acme' }, distinctId: 'ph-user' });
  posthog.capture({
    distinctId: 'ph-legacy',
    event: 'checkout',
    properties: { amount: 42, $set: { tier: 'gold' } },
    timestamp: new Date('2026-01-10T12:00:00.000Z'),
  });
  const flags = await posthog.evaluateFlags('ph-user');
  const flagEnabled = flags.isEnabled('new-checkout', { sendFeatureFlagEvents: false });

  await posthog.shutdown(20_000);
  if (errors.length) throw new Error('posthog-node reported: ' + errors.map(String).join('; '));
  return { flagEnabled };
});
