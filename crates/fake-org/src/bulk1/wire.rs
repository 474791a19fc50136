//! Bulk 1.0 bodies: an ordered list of fields rendered as an XML element in the
//! `asyncapi/dataload` namespace (written with quick-xml) or as a JSON object, which
//! format the job's `contentType` (or the request's `Content-Type`) selects.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Map, Value as Json};

/// The Bulk 1.0 XML namespace.
pub const NS: &str = "http://www.force.com/2009/06/asyncapi/dataload";

/// How request and response bodies are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// XML in [`NS`].
    Xml,
    /// JSON.
    Json,
}

impl Format {
    /// JSON when the request says `Content-Type: application/json`, else XML.
    pub fn of_request(headers: &HeaderMap) -> Format {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ct.to_ascii_lowercase().contains("json") {
            Format::Json
        } else {
            Format::Xml
        }
    }
}

/// A field value.
#[derive(Debug, Clone)]
pub enum Val {
    /// Text.
    S(String),
    /// An integer.
    N(u64),
    /// A decimal written with one fraction digit (`apiVersion`).
    F(f64),
}

/// Fields in document order.
pub type Fields = Vec<(&'static str, Val)>;

fn to_json(fields: &Fields) -> Json {
    let mut m = Map::new();
    for (k, v) in fields {
        m.insert((*k).to_string(), val_json(v));
    }
    Json::Object(m)
}

fn val_json(v: &Val) -> Json {
    match v {
        Val::S(s) => Json::String(s.clone()),
        Val::N(n) => Json::from(*n),
        Val::F(f) => Json::from(*f),
    }
}

type W = Writer<Vec<u8>>;

fn write_fields(w: &mut W, fields: &Fields) -> std::io::Result<()> {
    for (k, v) in fields {
        let text = match v {
            Val::S(s) => s.clone(),
            Val::N(n) => n.to_string(),
            Val::F(f) => format!("{f:.1}"),
        };
        w.create_element(*k)
            .write_text_content(BytesText::new(&text))?;
    }
    Ok(())
}

/// `<root xmlns=NS>children</root>` with the XML declaration.
pub fn xml_doc(root: &str, children: impl FnOnce(&mut W) -> std::io::Result<()>) -> String {
    let mut w = Writer::new(Vec::new());
    let run = |w: &mut W| -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.write_event(Event::Start(
            BytesStart::new(root).with_attributes([("xmlns", NS)]),
        ))?;
        children(w)?;
        w.write_event(Event::End(BytesEnd::new(root)))?;
        Ok(())
    };
    // Writing into a Vec cannot fail.
    let _ = run(&mut w);
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

/// A response with the body and its content type.
pub fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// One element (`jobInfo`, `batchInfo`, `error`) as XML or a JSON object.
pub fn render(format: Format, status: StatusCode, root: &str, fields: Fields) -> Response {
    match format {
        Format::Json => respond(status, "application/json", to_json(&fields).to_string()),
        Format::Xml => respond(
            status,
            "application/xml",
            xml_doc(root, |w| write_fields(w, &fields)),
        ),
    }
}

/// `batchInfoList`: `<batchInfoList><batchInfo>…` or `{"batchInfo":[…]}`.
pub fn render_batch_list(format: Format, items: Vec<Fields>) -> Response {
    match format {
        Format::Json => {
            let list: Vec<Json> = items.iter().map(to_json).collect();
            respond(
                StatusCode::OK,
                "application/json",
                serde_json::json!({ "batchInfo": list }).to_string(),
            )
        }
        Format::Xml => respond(
            StatusCode::OK,
            "application/xml",
            xml_doc("batchInfoList", |w| {
                for f in &items {
                    w.write_event(Event::Start(BytesStart::new("batchInfo")))?;
                    write_fields(w, f)?;
                    w.write_event(Event::End(BytesEnd::new("batchInfo")))?;
                }
                Ok(())
            }),
        ),
    }
}

/// A query batch's result ids: `<result-list><result>…` or `["…"]`.
pub fn render_result_list(format: Format, ids: &[String]) -> Response {
    match format {
        Format::Json => respond(
            StatusCode::OK,
            "application/json",
            Json::from(ids.to_vec()).to_string(),
        ),
        Format::Xml => respond(
            StatusCode::OK,
            "application/xml",
            xml_doc("result-list", |w| {
                for id in ids {
                    w.create_element("result")
                        .write_text_content(BytesText::new(id))?;
                }
                Ok(())
            }),
        ),
    }
}

/// `2024-05-20T20:49:32.000Z` for now, as Bulk 1.0 writes dates.
pub fn now() -> String {
    super::super::value::format_datetime(chrono::Utc::now().timestamp_millis(), "Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_and_namespaces() {
        let doc = xml_doc("jobInfo", |w| {
            write_fields(
                w,
                &vec![
                    ("object", Val::S("A&B".into())),
                    ("apiVersion", Val::F(62.0)),
                ],
            )
        });
        assert!(
            doc.contains(r#"<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">"#)
        );
        assert!(doc.contains("<object>A&amp;B</object><apiVersion>62.0</apiVersion>"));
    }
}
