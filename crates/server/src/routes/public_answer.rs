//! Public answers as sent: body, strong ETag and a gzip copy, made once per
//! data generation so a repeat read by thousands of visitors costs a map
//! lookup, not a computation, a hash and a compression.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

pub(crate) struct Answer {
    etag: HeaderValue,
    content_type: &'static str,
    /// A page's own policy (the report pages link their stylesheet).
    csp: Option<HeaderValue>,
    body: Bytes,
    /// `None` for an answer sent once, or when compressing did not make it smaller.
    gzip: Option<Bytes>,
}

impl Answer {
    /// An answer to keep: compressed once here, served many times.
    pub(crate) fn new(body: String, content_type: &'static str) -> Self {
        let mut answer = Self::plain(body, content_type);
        answer.gzip = gzip(&answer.body).filter(|z| z.len() < answer.body.len());
        answer
    }

    /// An answer sent once: left to the server's compression layer, which
    /// compresses only for clients that ask.
    pub(crate) fn plain(body: String, content_type: &'static str) -> Self {
        use std::fmt::Write as _;
        let digest = Sha256::digest(body.as_bytes());
        let etag = digest.iter().take(12).fold(String::from("\""), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        }) + "\"";
        Self {
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\"")),
            content_type,
            csp: None,
            body: Bytes::from(body),
            gzip: None,
        }
    }

    pub(crate) fn with_csp(mut self, csp: HeaderValue) -> Self {
        self.csp = Some(csp);
        self
    }

    /// 304 when the client has it; gzip when the client takes it; open CORS
    /// for GET.
    pub(crate) fn respond(&self, headers: &HeaderMap) -> Response {
        let etag = self.etag.to_str().unwrap_or_default();
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|t| t.trim().trim_start_matches("W/") == etag)
            });
        let gzip = self.gzip.as_ref().filter(|_| accepts_gzip(headers));
        let mut r = if fresh {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            gzip.unwrap_or(&self.body).clone().into_response()
        };
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if gzip.is_some() && !fresh {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        h.insert(header::ETAG, self.etag.clone());
        if let Some(csp) = &self.csp {
            h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
        }
        r
    }
}

fn gzip(body: &[u8]) -> Option<Bytes> {
    let mut z = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    z.write_all(body).ok()?;
    z.finish().ok().map(Bytes::from)
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// Answers by request (layer, month, parameters) with the data generation
/// they were made at.
#[derive(Default)]
pub(crate) struct Answers {
    entries: Mutex<HashMap<String, (u64, Arc<Answer>)>>,
}

/// Distinct requests kept; any more and the oldest generation of answers
/// is dropped wholesale. A few hundred covers every layer, month and zoom
/// the embed asks for, and bounds memory against made-up bbox values.
const MAX_ANSWERS: usize = 512;

impl Answers {
    pub(crate) fn get(&self, key: &str, generation: u64) -> Option<Arc<Answer>> {
        let map = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(key)
            .filter(|(g, _)| *g == generation)
            .map(|(_, a)| Arc::clone(a))
    }

    pub(crate) fn keep(&self, key: String, generation: u64, answer: Arc<Answer>) {
        let mut map = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_ANSWERS && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(key, (generation, answer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &'static str, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn gzip_only_for_clients_that_take_it() {
        let a = Answer::new("{\"a\":1}".repeat(200), "application/geo+json");
        let plain = a.respond(&HeaderMap::new());
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        let z = a.respond(&with("accept-encoding", "br, gzip;q=0.8"));
        assert_eq!(z.headers()[header::CONTENT_ENCODING], "gzip");
        let refused = a.respond(&with("accept-encoding", "gzip;q=0"));
        assert!(refused.headers().get(header::CONTENT_ENCODING).is_none());
    }

    #[test]
    fn a_known_etag_is_not_modified() {
        let a = Answer::new("{}".into(), "application/json");
        let etag = a.respond(&HeaderMap::new()).headers()[header::ETAG].clone();
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(a.respond(&h).status(), StatusCode::NOT_MODIFIED);
    }

    #[test]
    fn an_answer_of_an_older_generation_is_not_served() {
        let answers = Answers::default();
        answers.keep(
            "k".into(),
            1,
            Arc::new(Answer::new("{}".into(), "application/json")),
        );
        assert!(answers.get("k", 1).is_some());
        assert!(answers.get("k", 2).is_none());
        for i in 0..=MAX_ANSWERS {
            answers.keep(
                format!("k{i}"),
                1,
                Arc::new(Answer::new("{}".into(), "application/json")),
            );
        }
        assert!(answers.entries.lock().unwrap().len() <= MAX_ANSWERS);
    }
}
