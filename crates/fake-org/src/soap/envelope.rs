//! SOAP envelopes on the wire: the request parsed with quick-xml's serde support (by
//! local name, so any prefix a client picks works), and the `loginResponse`,
//! `logoutResponse`, `undeleteResponse` and fault bodies written as Salesforce writes
//! them.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::Deserialize;

use crate::record_error::RecordError;

/// SOAP 1.1 envelope namespace.
const SOAPENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The partner API namespace.
const PARTNER: &str = "urn:partner.soap.sforce.com";
/// The partner fault namespace.
const FAULT: &str = "urn:fault.partner.soap.sforce.com";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// A request envelope: the header's session and the body's call.
#[derive(Debug, Default, Deserialize)]
pub struct Envelope {
    #[serde(rename = "Header", default)]
    header: Option<Header>,
    #[serde(rename = "Body", default)]
    body: Option<Body>,
}

#[derive(Debug, Default, Deserialize)]
struct Header {
    #[serde(rename = "SessionHeader", default)]
    session: Option<SessionHeader>,
    #[serde(rename = "CallOptions", default)]
    call_options: Option<CallOptions>,
    #[serde(rename = "AllOrNoneHeader", default)]
    all_or_none: Option<AllOrNoneHeader>,
}

#[derive(Debug, Default, Deserialize)]
struct CallOptions {
    #[serde(default)]
    client: String,
}

#[derive(Debug, Default, Deserialize)]
struct AllOrNoneHeader {
    #[serde(rename = "allOrNone", default)]
    all_or_none: String,
}

#[derive(Debug, Default, Deserialize)]
struct SessionHeader {
    #[serde(rename = "sessionId", default)]
    session_id: String,
}

#[derive(Debug, Default, Deserialize)]
struct Body {
    #[serde(default)]
    login: Option<Login>,
    #[serde(default)]
    logout: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    undelete: Option<Undelete>,
}

#[derive(Debug, Default, Deserialize)]
struct Undelete {
    #[serde(default)]
    ids: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Login {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// The call a request makes.
#[derive(Debug, PartialEq, Eq)]
pub enum Call {
    /// `login(username, password)`.
    Login {
        /// The username.
        username: String,
        /// Password, with the security token appended.
        password: String,
    },
    /// `logout()` with the `SessionHeader`'s session id.
    Logout {
        /// The session to end ("" when the header is missing).
        session_id: String,
    },
    /// `undelete(ids)`.
    Undelete {
        /// The `SessionHeader`'s session ("" when the header is missing).
        session_id: String,
        /// The `CallOptions` header's `client`, when given.
        client: Option<String>,
        /// The `AllOrNoneHeader`'s `allOrNone`.
        all_or_none: bool,
        /// The Ids, in request order.
        ids: Vec<String>,
    },
}

/// Why an envelope could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// Not XML, or not a SOAP envelope.
    #[error("Could not parse the SOAP envelope: {0}")]
    Malformed(String),
    /// A call this fake org does not serve.
    #[error("No operation available for request (this org serves login, logout and undelete)")]
    UnknownCall,
}

impl EnvelopeError {
    /// Never worth retrying: the request itself is wrong.
    // Part of every module error's contract; the fake org itself never retries.
    #[allow(dead_code)]
    pub fn retryable(&self) -> bool {
        false
    }
}

/// Parses a request envelope into its call.
pub fn parse(body: &str) -> Result<Call, EnvelopeError> {
    let env: Envelope =
        quick_xml::de::from_str(body).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
    let b = env
        .body
        .ok_or_else(|| EnvelopeError::Malformed("no Body".into()))?;
    if let Some(l) = b.login {
        return Ok(Call::Login {
            username: l.username.trim().to_string(),
            password: l.password,
        });
    }
    let header = env.header.unwrap_or_default();
    let session_id = header
        .session
        .map(|s| s.session_id.trim().to_string())
        .unwrap_or_default();
    if b.logout.is_some() {
        return Ok(Call::Logout { session_id });
    }
    if let Some(u) = b.undelete {
        return Ok(Call::Undelete {
            session_id,
            client: header
                .call_options
                .map(|c| c.client.trim().to_string())
                .filter(|c| !c.is_empty()),
            all_or_none: header
                .all_or_none
                .is_some_and(|a| a.all_or_none.trim().eq_ignore_ascii_case("true")),
            ids: u.ids.into_iter().map(|i| i.trim().to_string()).collect(),
        });
    }
    Err(EnvelopeError::UnknownCall)
}

/// A value in a response: text, or `xsi:nil`.
pub enum Item<'a> {
    /// A text element.
    Text(&'a str, String),
    /// A nil element.
    Nil(&'a str),
    /// A nested element.
    Group(&'a str, Vec<Item<'a>>),
}

type W = Writer<Vec<u8>>;

fn write_items(w: &mut W, items: &[Item]) -> std::io::Result<()> {
    for item in items {
        match item {
            Item::Text(name, text) => {
                w.create_element(*name)
                    .write_text_content(BytesText::new(text))?;
            }
            Item::Nil(name) => {
                w.create_element(*name)
                    .with_attribute(("xsi:nil", "true"))
                    .write_empty()?;
            }
            Item::Group(name, inner) => {
                w.write_event(Event::Start(BytesStart::new(*name)))?;
                write_items(w, inner)?;
                w.write_event(Event::End(BytesEnd::new(*name)))?;
            }
        }
    }
    Ok(())
}

/// Wraps `inner` (written into the body) in an envelope.
fn envelope(inner: impl FnOnce(&mut W) -> std::io::Result<()>) -> String {
    let mut w = Writer::new(Vec::new());
    let run = |w: &mut W| -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let start = BytesStart::new("soapenv:Envelope").with_attributes([
            ("xmlns:soapenv", SOAPENV),
            ("xmlns", PARTNER),
            ("xmlns:xsi", XSI),
        ]);
        w.write_event(Event::Start(start))?;
        w.write_event(Event::Start(BytesStart::new("soapenv:Body")))?;
        inner(w)?;
        w.write_event(Event::End(BytesEnd::new("soapenv:Body")))?;
        w.write_event(Event::End(BytesEnd::new("soapenv:Envelope")))?;
        Ok(())
    };
    // Writing into a Vec cannot fail.
    let _ = run(&mut w);
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

/// `<loginResponse><result>…</result></loginResponse>`.
pub fn login_response(result: &[Item]) -> String {
    envelope(|w| {
        w.write_event(Event::Start(BytesStart::new("loginResponse")))?;
        w.write_event(Event::Start(BytesStart::new("result")))?;
        write_items(w, result)?;
        w.write_event(Event::End(BytesEnd::new("result")))?;
        w.write_event(Event::End(BytesEnd::new("loginResponse")))?;
        Ok(())
    })
}

/// `<undeleteResponse>` with one `result` per Id, as the partner WSDL's
/// `UndeleteResult` orders its elements: `errors` (each `fields`, `message`,
/// `statusCode`), `id` (nil when it failed), `success`.
pub fn undelete_response(results: &[Result<String, RecordError>]) -> String {
    envelope(|w| {
        w.write_event(Event::Start(BytesStart::new("undeleteResponse")))?;
        for r in results {
            let items = match r {
                Ok(id) => vec![
                    Item::Text("id", id.clone()),
                    Item::Text("success", "true".into()),
                ],
                Err(e) => {
                    let mut err: Vec<Item> = e
                        .fields
                        .iter()
                        .map(|f| Item::Text("fields", f.clone()))
                        .collect();
                    err.push(Item::Text("message", e.message.clone()));
                    err.push(Item::Text("statusCode", e.code.to_string()));
                    vec![
                        Item::Group("errors", err),
                        Item::Nil("id"),
                        Item::Text("success", "false".into()),
                    ]
                }
            };
            write_items(w, &[Item::Group("result", items)])?;
        }
        w.write_event(Event::End(BytesEnd::new("undeleteResponse")))?;
        Ok(())
    })
}

/// `<logoutResponse/>`.
pub fn logout_response() -> String {
    envelope(|w| {
        w.write_event(Event::Empty(BytesStart::new("logoutResponse")))?;
        Ok(())
    })
}

/// A fault: `faultcode` `sf:CODE`, `faultstring` `CODE: message`, and the detail
/// element (`LoginFault`, `UnexpectedErrorFault`) with `sf:exceptionCode` and
/// `sf:exceptionMessage`, which clients read.
pub fn fault(code: &str, message: &str, detail: &str) -> String {
    envelope(|w| {
        let start = BytesStart::new("soapenv:Fault").with_attributes([("xmlns:sf", FAULT)]);
        w.write_event(Event::Start(start))?;
        w.create_element("faultcode")
            .write_text_content(BytesText::new(&format!("sf:{code}")))?;
        w.create_element("faultstring")
            .write_text_content(BytesText::new(&format!("{code}: {message}")))?;
        w.write_event(Event::Start(BytesStart::new("detail")))?;
        let tag = format!("sf:{detail}");
        let d = BytesStart::new(tag.as_str()).with_attributes([("xsi:type", tag.as_str())]);
        w.write_event(Event::Start(d))?;
        w.create_element("sf:exceptionCode")
            .write_text_content(BytesText::new(code))?;
        w.create_element("sf:exceptionMessage")
            .write_text_content(BytesText::new(message))?;
        w.write_event(Event::End(BytesEnd::new(tag.as_str())))?;
        w.write_event(Event::End(BytesEnd::new("detail")))?;
        w.write_event(Event::End(BytesEnd::new("soapenv:Fault")))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_login_with_any_prefix() {
        let body = r#"<?xml version="1.0" encoding="utf-8" ?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">
  <env:Header><urn:CallOptions><urn:client>c</urn:client></urn:CallOptions></env:Header>
  <env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">
    <n1:username>u@x.test</n1:username><n1:password>p&amp;wTOKEN</n1:password>
  </n1:login></env:Body></env:Envelope>"#;
        assert_eq!(
            parse(body).unwrap(),
            Call::Login {
                username: "u@x.test".into(),
                password: "p&wTOKEN".into()
            }
        );
    }

    #[test]
    fn reads_logout_session_header() {
        let body = r#"<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/">
  <se:Header><SessionHeader xmlns="urn:partner.soap.sforce.com"><sessionId>00D!abc</sessionId></SessionHeader></se:Header>
  <se:Body><logout xmlns="urn:partner.soap.sforce.com"/></se:Body></se:Envelope>"#;
        assert_eq!(
            parse(body).unwrap(),
            Call::Logout {
                session_id: "00D!abc".into()
            }
        );
        assert!(matches!(parse("not xml"), Err(EnvelopeError::Malformed(_))));
    }

    #[test]
    fn reads_undelete_with_its_headers() {
        let body = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">
  <soapenv:Header>
    <urn:SessionHeader><urn:sessionId>00D!abc</urn:sessionId></urn:SessionHeader>
    <urn:CallOptions><urn:client>orgpool/1</urn:client></urn:CallOptions>
    <urn:AllOrNoneHeader><urn:allOrNone>true</urn:allOrNone></urn:AllOrNoneHeader>
  </soapenv:Header>
  <soapenv:Body><urn:undelete><urn:ids>001A</urn:ids><urn:ids> 001B </urn:ids></urn:undelete></soapenv:Body>
</soapenv:Envelope>"#;
        assert_eq!(
            parse(body).unwrap(),
            Call::Undelete {
                session_id: "00D!abc".into(),
                client: Some("orgpool/1".into()),
                all_or_none: true,
                ids: vec!["001A".into(), "001B".into()],
            }
        );
        let one = r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><undelete xmlns="urn:partner.soap.sforce.com"><ids>001A</ids></undelete></e:Body></e:Envelope>"#;
        assert_eq!(
            parse(one).unwrap(),
            Call::Undelete {
                session_id: String::new(),
                client: None,
                all_or_none: false,
                ids: vec!["001A".into()],
            }
        );
    }
}
