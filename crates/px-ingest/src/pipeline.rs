//! The gateway half of the pipeline: raw batch in, stored-ready events and
//! per-event rejections out. It runs on the request's task, in parallel
//! across requests. Deduplication and sessionization need one ordered view
//! of all events and run later, in the writer (see `px-server`'s writer),
//! right before the store commits.

use crate::decode::RawBatch;
use crate::enrich::{Enricher, RequestInfo};
use crate::privacy;
use crate::timestamp;
use crate::validate::{Validated, validate};
use px_core::event::person_id_for;
use px_core::props;
use px_core::time::Micros;
use px_core::{Event, IngestLimits, ProjectId, ProjectSettings, Reject};
use serde_json::{Map, Value};

/// The result of processing one batch.
#[derive(Debug, Default)]
pub struct Processed {
    pub events: Vec<Event>,
    /// Index in the batch and reason of each rejected event.
    pub rejected: Vec<(usize, Reject)>,
}

pub struct Pipeline {
    pub limits: IngestLimits,
    pub enricher: Enricher,
}

impl Pipeline {
    pub fn new(limits: IngestLimits, enricher: Enricher) -> Self {
        Self { limits, enricher }
    }

    /// Validates, normalizes, enriches and masks every event of `batch`.
    pub fn process(
        &self,
        project: ProjectId,
        settings: &ProjectSettings,
        batch: &RawBatch<'_>,
        req: &RequestInfo,
        received_at: Micros,
    ) -> Processed {
        let mut out = Processed { events: Vec::with_capacity(batch.events.len()), rejected: Vec::new() };
        for (i, raw) in batch.events.iter().enumerate() {
            match validate(raw, &self.limits)
                .and_then(|v| self.finish(project, settings, v, batch.sent_at.as_ref(), req, received_at))
            {
                Ok(e) => out.events.push(e),
                Err(r) => out.rejected.push((i, r)),
            }
        }
        out
    }

    fn finish(
        &self,
        project: ProjectId,
        settings: &ProjectSettings,
        v: Validated,
        batch_sent_at: Option<&Value>,
        req: &RequestInfo,
        received_at: Micros,
    ) -> Result<Event, Reject> {
        let Validated { mut wire, event, distinct_id, event_id, session_id, link } = v;
        let sent_at = wire.sent_at.as_ref().or(batch_sent_at);
        let ts = timestamp::normalize(wire.timestamp.as_ref(), sent_at, received_at, self.limits.max_future_skew_secs)?;

        let mut properties = wire.properties.take().unwrap_or_default();
        if let Some(ctx) = wire.context.as_mut() {
            for (k, v) in std::mem::take(&mut ctx.other) {
                properties.insert(format!("{}{k}", props::CONTEXT_PREFIX), v);
            }
            if let Some(tz) = ctx.timezone.take() {
                properties.insert(props::TIMEZONE.into(), Value::String(tz));
            }
        }
        let mut enrichment = self.enricher.enrich(wire.context.take(), req, settings);
        if ts.clamped {
            properties.insert(props::TIMESTAMP_CLAMPED.into(), Value::Bool(true));
        }
        let mut person_set = wire.set.take();
        let mut person_set_once = wire.set_once.take();
        if settings.mask_pii {
            mask_event(&mut properties, &mut enrichment, &mut person_set, &mut person_set_once);
        }

        Ok(Event {
            event_id,
            person_id: person_id_for(project, &distinct_id),
            event,
            distinct_id,
            session_id,
            timestamp: ts.timestamp,
            received_at,
            properties,
            person_set,
            person_set_once,
            link,
            enrichment,
            timestamp_clamped: ts.clamped,
        })
    }
}

fn mask_event(
    properties: &mut Map<String, Value>,
    e: &mut px_core::Enrichment,
    set: &mut Option<Map<String, Value>>,
    set_once: &mut Option<Map<String, Value>>,
) {
    privacy::mask_properties(properties);
    for m in [set, set_once].into_iter().flatten() {
        privacy::mask_properties(m);
    }
    let texts = [
        &mut e.url,
        &mut e.referrer,
        &mut e.title,
        &mut e.path,
        &mut e.utm_source,
        &mut e.utm_medium,
        &mut e.utm_campaign,
        &mut e.utm_term,
        &mut e.utm_content,
    ];
    for s in texts.into_iter().flatten() {
        privacy::mask_url_or_text(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::parse_batch;
    use px_core::time::MICROS_PER_SECOND;

    const NOW: Micros = 1_700_000_000 * MICROS_PER_SECOND;

    fn run(body: &str, settings: &ProjectSettings) -> Processed {
        let p = Pipeline::new(IngestLimits::default(), Enricher::new(None));
        let batch = parse_batch(body.as_bytes(), &p.limits).unwrap();
        let req = RequestInfo { ip: Some("203.0.113.9".parse().unwrap()), user_agent: None };
        p.process(ProjectId(1), settings, &batch, &req, NOW)
    }

    #[test]
    fn mixed_batch_keeps_good_events_and_indexes_bad_ones() {
        let out = run(
            r#"{"events":[{"event":"a","distinct_id":"u"},{"event":"b"},{"event":"c","distinct_id":"u","timestamp":"bad"}, 7]}"#,
            &ProjectSettings::default(),
        );
        assert_eq!(out.events.len(), 1);
        let idx: Vec<usize> = out.rejected.iter().map(|(i, _)| *i).collect();
        assert_eq!(idx, vec![1, 2, 3]);
        assert_eq!(out.rejected[1].1.field, "timestamp");
    }

    #[test]
    fn event_is_enriched_masked_and_anonymized() {
        let out = run(
            r#"{"events":[{"event":"page_view","distinct_id":"u","properties":{"email":"ana@x.com.br"},
              "context":{"page":{"url":"https://a.io/p?utm_source=news&e=bob@y.org"},"campaign":"x"}}]}"#,
            &ProjectSettings::default(),
        );
        let e = &out.events[0];
        assert_eq!(e.properties["email"], "[email]");
        assert_eq!(e.properties["$context_campaign"], "x");
        assert_eq!(e.enrichment.url.as_deref(), Some("https://a.io/p?utm_source=news&e=[email]"));
        assert_eq!(e.enrichment.utm_source.as_deref(), Some("news"));
        assert_eq!(e.enrichment.ip.as_deref(), Some("203.0.113.0"));
        assert_eq!(e.timestamp, NOW);
    }

    #[test]
    fn masking_and_ip_truncation_can_be_turned_off() {
        let settings = ProjectSettings { mask_pii: false, anonymize_ip: false, ..Default::default() };
        let out = run(r#"[{"event":"a","distinct_id":"u","properties":{"email":"ana@x.com"}}]"#, &settings);
        assert_eq!(out.events[0].properties["email"], "ana@x.com");
        assert_eq!(out.events[0].enrichment.ip.as_deref(), Some("203.0.113.9"));
        let settings = ProjectSettings { drop_ip: true, ..Default::default() };
        let out = run(r#"[{"event":"a","distinct_id":"u"}]"#, &settings);
        assert_eq!(out.events[0].enrichment.ip, None);
    }

    #[test]
    fn future_events_are_clamped_and_marked() {
        let out =
            run(r#"[{"event":"a","distinct_id":"u","timestamp":"2099-01-01T00:00:00Z"}]"#, &ProjectSettings::default());
        assert!(out.events[0].timestamp_clamped);
        assert_eq!(out.events[0].properties[props::TIMESTAMP_CLAMPED], true);
        assert_eq!(out.events[0].timestamp, NOW);
    }
}
