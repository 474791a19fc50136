//! The fake org's Pub/Sub API with a tonic client: auth, topics and schemas, change
//! events from REST and Collections writes (Avro payloads, bitmaps naming the right
//! fields, several recordIds per event), flow control, replay, keepalives, gaps and
//! dropped subscriptions.

mod fake_org_common;

use std::time::Duration;

use apache_avro::types::Value as Avro;
use fake_org_common::*;
use orgpool::fake_org::pubsub::proto::pub_sub_client::PubSubClient;
use orgpool::fake_org::pubsub::proto::{
    FetchRequest, FetchResponse, ReplayPreset, SchemaRequest, TopicRequest,
};
use serde_json::json;
use tokio::sync::mpsc;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::{Code, Request, Streaming};

// Subscriptions start at EARLIEST: a seeded org has no events yet, and LATEST would
// race the server reading the first FetchRequest against the test's first write.
struct Sub {
    tx: mpsc::Sender<FetchRequest>,
    rx: Streaming<FetchResponse>,
}

async fn channel(c: &Ctx) -> PubSubClient<Channel> {
    let url = c.org.pubsub_url.clone().expect("pubsub on");
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&c.org.pubsub_cert_pem))
        .domain_name("localhost");
    let ch = Channel::from_shared(url)
        .expect("url")
        .tls_config(tls)
        .expect("tls")
        .connect()
        .await
        .expect("connect");
    PubSubClient::new(ch)
}

fn authed<T>(c: &Ctx, token: &str, msg: T) -> Request<T> {
    let mut r = Request::new(msg);
    let md = r.metadata_mut();
    md.insert("accesstoken", token.parse().expect("token"));
    md.insert("instanceurl", c.org.base_url.parse().expect("url"));
    md.insert("tenantid", c.org.org_id().parse().expect("org"));
    r
}

async fn subscribe(
    c: &Ctx,
    client: &mut PubSubClient<Channel>,
    topic: &str,
    preset: ReplayPreset,
    replay: Vec<u8>,
    n: i32,
) -> Result<Sub, tonic::Status> {
    let (tx, rx) = mpsc::channel(8);
    tx.send(FetchRequest {
        topic_name: topic.into(),
        replay_preset: preset as i32,
        replay_id: replay,
        num_requested: n,
        auth_refresh: String::new(),
    })
    .await
    .expect("send");
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let rx = client
        .subscribe(authed(c, &c.token, stream))
        .await?
        .into_inner();
    Ok(Sub { tx, rx })
}

/// The next response that carries events (keepalives skipped).
async fn next_events(sub: &mut Sub) -> FetchResponse {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let r = sub.rx.message().await.expect("stream").expect("open");
            assert_eq!(r.latest_replay_id.len(), 8);
            if !r.events.is_empty() {
                return r;
            }
        }
    })
    .await
    .expect("events in time")
}

fn decode(schema_json: &str, payload: &[u8]) -> Vec<(String, Avro)> {
    let schema = apache_avro::Schema::parse_str(schema_json).expect("schema");
    match apache_avro::from_avro_datum(&schema, &mut &payload[..], None).expect("decode") {
        Avro::Record(f) => f,
        other => panic!("not a record: {other:?}"),
    }
}

fn header(rec: &[(String, Avro)]) -> Vec<(String, Avro)> {
    match &rec[0].1 {
        Avro::Record(h) => h.clone(),
        other => panic!("header {other:?}"),
    }
}

fn get<'a>(rec: &'a [(String, Avro)], name: &str) -> &'a Avro {
    &rec.iter().find(|(n, _)| n == name).expect(name).1
}

fn strings(v: &Avro) -> Vec<String> {
    match v {
        Avro::Array(items) => items
            .iter()
            .map(|i| match i {
                Avro::String(s) => s.clone(),
                o => panic!("{o:?}"),
            })
            .collect(),
        o => panic!("{o:?}"),
    }
}

/// Field names a bitmap entry names (bit i = top-level schema field i).
fn bitmap_fields(schema_json: &str, bitmap: &str) -> Vec<String> {
    let schema: serde_json::Value = serde_json::from_str(schema_json).expect("json");
    let fields = schema["fields"].as_array().expect("fields");
    let hex = bitmap.strip_prefix("0x").expect("0x");
    assert_eq!(hex, hex.to_uppercase());
    let bits: Vec<bool> = hex
        .chars()
        .rev()
        .flat_map(|c| {
            let n = c.to_digit(16).expect("hex");
            (0..4).map(move |b| n & (1 << b) != 0)
        })
        .collect();
    bits.iter()
        .enumerate()
        .filter(|(_, b)| **b)
        .map(|(i, _)| fields[i]["name"].as_str().expect("name").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_topics_schema_and_rest_events() {
    let c = Ctx::new().await;
    let mut client = channel(&c).await;
    let bad = client
        .get_topic(authed(
            &c,
            "00Dbogus!token",
            TopicRequest {
                topic_name: "/data/AccountChangeEvent".into(),
            },
        ))
        .await
        .expect_err("bad token");
    assert_eq!(bad.code(), Code::Unauthenticated);
    assert!(
        bad.message().contains("authentication exception"),
        "{bad:?}"
    );
    let topic = client
        .get_topic(authed(
            &c,
            &c.token,
            TopicRequest {
                topic_name: "/data/AccountChangeEvent".into(),
            },
        ))
        .await
        .expect("topic")
        .into_inner();
    assert!(topic.can_subscribe);
    let schema = client
        .get_schema(authed(
            &c,
            &c.token,
            SchemaRequest {
                schema_id: topic.schema_id.clone(),
            },
        ))
        .await
        .expect("schema")
        .into_inner();
    assert!(schema.schema_json.contains("ChangeEventHeader"));

    let mut sub = subscribe(
        &c,
        &mut client,
        "/data/AccountChangeEvent",
        ReplayPreset::Earliest,
        Vec::new(),
        10,
    )
    .await
    .expect("subscribe");
    let id = c
        .create(
            "Account",
            json!({"Name": "Pubsub One", "Industry": "Energy"}),
        )
        .await;
    let r = next_events(&mut sub).await;
    let ev = r.events[0].event.as_ref().expect("event");
    assert_eq!(ev.schema_id, topic.schema_id);
    assert_eq!(r.events[0].replay_id.len(), 8);
    let rec = decode(&schema.schema_json, &ev.payload);
    let h = header(&rec);
    assert_eq!(get(&h, "entityName"), &Avro::String("Account".into()));
    assert_eq!(strings(get(&h, "recordIds")), vec![id.clone()]);
    assert_eq!(get(&h, "changeType"), &Avro::Enum(0, "CREATE".into()));
    assert_eq!(
        get(&rec, "Name"),
        &Avro::Union(1, Box::new(Avro::String("Pubsub One".into())))
    );

    // An update names exactly the changed fields in the bitmap; a null one is nulled.
    let resp = c
        .patch(
            &format!("/sobjects/Account/{id}"),
            &json!({"Industry": null, "Phone": "555"}),
        )
        .await;
    assert!(resp.status().is_success());
    let r = next_events(&mut sub).await;
    let rec = decode(
        &schema.schema_json,
        &r.events[0].event.as_ref().unwrap().payload,
    );
    let h = header(&rec);
    assert_eq!(get(&h, "changeType"), &Avro::Enum(1, "UPDATE".into()));
    let changed = strings(get(&h, "changedFields"));
    assert_eq!(changed.len(), 1);
    let mut names = bitmap_fields(&schema.schema_json, &changed[0]);
    names.sort();
    assert_eq!(names, vec!["Industry", "LastModifiedDate", "Phone"]);
    let nulled = strings(get(&h, "nulledFields"));
    assert_eq!(
        bitmap_fields(&schema.schema_json, &nulled[0]),
        vec!["Industry"]
    );
    assert!(strings(get(&h, "diffFields")).is_empty());

    // Collections: one delete of two records is one event with both ids.
    let b = c.create("Account", json!({"Name": "Pubsub Two"})).await;
    let _ = next_events(&mut sub).await;
    let resp = c
        .delete(&format!("/composite/sobjects?ids={id},{b}&allOrNone=true"))
        .await;
    assert!(resp.status().is_success());
    let r = next_events(&mut sub).await;
    let rec = decode(
        &schema.schema_json,
        &r.events[0].event.as_ref().unwrap().payload,
    );
    let h = header(&rec);
    assert_eq!(get(&h, "changeType"), &Avro::Enum(2, "DELETE".into()));
    let mut ids = strings(get(&h, "recordIds"));
    ids.sort();
    let mut want = vec![id, b];
    want.sort();
    assert_eq!(ids, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_control_replay_keepalive_gap_and_drop() {
    let mut cfg = config();
    cfg.pubsub_keepalive = Duration::from_millis(300);
    let c = Ctx::with(cfg).await;
    let mut client = channel(&c).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            c.create("Contact", json!({"LastName": format!("Flow {i}")}))
                .await,
        );
    }
    let mut sub = subscribe(
        &c,
        &mut client,
        "/data/ContactChangeEvent",
        ReplayPreset::Earliest,
        Vec::new(),
        2,
    )
    .await
    .expect("subscribe");
    let r = next_events(&mut sub).await;
    assert_eq!(r.events.len(), 2, "never more than requested");
    assert_eq!(r.pending_num_requested, 0);
    let second = r.events[1].replay_id.clone();
    // No credit: only keepalives, and the position does not move.
    let k = tokio::time::timeout(Duration::from_secs(5), sub.rx.message())
        .await
        .expect("keepalive")
        .expect("ok")
        .expect("open");
    assert!(k.events.is_empty());
    assert_eq!(k.latest_replay_id, second);
    sub.tx
        .send(FetchRequest {
            num_requested: 10,
            ..Default::default()
        })
        .await
        .expect("more");
    let r = next_events(&mut sub).await;
    assert_eq!(r.events.len(), 3, "credit added, position kept");

    // Replay after the second event gives the remaining three.
    let mut again = subscribe(
        &c,
        &mut client,
        "/data/ContactChangeEvent",
        ReplayPreset::Custom,
        second,
        100,
    )
    .await
    .expect("replay");
    assert_eq!(next_events(&mut again).await.events.len(), 3);
    let bad = subscribe(
        &c,
        &mut client,
        "/data/ContactChangeEvent",
        ReplayPreset::Custom,
        vec![0; 8],
        1,
    )
    .await;
    let err = match bad {
        Err(e) => e,
        Ok(mut s) => s.rx.message().await.expect_err("refused"),
    };
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("Replay ID validation failed"));

    // A gap event, then the subscription dropped by the server.
    assert!(
        c.org
            .emit_gap("Contact", "GAP_UPDATE", vec![ids[0].clone()])
    );
    let r = next_events(&mut sub).await;
    let schema = client
        .get_schema(authed(
            &c,
            &c.token,
            SchemaRequest {
                schema_id: r.events[0].event.as_ref().unwrap().schema_id.clone(),
            },
        ))
        .await
        .expect("schema")
        .into_inner();
    let rec = decode(
        &schema.schema_json,
        &r.events[0].event.as_ref().unwrap().payload,
    );
    assert_eq!(
        get(&header(&rec), "changeType"),
        &Avro::Enum(5, "GAP_UPDATE".into())
    );
    c.org.pubsub().bus.drop_subscriptions();
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match sub.rx.message().await {
                Ok(Some(_)) => continue,
                other => return other,
            }
        }
    })
    .await
    .expect("dropped");
    assert_eq!(end.expect_err("error").code(), Code::Unavailable);
}

async fn bulk_job(c: &Ctx, operation: &str, csv: &str) {
    let resp = c
        .post(
            "/jobs/ingest",
            &json!({"object": "Account", "operation": operation, "lineEnding": "LF"}),
        )
        .await;
    let job: serde_json::Value = resp.json().await.expect("job");
    let id = job["id"].as_str().expect("id").to_string();
    let url = job["contentUrl"].as_str().expect("url").to_string();
    let resp = c
        .http
        .put(format!("{}/{url}", c.org.base_url))
        .bearer_auth(&c.token)
        .header("Content-Type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .expect("upload");
    assert!(resp.status().is_success());
    let resp = c
        .patch(
            &format!("/jobs/ingest/{id}"),
            &json!({"state": "UploadComplete"}),
        )
        .await;
    assert!(resp.status().is_success());
    let info = c.wait_job(&format!("/jobs/ingest/{id}")).await;
    assert_eq!(info["state"], "JobComplete", "{info}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_events_share_a_transaction_and_overflow() {
    let c = Ctx::new().await;
    let mut client = channel(&c).await;
    let mut sub = subscribe(
        &c,
        &mut client,
        "/data/ChangeEvents",
        ReplayPreset::Earliest,
        Vec::new(),
        100,
    )
    .await
    .expect("subscribe");
    bulk_job(
        &c,
        "insert",
        "Name,Industry\nBulk A,Energy\nBulk B,Retail\nBulk C,Energy\n",
    )
    .await;
    let mut events = Vec::new();
    while events.len() < 3 {
        events.extend(next_events(&mut sub).await.events);
    }
    let schema_id = events[0].event.as_ref().unwrap().schema_id.clone();
    let schema = client
        .get_schema(authed(&c, &c.token, SchemaRequest { schema_id }))
        .await
        .expect("schema")
        .into_inner();
    let headers: Vec<_> = events
        .iter()
        .map(|e| {
            header(&decode(
                &schema.schema_json,
                &e.event.as_ref().unwrap().payload,
            ))
        })
        .collect();
    let keys: Vec<_> = headers
        .iter()
        .map(|h| get(h, "transactionKey").clone())
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "one transaction");
    let seqs: Vec<_> = headers
        .iter()
        .map(|h| get(h, "sequenceNumber").clone())
        .collect();
    assert_eq!(seqs, vec![Avro::Int(1), Avro::Int(2), Avro::Int(3)]);
    let ids: Vec<String> = headers
        .iter()
        .flat_map(|h| strings(get(h, "recordIds")))
        .collect();

    // Past the overflow threshold the rest of the object's changes are one GAP_OVERFLOW.
    c.org
        .pubsub()
        .bus
        .update_settings(|s| s.overflow_threshold = 2);
    let csv = format!(
        "Id,Industry\n{}\n",
        ids.iter()
            .map(|i| format!("{i},Media"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    bulk_job(&c, "update", &csv).await;
    let mut events = Vec::new();
    while events.len() < 2 {
        events.extend(next_events(&mut sub).await.events);
    }
    let hs: Vec<_> = events
        .iter()
        .map(|e| {
            header(&decode(
                &schema.schema_json,
                &e.event.as_ref().unwrap().payload,
            ))
        })
        .collect();
    assert_eq!(get(&hs[0], "changeType"), &Avro::Enum(1, "UPDATE".into()));
    assert_eq!(
        strings(get(&hs[0], "recordIds")).len(),
        2,
        "one change, two records"
    );
    assert_eq!(
        get(&hs[1], "changeType"),
        &Avro::Enum(8, "GAP_OVERFLOW".into())
    );
}
