//! The SOAP partner API's `login` and `logout` calls (`/services/Soap/u/{version}`),
//! the username + password + security token login many clients default to, and
//! `undelete`, the API's way to restore records from the recycle bin. Session ids are
//! ordinary access tokens, so they work as a REST Bearer token and as Bulk 1.0's
//! `X-SFDC-Session`.

mod call;
mod envelope;
mod undelete;

pub use call::routes;
