//! Salesforce's Pub/Sub API (gRPC `eventbus.v1.PubSub`) for Change Data Capture: the
//! client ([`PubSub`]), decoding Avro change events ([`EventSchema`]) into the form
//! orgpool stores and applies ([`Event`]), and its errors.

mod connect;
mod decode;
mod error;
mod event;

pub use connect::{PubSub, Start, Subscription};
pub use decode::{EventSchema, bits_of, millis_text};
pub use error::PubSubError;
pub use event::{ChangeType, Event};

/// The name orgpool's calls give in `Sforce-Call-Options: client=...`, which
/// Salesforce copies into `changeOrigin`.
pub const CLIENT_NAME: &str = "orgpool";

/// The topic of `object`'s change events: `/data/AccountChangeEvent`,
/// `/data/Employee__ChangeEvent` for `Employee__c`.
pub fn topic_of(object: &str) -> String {
    match object.strip_suffix("__c") {
        Some(base) => format!("/data/{base}__ChangeEvent"),
        None => format!("/data/{object}ChangeEvent"),
    }
}
