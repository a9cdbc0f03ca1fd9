// Sends every kind of Segment call through @segment/analytics-node to PX
// (see crates/px/tests/compat.rs, which checks what PX stored).
import { Analytics } from '@segment/analytics-node';
import { main } from './proxy.mjs';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

await main(['/v1/batch'], async (host, writeKey) => {
  const errors = [];
  const analytics = new Analytics({ writeKey, host, flushAt: 8, flushInterval: 60_000, maxRetries: 3 });
  analytics.on('error', (e) => errors.push(e));
  const web = { userAgent: CHROME, locale: 'pt-BR', ip: '203.0.113.7', timezone: 'America/Sao_Paulo' };

  analytics.page({
    anonymousId: 'seg-anon',
    name: 'Pricing',
    category: 'Marketing',
    properties: { url: 'https://shop.example/pricing?utm_source=news', title: 'Pricing', referrer: 'https://www.google.com/' },
    context: web,
  });
  analytics.track({ anonymousId: 'seg-anon', event: 'Signup Started', properties: { plan: 'pro' }, context: web });
  analytics.identify({ userId: 'seg-user', anonymousId: 'seg-anon', traits: { plan: 'pro', company: 'Acme' } });
  analytics.track({
    userId: 'seg-user',
    event: 'Order Completed',
    properties: { revenue: 99.5, currency: 'BRL' },
    timestamp: new Date('2026-01-10T12:00:00.000Z'),
  });
  analytics.screen({ userId: 'seg-user', name: 'Home', properties: { tab: 'feed' } });
  analytics.group({ userId: 'seg-user', groupId: 'acme-1', traits: { name: 'Acme', employees: 40 } });
  analytics.alias({ userId: 'seg-user', previousId: 'seg-legacy' });
  analytics.track({ userId: 'seg-legacy', event: 'Legacy Login' });

  await analytics.closeAndFlush({ timeout: 20_000 });
  if (errors.length) throw new Error('analytics-node reported: ' + JSON.stringify(errors.map((e) => e.code ?? String(e))));
  return {};
});
