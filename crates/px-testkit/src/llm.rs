//! A fake OpenAI-compatible LLM: a real HTTP server on a free loopback port
//! serving `POST /v1/chat/completions` with a reply the test chooses, and
//! recording every request it got. Tests of the LLM recommendations talk to
//! it over real HTTP, so the client's timeouts, status handling and body
//! parsing are the ones production runs; no test reaches the internet.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, PoisonError};

/// What the fake answers to every request until told otherwise.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A chat completion whose `choices[0].message.content` is this text.
    Content(String),
    /// A chat completion with `message.refusal` set and no content.
    Refusal(String),
    /// This status with an OpenAI-style error body.
    Status(u16),
    /// Never answers: the request hangs until the client gives up.
    Hang,
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct Shared {
    reply: Mutex<Option<Reply>>,
    requests: Mutex<Vec<Request>>,
}

/// The running fake; the server task stops when it is dropped.
pub struct FakeLlm {
    /// The base URL to configure (`http://127.0.0.1:PORT/v1`).
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeLlm {
    /// Starts the fake on 127.0.0.1 and a free port, answering `reply`.
    pub async fn start(reply: Reply) -> FakeLlm {
        let shared = Arc::new(Shared { reply: Mutex::new(Some(reply)), requests: Mutex::default() });
        let app = Router::new().route("/v1/chat/completions", post(complete)).with_state(Arc::clone(&shared));
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("binding the fake llm: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("the fake llm's address: {e}"),
        };
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeLlm { url: format!("http://{addr}/v1"), shared, task }
    }

    /// Answers `reply` from now on.
    pub fn set_reply(&self, reply: Reply) {
        *self.shared.reply.lock().unwrap_or_else(PoisonError::into_inner) = Some(reply);
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A chat completion of `model` with `message` as its only choice.
pub fn completion(model: &str, message: Value) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    })
}

async fn complete(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let model = body["model"].as_str().unwrap_or("fake").to_string();
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    shared.requests.lock().unwrap_or_else(PoisonError::into_inner).push(Request { authorization, body });
    let reply = shared.reply.lock().unwrap_or_else(PoisonError::into_inner).clone();
    match reply {
        Some(Reply::Content(text)) => {
            axum::Json(completion(&model, json!({"role": "assistant", "content": text}))).into_response()
        }
        Some(Reply::Refusal(text)) => {
            axum::Json(completion(&model, json!({"role": "assistant", "content": null, "refusal": text})))
                .into_response()
        }
        Some(Reply::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, axum::Json(json!({"error": {"message": "fake failure", "type": "server_error"}}))).into_response()
        }
        Some(Reply::Hang) | None => std::future::pending().await,
    }
}
