//! One request to PX's batch endpoint and what came of it ([`Outcome`]).
//! Deciding what to do next (retry, split, give up) is the worker's job;
//! this module only builds the body and reads the answer.

use crate::backoff::parse_retry_after;
use crate::{ClientError, Config};
use chrono::{SecondsFormat, Utc};
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde_json::Value;
use std::future::Future;
use std::io::Write;
use std::time::Duration;

/// Longest answer read. PX's largest is a 400 listing every event of a
/// 5000-event batch as rejected, well under this.
const MAX_ANSWER_BYTES: usize = 4 << 20;

/// What one request achieved.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// 2xx: the batch is durable in PX, apart from the events it rejected.
    Stored(Answer),
    /// A network error, timeout, 408, 429 or 5xx: the same request may
    /// succeed later; `after` is the server's `Retry-After`.
    Retry { after: Option<Duration>, cause: String },
    /// 413: the request is over one of PX's size or count limits.
    TooLarge,
    /// Any other status: the same request would fail again. `rejected` is
    /// filled when PX refused the batch because no event in it was valid.
    Refused { status: u16, message: String, rejected: Vec<Rejection> },
}

/// PX's `200 {"accepted", "duplicates", "rejected"}`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Answer {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<Rejection>,
}

/// One event PX refused, by its index in the request.
#[derive(Debug, PartialEq)]
pub(crate) struct Rejection {
    pub index: u64,
    pub code: String,
    pub field: String,
    pub message: String,
}

/// Sends one batch. A trait so the worker's delivery rules are unit-tested
/// against scripted outcomes; [`HttpTransport`] is the real one.
pub(crate) trait Transport: Send + Sync + 'static {
    /// `events` are JSON objects in PX's wire format.
    fn send(&self, events: &[String]) -> impl Future<Output = Outcome> + Send;
}

pub(crate) struct HttpTransport {
    http: reqwest::Client,
    url: Url,
    auth: HeaderValue,
    gzip: bool,
}

impl HttpTransport {
    pub fn new(config: &Config, url: Url) -> Result<Self, ClientError> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.api_key))
            .map_err(|_| ClientError::InvalidConfig(vec!["api_key must be printable ASCII".into()]))?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("px-rust/", env!("CARGO_PKG_VERSION")))
            // A redirect would turn the POST into a GET and lose the body;
            // a misconfigured host should fail loudly instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http, url, auth, gzip: config.gzip })
    }
}

impl Transport for HttpTransport {
    async fn send(&self, events: &[String]) -> Outcome {
        let body = batch_body(events);
        let mut request = self
            .http
            .post(self.url.clone())
            .header(AUTHORIZATION, self.auth.clone())
            .header(CONTENT_TYPE, "application/json");
        request = match self.gzip.then(|| gzip(&body)) {
            Some(Ok(compressed)) => request.header(CONTENT_ENCODING, "gzip").body(compressed),
            // Gzip into memory cannot fail in practice; plain JSON is
            // accepted all the same.
            Some(Err(_)) | None => request.body(body),
        };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Outcome::Retry { after: None, cause: px_core::error::chain(&e) },
        };
        let status = response.status();
        let after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        let answer = read_capped(response).await;
        classify(status, after, answer, events.len())
    }
}

/// `{"events": [...], "sent_at": now}`. Built per attempt: `sent_at` is when
/// this request left, which PX compares with its own clock to correct the
/// events' timestamps for this machine's clock skew.
fn batch_body(events: &[String]) -> Vec<u8> {
    let size = events.iter().map(|e| e.len() + 1).sum::<usize>() + 64;
    let mut body = String::with_capacity(size);
    body.push_str("{\"events\":[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(e);
    }
    body.push_str("],\"sent_at\":\"");
    body.push_str(&Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true));
    body.push_str("\"}");
    body.into_bytes()
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 4), flate2::Compression::default());
    enc.write_all(data)?;
    enc.finish()
}

/// The answer's bytes, up to [`MAX_ANSWER_BYTES`].
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| px_core::error::chain(&e))? {
        if out.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!("answer longer than {MAX_ANSWER_BYTES} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The outcome of a request of `n` events that got `status`.
fn classify(status: StatusCode, after: Option<Duration>, answer: Result<Vec<u8>, String>, n: usize) -> Outcome {
    let json: Value = answer.as_deref().ok().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null);
    if status.is_success() {
        if json.is_null() {
            // The status says PX committed the batch; only the details were lost.
            tracing::warn!(%status, "px answer unreadable; counting the batch as stored");
            return Outcome::Stored(Answer { accepted: n as u64, ..Answer::default() });
        }
        let count = |k: &str| json[k].as_u64().unwrap_or(0);
        return Outcome::Stored(Answer {
            accepted: count("accepted"),
            duplicates: count("duplicates"),
            rejected: rejections(&json),
        });
    }
    let message = json["error"]["message"].as_str().map(str::to_string).unwrap_or_else(|| match &answer {
        Ok(bytes) => String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
        Err(e) => e.clone(),
    });
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => Outcome::TooLarge,
        StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS => {
            Outcome::Retry { after, cause: format!("{status}: {message}") }
        }
        s if s.is_server_error() => Outcome::Retry { after, cause: format!("{status}: {message}") },
        _ => Outcome::Refused { status: status.as_u16(), message, rejected: rejections(&json) },
    }
}

fn rejections(json: &Value) -> Vec<Rejection> {
    let text = |r: &Value, k: &str| r[k].as_str().unwrap_or_default().to_string();
    json["rejected"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| Rejection {
            index: r["index"].as_u64().unwrap_or_default(),
            code: text(r, "code"),
            field: text(r, "field"),
            message: text(r, "message"),
        })
        .collect()
}

/// A transport answering from a function, for the worker's and client's
/// unit tests.
#[cfg(test)]
pub(crate) struct FnTransport<F>(pub F);

#[cfg(test)]
impl<F: Fn(&[String]) -> Outcome + Send + Sync + 'static> Transport for FnTransport<F> {
    async fn send(&self, events: &[String]) -> Outcome {
        (self.0)(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(status: u16, body: &str) -> Outcome {
        classify(StatusCode::from_u16(status).unwrap(), Some(Duration::from_secs(3)), Ok(body.into()), 5)
    }

    #[test]
    fn a_stored_batch_reports_its_counts_and_rejections() {
        let body = r#"{"accepted":3,"duplicates":1,"rejected":[{"index":4,"code":"missing_field","field":"event","message":"event name is required"}]}"#;
        let Outcome::Stored(a) = of(200, body) else { panic!() };
        assert_eq!((a.accepted, a.duplicates), (3, 1));
        assert_eq!(
            a.rejected,
            [Rejection {
                index: 4,
                code: "missing_field".into(),
                field: "event".into(),
                message: "event name is required".into()
            }]
        );
        let Outcome::Stored(a) = of(200, "<html>proxy</html>") else { panic!() };
        assert_eq!(a, Answer { accepted: 5, ..Answer::default() }, "a 2xx is stored even if its body is not PX's");
    }

    #[test]
    fn transient_statuses_are_retried_after_the_servers_delay() {
        for status in [408, 429, 500, 502, 503] {
            assert!(
                matches!(of(status, "{}"), Outcome::Retry { after: Some(d), .. } if d == Duration::from_secs(3)),
                "{status}"
            );
        }
        let body = r#"{"error":{"code":"rate_limited","message":"project is over its plan's event rate"}}"#;
        let Outcome::Retry { cause, .. } = of(429, body) else { panic!() };
        assert!(cause.contains("over its plan"), "{cause}");
    }

    #[test]
    fn other_client_errors_are_final() {
        assert!(matches!(of(413, "{}"), Outcome::TooLarge));
        let Outcome::Refused { status, message, rejected } = of(401, r#"{"error":{"message":"unknown key"}}"#) else {
            panic!()
        };
        assert_eq!((status, message.as_str(), rejected.len()), (401, "unknown key", 0));
        let body = r#"{"error":{"message":"no valid event"},"rejected":[{"index":0},{"index":1}]}"#;
        assert!(matches!(of(400, body), Outcome::Refused { rejected, .. } if rejected.len() == 2));
        assert!(matches!(of(302, ""), Outcome::Refused { status: 302, .. }), "redirects are not followed");
    }

    #[test]
    fn the_body_is_a_batch_with_sent_at_and_gzips() {
        let body = batch_body(&[r#"{"event":"a"}"#.into(), r#"{"event":"b"}"#.into()]);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["events"][1]["event"], "b");
        assert!(chrono::DateTime::parse_from_rfc3339(v["sent_at"].as_str().unwrap()).is_ok());
        let z = gzip(&body).unwrap();
        let mut out = Vec::new();
        #[allow(clippy::disallowed_methods)] // our own small test body
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&z[..]), &mut out).unwrap();
        assert_eq!(out, body);
    }
}
