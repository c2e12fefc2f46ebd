//! The web admin console at `/admin`: three static files (`engine/console/`) embedded in the
//! binary, so building the server needs no Node toolchain. The page talks to the REST API
//! (`/api/v1`) with the token an administrator gets by logging in; see `docs/console.md`.
//!
//! Every answer carries `Cache-Control: no-cache` (a new binary's console is seen at once) and
//! a strict `Content-Security-Policy`: only this origin's script, style and connections, no
//! inline script, no framing.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The console's files: (name, content type, text).
const FILES: [(&str, &str, &str); 3] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../console/index.html"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../../console/console.css"),
    ),
];

/// What the page may load and reach: this origin only; images also as `data:` URLs (the icon).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// The console's routes: `GET /admin`, `/admin/` (the page) and `/admin/{file}`.
pub(crate) fn router() -> Router {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/", get(index))
        .route("/admin/{file}", get(file))
}

async fn index() -> Response {
    serve("index.html")
}

async fn file(Path(name): Path<String>) -> Response {
    serve(&name)
}

/// The embedded file `name` with its headers, or 404.
fn serve(name: &str) -> Response {
    let mut response = match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, text)) => {
            ([(header::CONTENT_TYPE, *content_type)], *text).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no such console file",
        )
            .into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(path: &str) -> Response {
        let request = Request::builder()
            .uri(path)
            .body(Body::empty())
            .expect("request");
        router().oneshot(request).await.expect("infallible")
    }

    fn header_of(r: &Response, name: header::HeaderName) -> &str {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn serves_the_embedded_files_with_their_types_and_policy() {
        for (path, kind) in [
            ("/admin", "text/html"),
            ("/admin/", "text/html"),
            ("/admin/index.html", "text/html"),
            ("/admin/console.js", "text/javascript"),
            ("/admin/console.css", "text/css"),
        ] {
            let r = get(path).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            assert!(
                header_of(&r, header::CONTENT_TYPE).starts_with(kind),
                "{path}"
            );
            assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-cache", "{path}");
            let csp = header_of(&r, header::CONTENT_SECURITY_POLICY);
            assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        }
    }

    #[tokio::test]
    async fn unknown_files_are_not_found() {
        for path in [
            "/admin/nope.js",
            "/admin/..%2FCargo.toml",
            "/admin/console.js.map",
        ] {
            let r = get(path).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
            assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-cache", "{path}");
        }
    }

    #[test]
    fn the_page_loads_no_inline_script() {
        let (_, _, html) = FILES[0];
        assert!(html.contains(r#"<script src="/admin/console.js""#));
        assert!(
            !html.contains("<script>"),
            "inline script would break the policy"
        );
        // No `on…=` handler attribute: ` on` followed by letters and `=`.
        let handler = html.split(" on").skip(1).any(|rest| {
            let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        });
        assert!(!handler, "inline handlers would break the policy");
    }
}
