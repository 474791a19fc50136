//! The fake org's Pub/Sub API with a tonic client: auth, topics and schemas, change
//! events from REST and Collections writes (Avro payloads, bitmaps naming the right
//! fields, several recordIds per event), flow control, replay, keepalives, gaps and
//! dropped subscriptions; `changeOrigin` on every write path (REST, Collections, Bulk
//! 2.0 and 1.0, SOAP undelete; empty for admin and churn) and UNDELETE events; compound
//! fields (addresses, a contact's `Name`) as nested records with `<i>-0x…` bitmaps.

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

/// The schema JSON of `topic`'s events.
async fn schema_of(c: &Ctx, client: &mut PubSubClient<Channel>, topic: &str) -> String {
    let topic = client
        .get_topic(authed(
            c,
            &c.token,
            TopicRequest {
                topic_name: topic.into(),
            },
        ))
        .await
        .expect("topic")
        .into_inner();
    client
        .get_schema(authed(
            c,
            &c.token,
            SchemaRequest {
                schema_id: topic.schema_id,
            },
        ))
        .await
        .expect("schema")
        .into_inner()
        .schema_json
}

/// Top-level position of field `name` in the schema (0 is the header).
fn position(schema_json: &str, name: &str) -> usize {
    let schema: serde_json::Value = serde_json::from_str(schema_json).expect("json");
    schema["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .position(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {schema_json}"))
}

/// The parts of a nested record value, by name.
fn parts(v: &Avro) -> Vec<(String, Avro)> {
    match v {
        Avro::Union(1, inner) => match inner.as_ref() {
            Avro::Record(p) => p.clone(),
            o => panic!("not a record: {o:?}"),
        },
        o => panic!("not a present record: {o:?}"),
    }
}

fn text(v: &str) -> Avro {
    Avro::Union(1, Box::new(Avro::String(v.into())))
}

fn null() -> Avro {
    Avro::Union(0, Box::new(Avro::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compound_fields_are_nested_records_with_part_bitmaps() {
    let c = Ctx::new().await;
    let mut client = channel(&c).await;

    // The schema: one top-level field per compound, a record of prefix-less parts.
    let account = schema_of(&c, &mut client, "/data/AccountChangeEvent").await;
    let js: serde_json::Value = serde_json::from_str(&account).expect("json");
    let top: Vec<&str> = js["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for flat in [
        "BillingCity",
        "BillingStreet",
        "ShippingCity",
        "BillingLatitude",
    ] {
        assert!(
            !top.contains(&flat),
            "{flat} is nested, not top-level: {top:?}"
        );
    }
    let billing = position(&account, "BillingAddress");
    assert_eq!(position(&account, "ShippingAddress"), billing + 1);
    let record = &js["fields"][billing]["type"];
    assert_eq!(record[0], "null");
    assert_eq!(record[1]["type"], "record");
    assert_eq!(record[1]["name"], "Address");
    let part_names: Vec<&str> = record[1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        part_names,
        [
            "Street",
            "City",
            "State",
            "PostalCode",
            "Country",
            "StateCode",
            "CountryCode",
            "Latitude",
            "Longitude",
            "GeocodeAccuracy"
        ]
    );
    assert_eq!(record[1]["fields"][1]["type"], json!(["null", "string"]));
    assert_eq!(record[1]["fields"][7]["type"], json!(["null", "double"]));
    // Avro defines a named type once: the second address names it.
    assert_eq!(
        js["fields"][billing + 1]["type"],
        json!(["null", "Address"])
    );

    let contact = schema_of(&c, &mut client, "/data/ContactChangeEvent").await;
    let cj: serde_json::Value = serde_json::from_str(&contact).expect("json");
    let name = &cj["fields"][position(&contact, "Name")]["type"][1];
    assert_eq!(name["name"], "Name");
    let name_parts: Vec<&str> = name["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(name_parts, ["Salutation", "FirstName", "LastName"]);
    for flat in ["FirstName", "LastName", "Salutation", "MailingCity"] {
        assert!(
            cj["fields"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["name"] != flat),
            "{flat} is nested, not top-level"
        );
    }
    position(&contact, "MailingAddress");

    // CREATE: the parts with values inside the record; an empty address is null.
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
            json!({"Name": "Nested", "BillingStreet": "1 Main St", "BillingCity": "Lyon"}),
        )
        .await;
    let r = next_events(&mut sub).await;
    let rec = decode(&account, &r.events[0].event.as_ref().unwrap().payload);
    let b = parts(get(&rec, "BillingAddress"));
    assert_eq!(b[0], ("Street".to_string(), text("1 Main St")));
    assert_eq!(b[1], ("City".to_string(), text("Lyon")));
    assert_eq!(b[2], ("State".to_string(), null()));
    assert_eq!(get(&rec, "ShippingAddress"), &null());
    assert!(strings(get(&header(&rec), "changedFields")).is_empty());

    // UPDATE of one part: the compound's top-level bit, and `<i>-0x2` for City.
    let resp = c
        .patch(
            &format!("/sobjects/Account/{id}"),
            &json!({"BillingCity": "Paris"}),
        )
        .await;
    assert!(resp.status().is_success());
    let r = next_events(&mut sub).await;
    let rec = decode(&account, &r.events[0].event.as_ref().unwrap().payload);
    let h = header(&rec);
    let changed = strings(get(&h, "changedFields"));
    assert_eq!(changed.len(), 2, "{changed:?}");
    let mut names = bitmap_fields(&account, &changed[0]);
    names.sort();
    assert_eq!(names, ["BillingAddress", "LastModifiedDate"]);
    assert_eq!(changed[1], format!("{billing}-0x2"));
    assert!(strings(get(&h, "nulledFields")).is_empty());
    let b = parts(get(&rec, "BillingAddress"));
    assert_eq!(b[1], ("City".to_string(), text("Paris")));
    assert_eq!(
        b[0],
        ("Street".to_string(), null()),
        "unchanged parts are null"
    );

    // Nulling a part: the record is there, the part null, both lists name it.
    let resp = c
        .patch(
            &format!("/sobjects/Account/{id}"),
            &json!({"BillingStreet": null}),
        )
        .await;
    assert!(resp.status().is_success());
    let r = next_events(&mut sub).await;
    let rec = decode(&account, &r.events[0].event.as_ref().unwrap().payload);
    let h = header(&rec);
    let nulled = strings(get(&h, "nulledFields"));
    assert_eq!(bitmap_fields(&account, &nulled[0]), ["BillingAddress"]);
    assert_eq!(&nulled[1..], [format!("{billing}-0x1")]);
    assert_eq!(
        strings(get(&h, "changedFields"))[1],
        format!("{billing}-0x1")
    );
    assert!(
        parts(get(&rec, "BillingAddress"))
            .iter()
            .all(|(_, v)| *v == null())
    );

    // A contact's Name: FirstName is part 1 of the Name record.
    let cid = c
        .create(
            "Contact",
            json!({"FirstName": "Ada", "LastName": "Lovelace"}),
        )
        .await;
    let resp = c
        .patch(
            &format!("/sobjects/Contact/{cid}"),
            &json!({"FirstName": "Augusta"}),
        )
        .await;
    assert!(resp.status().is_success());
    let mut csub = subscribe(
        &c,
        &mut client,
        "/data/ContactChangeEvent",
        ReplayPreset::Earliest,
        Vec::new(),
        10,
    )
    .await
    .expect("subscribe");
    let mut events = Vec::new();
    while events.len() < 2 {
        events.extend(next_events(&mut csub).await.events);
    }
    let created = decode(&contact, &events[0].event.as_ref().unwrap().payload);
    let n = parts(get(&created, "Name"));
    assert_eq!(
        n,
        [
            ("Salutation".to_string(), null()),
            ("FirstName".to_string(), text("Ada")),
            ("LastName".to_string(), text("Lovelace")),
        ]
    );
    let updated = decode(&contact, &events[1].event.as_ref().unwrap().payload);
    let changed = strings(get(&header(&updated), "changedFields"));
    assert_eq!(changed[1], format!("{}-0x2", position(&contact, "Name")));
    assert_eq!(parts(get(&updated, "Name"))[1].1, text("Augusta"));
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

/// The client id the origin tests name.
const NAMED: &str = "orgpool-origin-test/2";

/// Decodes events of any object, fetching each schema once.
struct Decoder {
    pending: std::collections::VecDeque<orgpool::fake_org::pubsub::proto::ConsumerEvent>,
    schemas: std::collections::HashMap<String, String>,
}

impl Decoder {
    fn new() -> Decoder {
        Decoder {
            pending: Default::default(),
            schemas: Default::default(),
        }
    }

    /// The next event's decoded record.
    async fn next(
        &mut self,
        c: &Ctx,
        client: &mut PubSubClient<Channel>,
        sub: &mut Sub,
    ) -> Vec<(String, Avro)> {
        if self.pending.is_empty() {
            self.pending.extend(next_events(sub).await.events);
        }
        let ev = self
            .pending
            .pop_front()
            .and_then(|e| e.event)
            .expect("event");
        if !self.schemas.contains_key(&ev.schema_id) {
            let s = client
                .get_schema(authed(
                    c,
                    &c.token,
                    SchemaRequest {
                        schema_id: ev.schema_id.clone(),
                    },
                ))
                .await
                .expect("schema")
                .into_inner();
            self.schemas.insert(ev.schema_id.clone(), s.schema_json);
        }
        decode(&self.schemas[&ev.schema_id], &ev.payload)
    }

    /// `(changeType, changeOrigin, recordIds)` of the next event.
    async fn head(
        &mut self,
        c: &Ctx,
        client: &mut PubSubClient<Channel>,
        sub: &mut Sub,
    ) -> (String, String, Vec<String>) {
        let h = header(&self.next(c, client, sub).await);
        let kind = match get(&h, "changeType") {
            Avro::Enum(_, s) => s.clone(),
            o => panic!("{o:?}"),
        };
        let origin = match get(&h, "changeOrigin") {
            Avro::String(s) => s.clone(),
            o => panic!("{o:?}"),
        };
        (kind, origin, strings(get(&h, "recordIds")))
    }
}

fn origin(api: &str, named: bool) -> String {
    if named {
        format!("com/salesforce/api/{api}/62.0;client={NAMED}")
    } else {
        format!("com/salesforce/api/{api}/62.0")
    }
}

/// A REST call with `Sforce-Call-Options: client=NAMED`.
async fn named(
    c: &Ctx,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let resp = c
        .req(method, path)
        .header(
            "Sforce-Call-Options",
            format!("client={NAMED}, defaultNamespace=battle"),
        )
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_origin_names_the_api_and_the_client_on_every_write_path() {
    use reqwest::Method;
    let c = Ctx::with(orgpool::fake_org::FakeOrgConfig {
        admin: true,
        ..config()
    })
    .await;
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
    let mut d = Decoder::new();
    let opp = c.any_id("Opportunity").await;

    // REST sObjects: create, update, upsert by external Id named; a delete unnamed.
    let a = named(
        &c,
        Method::POST,
        "/sobjects/Account",
        json!({"Name": "Origin A"}),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(
        d.head(&c, &mut client, &mut sub).await,
        ("CREATE".into(), origin("rest", true), vec![a.clone()])
    );
    named(
        &c,
        Method::PATCH,
        &format!("/sobjects/Account/{a}"),
        json!({"Phone": "1"}),
    )
    .await;
    assert_eq!(
        d.head(&c, &mut client, &mut sub).await.1,
        origin("rest", true)
    );
    let q = named(
        &c,
        Method::PATCH,
        "/sobjects/Quote/Orgpool_Key__c/ORIGIN-1",
        json!({"Name": "Origin Quote", "OpportunityId": opp}),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(
        d.head(&c, &mut client, &mut sub).await,
        ("CREATE".into(), origin("rest", true), vec![q.clone()])
    );
    assert!(
        c.delete(&format!("/sobjects/Account/{a}"))
            .await
            .status()
            .is_success()
    );
    assert_eq!(
        d.head(&c, &mut client, &mut sub).await,
        ("DELETE".into(), origin("rest", false), vec![a.clone()])
    );

    // sObject Collections: create (two equal records: one event), update, upsert, delete.
    let rec = json!({"attributes": {"type": "Account"}, "Name": "Origin Twin"});
    let out = named(
        &c,
        Method::POST,
        "/composite/sobjects",
        json!({"records": [rec, rec]}),
    )
    .await;
    let twins: Vec<String> = out
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(
        d.head(&c, &mut client, &mut sub).await,
        ("CREATE".into(), origin("rest", true), twins.clone())
    );
    let upd =
        json!({"records": [{"attributes": {"type": "Account"}, "id": twins[0], "Phone": "2"}]});
    named(&c, Method::PATCH, "/composite/sobjects", upd).await;
    assert_eq!(
        d.head(&c, &mut client, &mut sub).await,
        (
            "UPDATE".into(),
            origin("rest", true),
            vec![twins[0].clone()]
        )
    );
    let ups = json!({"records": [{"attributes": {"type": "Quote"}, "Orgpool_Key__c": "ORIGIN-1", "Name": "Renamed"}]});
    named(
        &c,
        Method::PATCH,
        "/composite/sobjects/Quote/Orgpool_Key__c",
        ups,
    )
    .await;
    assert_eq!(
        d.head(&c, &mut client, &mut sub).await,
        ("UPDATE".into(), origin("rest", true), vec![q.clone()])
    );
    let path = format!("/composite/sobjects?ids={}", twins[1]);
    named(&c, Method::DELETE, &path, json!({})).await;
    assert_eq!(
        d.head(&c, &mut client, &mut sub).await,
        (
            "DELETE".into(),
            origin("rest", true),
            vec![twins[1].clone()]
        )
    );

    // Bulk 2.0 ingest: the client named on job creation, not on the upload.
    let job = named(
        &c,
        Method::POST,
        "/jobs/ingest",
        json!({"object": "Account", "operation": "insert", "lineEnding": "LF"}),
    )
    .await;
    let resp = c
        .http
        .put(format!(
            "{}/{}",
            c.org.base_url,
            job["contentUrl"].as_str().expect("url")
        ))
        .bearer_auth(&c.token)
        .header("Content-Type", "text/csv")
        .body("Name\nOrigin Bulk Two\n")
        .send()
        .await
        .expect("upload");
    assert!(resp.status().is_success());
    let done = c
        .patch(
            &format!("/jobs/ingest/{}", job["id"].as_str().expect("id")),
            &json!({"state": "UploadComplete"}),
        )
        .await;
    assert!(done.status().is_success());
    let (kind, o, _) = d.head(&c, &mut client, &mut sub).await;
    assert_eq!((kind.as_str(), o), ("CREATE", origin("bulkapi", true)));

    // Bulk 1.0: the client named on job creation.
    let async_url = |p: &str| format!("{}/services/async/62.0{p}", c.org.base_url);
    let resp = c
        .http
        .post(async_url("/job"))
        .header("X-SFDC-Session", &c.token)
        .header("Sforce-Call-Options", format!("client={NAMED}"))
        .json(&json!({"operation": "insert", "object": "Account", "contentType": "JSON"}))
        .send()
        .await
        .expect("job");
    let job: serde_json::Value = resp.json().await.expect("jobInfo");
    let resp = c
        .http
        .post(async_url(&format!(
            "/job/{}/batch",
            job["id"].as_str().expect("id")
        )))
        .header("X-SFDC-Session", &c.token)
        .json(&json!([{"Name": "Origin Bulk One"}]))
        .send()
        .await
        .expect("batch");
    assert!(resp.status().is_success());
    let (kind, o, _) = d.head(&c, &mut client, &mut sub).await;
    assert_eq!((kind.as_str(), o), ("CREATE", origin("bulkapi", true)));

    // SOAP undelete, named in CallOptions; the admin undelete names no API.
    let envelope = format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Header><urn:SessionHeader><urn:sessionId>{}</urn:sessionId></urn:SessionHeader><urn:CallOptions><urn:client>{NAMED}</urn:client></urn:CallOptions></soapenv:Header><soapenv:Body><urn:undelete><urn:ids>{a}</urn:ids></urn:undelete></soapenv:Body></soapenv:Envelope>"#,
        c.token
    );
    let resp = c
        .http
        .post(format!(
            "{}/services/Soap/u/62.0/{}",
            c.org.base_url,
            c.org.org_id()
        ))
        .header("Content-Type", "text/xml")
        .header("SOAPAction", "undelete")
        .body(envelope)
        .send()
        .await
        .expect("soap");
    let body = resp.text().await.expect("body");
    assert!(body.contains("<success>true</success>"), "{body}");
    let rec = d.next(&c, &mut client, &mut sub).await;
    let h = header(&rec);
    assert_eq!(get(&h, "changeType"), &Avro::Enum(3, "UNDELETE".into()));
    assert_eq!(get(&h, "changeOrigin"), &Avro::String(origin("soap", true)));
    assert_eq!(strings(get(&h, "recordIds")), vec![a.clone()]);
    assert!(strings(get(&h, "changedFields")).is_empty());
    // Every non-null field, as CREATE carries them.
    assert_eq!(
        get(&rec, "Name"),
        &Avro::Union(1, Box::new(Avro::String("Origin A".into())))
    );
    assert_eq!(
        get(&rec, "Phone"),
        &Avro::Union(1, Box::new(Avro::String("1".into())))
    );
    assert!(matches!(get(&rec, "CreatedDate"), Avro::Union(1, _)));

    let resp = c
        .http
        .post(format!("{}/__admin/undelete", c.org.base_url))
        .json(&json!({"ids": [twins[1], a]}))
        .send()
        .await
        .expect("admin undelete");
    let out: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(
        out[0],
        json!({"id": twins[1], "success": true, "errors": []})
    );
    assert_eq!(out[1]["success"], false);
    assert_eq!(
        out[1]["errors"][0]["statusCode"], "UNDELETE_FAILED",
        "{out}"
    );
    assert_eq!(
        d.head(&c, &mut client, &mut sub).await,
        ("UNDELETE".into(), String::new(), vec![twins[1].clone()])
    );

    // Churn names no API either.
    c.org.set_churn(vec![
        orgpool::fake_org::ChurnSpec::parse("Account:inserts=20").expect("spec"),
    ]);
    let (kind, o, _) = d.head(&c, &mut client, &mut sub).await;
    c.org.set_churn(Vec::new());
    assert_eq!((kind.as_str(), o.as_str()), ("CREATE", ""));
}
