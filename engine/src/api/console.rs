//! The web admin console at `/admin`: static files (`engine/console/`: the page, its style
//! sheet and its ES modules) embedded in the binary, so building the server needs no Node
//! toolchain. The page talks to the REST API
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

/// The content type of the console's ES modules.
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// An ES module of the console (`engine/console/{name}`), served as JavaScript.
macro_rules! module {
    ($name:literal) => {
        (
            $name,
            JAVASCRIPT,
            include_str!(concat!("../../console/", $name)),
        )
    };
}

/// The console's files: (name, content type, text). `console.js` is the entry module the page
/// loads; it imports the others (`import … from "./core.js"`), which resolve to `/admin/{file}`.
const FILES: [(&str, &str, &str); 16] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../console/index.html"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../../console/console.css"),
    ),
    module!("console.js"),
    module!("core.js"),
    module!("widgets.js"),
    module!("shell.js"),
    module!("views-domains.js"),
    module!("views-server.js"),
    module!("views-collections.js"),
    module!("views-models.js"),
    module!("views-users.js"),
    module!("views-permissions.js"),
    module!("views-sessions.js"),
    module!("views-chats.js"),
    module!("views-activities.js"),
    module!("views-webhooks.js"),
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
            ("/admin/console.css", "text/css"),
            ("/admin/console.js", "text/javascript"),
            ("/admin/core.js", "text/javascript"),
            ("/admin/widgets.js", "text/javascript"),
            ("/admin/shell.js", "text/javascript"),
            ("/admin/views-domains.js", "text/javascript"),
            ("/admin/views-server.js", "text/javascript"),
            ("/admin/views-collections.js", "text/javascript"),
            ("/admin/views-models.js", "text/javascript"),
            ("/admin/views-users.js", "text/javascript"),
            ("/admin/views-permissions.js", "text/javascript"),
            ("/admin/views-sessions.js", "text/javascript"),
            ("/admin/views-chats.js", "text/javascript"),
            ("/admin/views-activities.js", "text/javascript"),
            ("/admin/views-webhooks.js", "text/javascript"),
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
            "/admin/views.js",
            "/admin/views-domains.js.map",
        ] {
            let r = get(path).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
            assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-cache", "{path}");
        }
    }

    #[test]
    fn the_page_loads_no_inline_script() {
        let (_, _, html) = FILES[0];
        assert!(html.contains(r#"<script type="module" src="/admin/console.js">"#));
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

    /// The JavaScript files: name and text.
    fn modules() -> Vec<(&'static str, &'static str)> {
        FILES
            .iter()
            .filter(|(_, kind, _)| *kind == JAVASCRIPT)
            .map(|(name, _, text)| (*name, *text))
            .collect()
    }

    /// The files a module imports (`from "./x.js"`).
    fn imports_of(text: &str) -> Vec<&str> {
        text.split("from \"./")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect()
    }

    #[test]
    fn every_import_is_served_and_every_module_is_imported() {
        let all = modules();
        let served: Vec<&str> = all.iter().map(|(name, _)| *name).collect();
        let mut reached = vec!["console.js"];
        let mut i = 0;
        while i < reached.len() {
            let (_, text) = all
                .iter()
                .find(|(name, _)| *name == reached[i])
                .expect("an embedded module");
            for import in imports_of(text) {
                assert!(
                    served.contains(&import),
                    "{} imports {import}, which is not served",
                    reached[i]
                );
                if !reached.contains(&import) {
                    reached.push(import);
                }
            }
            i += 1;
        }
        for name in &served {
            assert!(
                reached.contains(name),
                "{name} is served but never imported"
            );
        }
    }

    #[test]
    fn modules_stay_well_under_the_size_rule() {
        for (name, text) in modules() {
            let lines = text.lines().count();
            assert!(lines < 800, "{name} has {lines} lines");
        }
    }
}
