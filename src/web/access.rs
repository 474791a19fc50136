//! Who is asking, and what they may do: the operator token (`ORGPOOL_WEB_TOKEN`) can
//! read and act, the read-only token (`ORGPOOL_WEB_READ_TOKEN`) can only read, and with
//! no token presented the pages are open only when no token is set or reads are not
//! protected. Also the console's login form (it sets the session cookie) and the check
//! every console form passes: same origin, and the CSRF token of the operator.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::auth::SESSION_COOKIE;
use super::layout;
use super::server::WebState;

/// What a request may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The operator token: read and act; forms carry `csrf`.
    Operator {
        /// The CSRF token its forms carry.
        csrf: String,
    },
    /// The read-only token.
    Reader,
    /// No token presented (or a wrong one).
    Anonymous,
}

impl Access {
    /// Whether it may use the console's actions.
    pub fn can_act(&self) -> bool {
        matches!(self, Access::Operator { .. })
    }
}

/// What `headers` present.
pub fn of(st: &WebState, headers: &HeaderMap) -> Access {
    if let Some(t) = st.token.as_ref().filter(|t| t.admits(headers)) {
        return Access::Operator { csrf: t.csrf() };
    }
    if st.read_token.as_ref().is_some_and(|t| t.admits(headers)) {
        return Access::Reader;
    }
    Access::Anonymous
}

/// Whether `access` may see the pages.
fn may_read(st: &WebState, access: &Access) -> bool {
    let open = st.token.is_none() && st.read_token.is_none();
    *access != Access::Anonymous || open || !st.config.protect_reads
}

/// Middleware of the pages: lets readers through with their [`Access`] in the
/// request's extensions; others get 401 (a login form for a browser, the Basic
/// challenge otherwise).
pub async fn guard_reads(
    State(st): State<Arc<WebState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let access = of(&st, req.headers());
    if may_read(&st, &access) {
        req.extensions_mut().insert(access);
        return next.run(req).await;
    }
    let browser = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if browser {
        let next = req
            .uri()
            .path_and_query()
            .map_or("/".to_string(), |p| p.to_string());
        return (StatusCode::UNAUTHORIZED, login_page(&next, None)).into_response();
    }
    let mut r = (
        StatusCode::UNAUTHORIZED,
        "this page needs the token: send `Authorization: Bearer $ORGPOOL_WEB_TOKEN`, or sign in with any user name and the token as the password\n",
    )
        .into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"orgpool\", charset=\"UTF-8\""),
    );
    r
}

fn login_page(next: &str, problem: Option<&str>) -> maud::Markup {
    layout::bare(
        "Sign in",
        html! {
            h1 { "orgpool console: sign in" }
            @if let Some(p) = problem { p.bad { (p) } }
            form method="post" action="/login" {
                input type="hidden" name="next" value=(next);
                label { "Token " input type="password" name="token" autocomplete="current-password" required; }
                " " button type="submit" { "Sign in" }
            }
            p.muted { "The web process's " code { "ORGPOOL_WEB_TOKEN" } " (can act) or " code { "ORGPOOL_WEB_READ_TOKEN" } " (can only look)." }
        },
    )
}

/// `GET /login`.
pub async fn login_form(Query(q): Query<LoginQuery>) -> Response {
    login_page(&safe_next(q.next.as_deref()), None).into_response()
}

/// The login form's query.
#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// The login form's body.
#[derive(Debug, serde::Deserialize)]
pub struct Login {
    token: Option<String>,
    next: Option<String>,
}

/// `POST /login`: a right token sets the session cookie (HttpOnly, SameSite=Strict,
/// Secure behind HTTPS) and goes on to `next`; a wrong one is 401 with the form again.
pub async fn login(
    State(st): State<Arc<WebState>>,
    headers: HeaderMap,
    Form(f): Form<Login>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    let presented = f.token.unwrap_or_default();
    let token = [st.token.as_ref(), st.read_token.as_ref()]
        .into_iter()
        .flatten()
        .find(|t| t.matches(presented.trim()));
    let Some(token) = token else {
        let problem = if st.token.is_none() && st.read_token.is_none() {
            "This web process has no token set (ORGPOOL_WEB_TOKEN): there is nothing to sign in to."
        } else {
            "That is not the token. Check ORGPOOL_WEB_TOKEN or ORGPOOL_WEB_READ_TOKEN of the web process."
        };
        return (StatusCode::UNAUTHORIZED, login_page(&next, Some(problem))).into_response();
    };
    let secure = if behind_https(&headers) {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200{secure}",
        token.session()
    );
    let mut r = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `POST /logout`: forgets the session cookie.
pub async fn logout() -> Response {
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("orgpool_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}

/// Only a path on this site: anything else (another host, `//host`) goes to `/`.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

fn behind_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// Why a console action is refused before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 403: the credential cannot act, the form came from another site, or its CSRF
    /// token is missing or wrong.
    Forbidden(&'static str),
}

/// Checks a console form: the operator token, the same origin (when the browser says
/// where the form came from), and the form's CSRF token.
pub fn check_action(st: &WebState, headers: &HeaderMap, csrf: Option<&str>) -> Result<(), Refusal> {
    let want = match of(st, headers) {
        Access::Operator { csrf } => csrf,
        Access::Reader => {
            return Err(Refusal::Forbidden(
                "this token is read-only (ORGPOOL_WEB_READ_TOKEN): it can look but not act; sign in with ORGPOOL_WEB_TOKEN",
            ));
        }
        Access::Anonymous if st.token.is_none() => {
            return Err(Refusal::Forbidden(
                "the console's actions are off: set ORGPOOL_WEB_TOKEN on the web process and sign in with it",
            ));
        }
        Access::Anonymous => {
            return Err(Refusal::Forbidden(
                "actions need the token: sign in at /login with ORGPOOL_WEB_TOKEN",
            ));
        }
    };
    if !same_origin(headers) {
        return Err(Refusal::Forbidden(
            "the form was sent from another site (its Origin is not this console); open the console and use its buttons",
        ));
    }
    let ok =
        csrf.is_some_and(|c| subtle::ConstantTimeEq::ct_eq(c.as_bytes(), want.as_bytes()).into());
    if !ok {
        return Err(Refusal::Forbidden(
            "the form's CSRF token is missing or wrong; reload the page and try again",
        ));
    }
    Ok(())
}

/// True unless the browser names an origin whose host is not this request's `Host`.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
    origin != "null" && origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/runs?state=failed")), "/runs?state=failed");
        for bad in ["//evil.example", "https://evil.example/", "\\\\x", "runs"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn origin_must_be_this_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:5000".parse().unwrap());
        assert!(
            same_origin(&h),
            "no Origin: a form of an old browser, or curl"
        );
        h.insert(header::ORIGIN, "http://127.0.0.1:5000".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(!same_origin(&h));
    }
}
