//! `GET /api/departments` and the department registry of the running service
//! ([`crate::departments`]), rebuilt when the materials change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::params::Params;
use super::{ApiCode, ApiError, AppState};
use crate::departments::{Department, Level, Registry, UnknownDepartment};
use crate::material::Material;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/departments", get(list))
}

/// The registry of one material set, cached until the engine's material table changes.
#[derive(Debug, Default)]
pub struct RegistryCache {
    /// Lines of `dictionaries/departments.csv`, read at start.
    dictionary: Vec<String>,
    cached: Mutex<Option<Cached>>,
}

#[derive(Debug)]
struct Cached {
    materials: Weak<HashMap<String, Arc<Material>>>,
    tokens: Vec<String>,
    registry: Arc<Registry>,
}

impl RegistryCache {
    /// A cache over the centre's dictionary lines (see [`crate::departments::read_dictionary`]).
    pub fn new(dictionary: Vec<String>) -> Self {
        Self {
            dictionary,
            cached: Mutex::new(None),
        }
    }
}

impl AppState {
    /// Returns the department registry of the current materials, tokens and dictionary.
    pub fn registry(&self) -> Arc<Registry> {
        let materials = self.engine.materials();
        let tokens = self.auth.departments();
        let mut c = self
            .departments
            .cached
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(hit) = c.as_ref()
            && hit.materials.ptr_eq(&Arc::downgrade(&materials))
            && hit.tokens == tokens
        {
            return hit.registry.clone();
        }
        let registry = Arc::new(Registry::build(
            materials.values().map(|m| m.as_ref()),
            &self.departments.dictionary,
            &tokens,
        ));
        *c = Some(Cached {
            materials: Arc::downgrade(&materials),
            tokens,
            registry: registry.clone(),
        });
        registry
    }

    /// Maps a department name to its registry path (see [`Registry::resolve`]). With an
    /// empty registry (no department known from materials, tokens or the dictionary) the
    /// canonical name is accepted as it is.
    ///
    /// # Errors
    /// `400 unknown_department` naming the closest departments.
    pub fn resolve_department(&self, name: &str) -> Result<String, ApiError> {
        let r = self.registry();
        if r.is_empty() {
            return Ok(crate::departments::canonical(name));
        }
        r.resolve(name).map_err(unknown_department)
    }
}

impl AppState {
    /// Checks `category` against the configured list and returns its configured spelling;
    /// without a list, its normal form ([`crate::departments::normalize_name`]).
    ///
    /// # Errors
    /// `400 unknown_category` naming the closest configured categories.
    pub fn check_category(&self, category: &str) -> Result<String, ApiError> {
        let n = crate::departments::normalize_name(category);
        let categories = self.categories.get();
        if categories.is_empty() {
            return Ok(n);
        }
        if let Some(c) = categories
            .iter()
            .find(|c| crate::departments::normalize_name(c) == n)
        {
            return Ok(c.clone());
        }
        let near = crate::departments::closest(&n, categories.iter().map(String::as_str));
        Err(ApiError::new(
            ApiCode::UnknownCategory,
            format!(
                "unknown category {n:?}{}",
                if near.is_empty() {
                    format!("; configured: {}", categories.join(", "))
                } else {
                    format!("; did you mean {}?", near.join(", "))
                }
            ),
        ))
    }
}

/// The API error of an unresolved department name.
pub fn unknown_department(e: UnknownDepartment) -> ApiError {
    ApiError::new(ApiCode::UnknownDepartment, e.to_string())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = DepartmentList)]
struct List {
    departments: Vec<Department>,
}

/// `GET /api/departments?level=bu|ka|kakari`: the registry, by name; with `level`, only the
/// departments of that level.
#[utoipa::path(get, path = "/api/departments", params(("level" = Option<String>, Query, description = "bu, ka or kakari")), responses((status = 200, description = "The registry", body = List)))]
async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<List>, ApiError> {
    let p = Params::parse(raw.as_deref())?;
    let level = match p.non_empty("level") {
        None => None,
        Some(l) => Some(Level::parse(l).ok_or_else(|| {
            ApiError::new(
                ApiCode::BadLevel,
                format!("unknown level {l:?}: use bu (部), ka (課) or kakari (係)"),
            )
        })?),
    };
    let r = state.registry();
    Ok(Json(List {
        departments: r
            .departments()
            .filter(|d| level.is_none_or(|l| d.level == l))
            .cloned()
            .collect(),
    }))
}
