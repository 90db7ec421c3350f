//! `GET /api/openapi.json`: the API described as OpenAPI 3.1, built with `utoipa`'s model.
//!
//! The operations come from [`OPERATIONS`] (method, route template, summary), the roles of
//! each from [`super::auth::allowed_roles`] and the error body's `code` values from
//! [`ApiCode::ALL`] with their statuses, so the error vocabulary cannot drift from the code.
//! A test checks that every route the router declares is in [`OPERATIONS`] and the reverse.

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathsBuilder};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Type};
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

/// Builds the description.
pub fn spec_document() -> OpenApi {
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
        let op = OperationBuilder::new()
            .summary(Some(*summary))
            .description(Some(roles))
            .response("200", ResponseBuilder::new().description("Success"))
            .response(
                "default",
                ResponseBuilder::new()
                    .description("Error: JSON {code, message}")
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("ApiError"))),
                    ),
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
        .components(Some(
            ComponentsBuilder::new().schema("ApiError", error).build(),
        ))
        .build()
}

async fn spec(State(_): State<AppState>) -> Json<OpenApi> {
    Json(spec_document())
}
