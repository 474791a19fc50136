//! Response header names spelt as Salesforce spells them on HTTP/1.1 (`Content-Type`,
//! `Sforce-Locator`, `Sforce-NumberOfRecords`). Some clients look headers up
//! case-sensitively, so lower-case names (the `http` crate's form) break them.
//!
//! hyper's title-case option gives `Content-Type` and `Sforce-Limit-Info`, but would
//! write `Sforce-Numberofrecords`. hyper writes a response's names in the spelling of a
//! header-case map found in its extensions, and the only public way to get such a map
//! is to let hyper parse a request that carries the names (with `preserve_header_case`).
//! So at start we feed hyper one in-memory request with Salesforce's spellings and keep
//! the extensions it produced; every response gets a copy.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// Names whose spelling title case would get wrong, plus the ones clients read most.
/// (Only names whose value `x` is a valid request header: no `Content-Length`.)
const SPELLINGS: &[&str] = &[
    "Content-Type",
    "Sforce-Limit-Info",
    "Sforce-Locator",
    "Sforce-NumberOfRecords",
    "ETag",
];

/// Extensions carrying Salesforce's spellings, to copy into every HTTP/1 response.
/// Empty (title case only) if hyper did not hand the map over.
pub async fn spellings() -> axum::http::Extensions {
    let (mut client, server) = tokio::io::duplex(4096);
    let (tx, rx) = oneshot::channel::<axum::http::Extensions>();
    let tx = Arc::new(Mutex::new(Some(tx)));
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
            let _ = tx.send(req.extensions().clone());
        }
        async { Ok::<_, Infallible>(Response::new(Body::empty())) }
    });
    let conn = tokio::spawn(async move {
        let _ = hyper::server::conn::http1::Builder::new()
            .preserve_header_case(true)
            .serve_connection(TokioIo::new(server), svc)
            .await;
    });
    let mut head = String::from("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for name in SPELLINGS {
        head.push_str(name);
        head.push_str(": x\r\n");
    }
    head.push_str("\r\n");
    let extensions = async {
        client.write_all(head.as_bytes()).await.ok()?;
        let got = rx.await.ok()?;
        let mut sink = Vec::new();
        let _ = client.read_to_end(&mut sink).await;
        Some(got)
    }
    .await;
    conn.abort();
    extensions.unwrap_or_default()
}
