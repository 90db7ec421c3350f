//! `GET /api/openapi.json`: the API described as OpenAPI 3.1, built with `utoipa`'s model.
//!
//! The operations come from [`OPERATIONS`] (method, route template, summary), the roles of
//! each from [`super::auth::allowed_roles`] and the error body's `code` values from
//! [`ApiCode::ALL`] with their statuses, so the error vocabulary cannot drift from the code.
//! A test checks that every route the router declares is in [`OPERATIONS`] and the reverse.
//!
//! Request and response bodies come from `#[utoipa::path]` attributes on the JSON handlers
//! (collected by [`Described`]) and `utoipa::ToSchema` derives on their types, so a body's
//! schema is the Rust type serde writes. [`spec_document`] takes each table operation's
//! parameters, request body and responses from there and adds the error responses; the
//! pages, `/metrics`, the CMS hook and this document get a hand-written content type.

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi as _;
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder, PathItem, PathsBuilder};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, InfoBuilder, OpenApi, OpenApiBuilder, Ref};

use super::{ApiCode, AppState};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(spec))
}

/// Every operation the router serves: (method, route template, summary).
pub const OPERATIONS: &[(&str, &str, &str)] = &[
    ("GET", "/healthz", "Liveness and material counts"),
    (
        "GET",
        "/metrics",
        "Prometheus metrics (text exposition format)",
    ),
    ("GET", "/api/openapi.json", "This description"),
    ("GET", "/api/search", "Search the answer materials"),
    ("GET", "/api/materials/{id}", "One material"),
    ("PUT", "/api/materials/{id}", "Correct or add a material"),
    ("DELETE", "/api/materials/{id}", "Retire a material"),
    (
        "POST",
        "/api/admin/reindex",
        "Start a zero-downtime full rebuild (a job)",
    ),
    (
        "POST",
        "/api/admin/sync",
        "Bring the index in line with the corpus",
    ),
    ("GET", "/api/suggest", "What to type next"),
    ("GET", "/api/departments", "The department registry"),
    ("GET", "/api/pins", "Pinned answers"),
    ("POST", "/api/pins", "Pin a material to a query"),
    ("DELETE", "/api/pins/{id}", "Remove a pin"),
    ("POST", "/api/inquiries", "Record an inquiry"),
    ("GET", "/api/inquiries", "List inquiries"),
    ("GET", "/api/inquiries/{id}", "One inquiry"),
    ("GET", "/api/escalations", "List escalations"),
    (
        "GET",
        "/api/escalations/{id}",
        "One escalation with its history",
    ),
    (
        "POST",
        "/api/escalations/{id}/answer",
        "A department's answer",
    ),
    (
        "POST",
        "/api/escalations/{id}/promote",
        "Draft the promotion of an answer to a FAQ material",
    ),
    ("GET", "/api/promotions", "List promotion drafts"),
    ("GET", "/api/promotions/{id}", "One promotion draft"),
    ("PUT", "/api/promotions/{id}", "Edit a promotion draft"),
    (
        "POST",
        "/api/promotions/{id}/publish",
        "Publish a promotion draft as a FAQ material",
    ),
    (
        "POST",
        "/api/promotions/{id}/discard",
        "Discard a promotion draft",
    ),
    ("POST", "/api/escalations/{id}/close", "Close an escalation"),
    (
        "POST",
        "/api/escalations/{id}/reassign",
        "Hand an escalation to another department",
    ),
    (
        "POST",
        "/api/escalations/{id}/callback",
        "Record the call-back to the caller",
    ),
    (
        "GET",
        "/api/metrics/first-answer-rate",
        "First-contact resolution rate (一次回答率)",
    ),
    (
        "GET",
        "/api/metrics/escalations",
        "Escalations by department",
    ),
    (
        "GET",
        "/api/metrics/knowledge-gaps",
        "Zero-result and escalated queries",
    ),
    ("GET", "/api/metrics/materials", "Material usage"),
    ("GET", "/api/metrics/search-log", "Search-log counters"),
    ("GET", "/api/metrics/annual-review", "Annual review"),
    (
        "POST",
        "/api/hooks/cms",
        "CMS approval webhook (HMAC-SHA256 signature)",
    ),
    ("GET", "/api/jobs/{id}", "A webhook job"),
    ("GET", "/api/status", "Index, jobs and watch errors"),
    ("GET", "/", "Operator search page (HTML)"),
    ("GET", "/m/{id}", "Material page (HTML)"),
    ("GET", "/escalations", "Department answer page (HTML)"),
    ("GET", "/dashboard", "Manager dashboard (HTML)"),
    ("GET", "/login", "Login form (HTML)"),
    ("POST", "/login", "Log in (form post)"),
    ("POST", "/logout", "Log out"),
    ("GET", "/static/{file}", "Page assets"),
];

/// The operations whose bodies are described by `#[utoipa::path]` on their handlers, with
/// every schema they reference.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        super::healthz,
        super::search::search,
        super::search::material,
        super::materials::upsert,
        super::materials::retire,
        super::reindex::reindex,
        super::reindex::sync,
        super::suggest::suggest,
        super::departments::list,
        super::pins::list,
        super::pins::create,
        super::pins::remove,
        super::inquiries::create,
        super::inquiries::list,
        super::inquiries::read,
        super::escalations::list,
        super::escalations::one,
        super::escalations::answer,
        super::escalations::promote,
        super::escalations::close,
        super::escalations::reassign,
        super::escalations::callback,
        super::promotions::list,
        super::promotions::one,
        super::promotions::edit,
        super::promotions::publish,
        super::promotions::discard,
        super::metrics::first_answer_rate,
        super::metrics::escalations,
        super::metrics::knowledge_gaps,
        super::metrics::materials,
        super::metrics::search_log,
        super::metrics::annual_review,
        super::jobs::job,
        super::admin::status,
    ),
    components(schemas(ApiCode))
)]
pub struct Described;

/// Takes the operation for `method` out of a path item.
fn take_operation(item: &mut PathItem, method: &str) -> Option<Operation> {
    match method {
        "GET" => item.get.take(),
        "POST" => item.post.take(),
        "PUT" => item.put.take(),
        "DELETE" => item.delete.take(),
        _ => None,
    }
}

/// The response of an operation without a JSON body: (status, content type, description).
fn plain_response(method: &str, path: &str) -> (&'static str, &'static str, &'static str) {
    match (method, path) {
        ("GET", "/metrics") => (
            "200",
            "text/plain; version=0.0.4",
            "Prometheus text exposition format",
        ),
        ("GET", "/api/openapi.json") => ("200", "application/json", "OpenAPI 3.1 document"),
        ("POST", "/api/hooks/cms") => (
            "202",
            "application/json",
            "Accepted: the job (`GET /api/jobs/{id}`)",
        ),
        ("GET", "/static/{file}") => ("200", "text/css", "CSS, JavaScript or SVG (ETag, 304)"),
        ("POST", "/login") | ("POST", "/logout") => (
            "303",
            "text/html",
            "Redirect (session cookie set or cleared)",
        ),
        _ => ("200", "text/html", "HTML page"),
    }
}

/// Builds the description.
pub fn spec_document() -> OpenApi {
    let mut described = Described::openapi();
    let codes: Vec<String> = ApiCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    let code_doc: Vec<String> = ApiCode::ALL
        .iter()
        .map(|c| format!("`{}` ({})", c.as_str(), c.status().as_u16()))
        .collect();
    let error = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes))
                .description(Some(format!("One of: {}", code_doc.join(", ")))),
        )
        .required("code")
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .required("message");
    let mut paths = PathsBuilder::new().build();
    for (method, path, summary) in OPERATIONS {
        let m = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
        let roles = match super::auth::allowed_roles(&m, path) {
            None => "no token needed".to_string(),
            Some(r) => {
                let names: Vec<&str> = r.iter().map(|r| r.as_str()).collect();
                format!("roles: {}", names.join(", "))
            }
        };
        let mut op = match described
            .paths
            .paths
            .get_mut(*path)
            .and_then(|item| take_operation(item, method))
        {
            Some(mut op) => {
                op.summary = Some((*summary).to_string());
                op.description = Some(roles);
                op.operation_id = None;
                op
            }
            None => {
                let (status, ty, what) = plain_response(method, path);
                OperationBuilder::new()
                    .summary(Some(*summary))
                    .description(Some(roles))
                    .response(
                        status,
                        ResponseBuilder::new()
                            .description(what)
                            .content(ty, Content::new(None::<Ref>)),
                    )
                    .build()
            }
        };
        op.responses.responses.insert(
            "default".to_string(),
            ResponseBuilder::new()
                .description("Error: JSON {code, message}")
                .content(
                    "application/json",
                    Content::new(Some(Ref::from_schema_name("ApiError"))),
                )
                .build()
                .into(),
        );
        let http = match *method {
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "DELETE" => HttpMethod::Delete,
            _ => HttpMethod::Get,
        };
        paths.add_path_operation(*path, vec![http], op);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("kotae")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Japanese answer-material search for the inquiry centers of prefectures and cities",
                )),
        )
        .paths(paths)
        .components(Some({
            let mut c = described.components.take().unwrap_or_default();
            c.schemas.insert("ApiError".to_string(), error.into());
            c
        }))
        .build()
}

async fn spec(State(_): State<AppState>) -> Json<OpenApi> {
    Json(spec_document())
}
