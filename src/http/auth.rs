//! Bearer-token authentication and the role policy.
//!
//! Roles: `operator` (search, record inquiries), `department` (its own escalations),
//! `manager` (metrics, promotion), `admin` (everything). Tokens come from the configuration
//! file (`[[auth.tokens]]`) or `KOTAE_TOKENS`; only their SHA-256 is kept, and a presented
//! token is hashed and compared with every stored hash in constant time. With no tokens
//! the API is open (every request acts as `admin`) and `serve` listens on loopback only.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{ApiCode, ApiError, AppState};

/// Errors of token configuration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// An unknown role name.
    #[error("unknown role {0:?}: use operator, department, manager or admin")]
    UnknownRole(String),
    /// A token entry is malformed.
    #[error("bad token entry: {0}")]
    BadEntry(String),
}

crate::wire_enum! {
    /// A role.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Role {
        /// Center operator: search, record inquiries, close escalations.
        Operator = "operator",
        /// A department: reads and answers its own escalations.
        Department = "department",
        /// Center manager: metrics, escalations, promotion to materials.
        Manager = "manager",
        /// Everything.
        Admin = "admin",
    }
}

impl Role {
    /// Parses a role name from the configuration (surrounding blanks ignored).
    ///
    /// # Errors
    /// [`AuthError::UnknownRole`].
    pub fn from_config(s: &str) -> Result<Self, AuthError> {
        Self::parse(s.trim()).ok_or_else(|| AuthError::UnknownRole(s.trim().to_string()))
    }
}

/// Who is calling (put into the request extensions by [`middleware`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Role.
    pub role: Role,
    /// Department, for the `department` role.
    pub department: Option<String>,
    /// Id of the token (first 16 hex digits of its SHA-256; `None` for an open API): who
    /// recorded an inquiry, so that an operator lists their own.
    pub token_id: Option<String>,
}

impl Principal {
    /// The principal of an API without tokens.
    pub fn open_admin() -> Self {
        Self {
            role: Role::Admin,
            department: None,
            token_id: None,
        }
    }

    /// Returns whether the principal may act on escalations of `department`: a department
    /// token acts on its own department and the units below it (a 課's token on its 係s),
    /// names compared in canonical form ([`crate::departments::path_contains`]).
    pub fn may_handle(&self, department: &str) -> bool {
        match self.role {
            Role::Department => self.department.as_deref().is_some_and(|own| {
                crate::departments::path_contains(
                    &crate::departments::canonical(department),
                    &crate::departments::canonical(own),
                )
            }),
            _ => true,
        }
    }
}

/// One configured token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    /// Role granted.
    pub role: Role,
    /// Department, for the `department` role.
    pub department: Option<String>,
    /// SHA-256 of the token.
    pub sha256: [u8; 32],
}

impl TokenEntry {
    /// An entry for the plain `token` (hashed at once).
    ///
    /// # Errors
    /// [`AuthError::BadEntry`] for a short token or a department role without department.
    pub fn new(role: Role, department: Option<String>, token: &str) -> Result<Self, AuthError> {
        if token.len() < 16 {
            return Err(AuthError::BadEntry(
                "tokens must be at least 16 characters".into(),
            ));
        }
        Self::hashed(role, department, hash(token))
    }

    /// An entry for a token given by its SHA-256.
    ///
    /// # Errors
    /// [`AuthError::BadEntry`] for a department role without department.
    pub fn hashed(
        role: Role,
        department: Option<String>,
        sha256: [u8; 32],
    ) -> Result<Self, AuthError> {
        let department = department.filter(|d| !d.trim().is_empty());
        if role == Role::Department && department.is_none() {
            return Err(AuthError::BadEntry(
                "a `department` token needs its department".into(),
            ));
        }
        Ok(Self {
            role,
            department,
            sha256,
        })
    }
}

/// Returns the SHA-256 of `token`.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Parses a hex SHA-256 (64 hex digits).
///
/// # Errors
/// [`AuthError::BadEntry`].
pub fn parse_sha256(hex_digits: &str) -> Result<[u8; 32], AuthError> {
    let v = hex::decode(hex_digits.trim())
        .map_err(|e| AuthError::BadEntry(format!("token_sha256: {e}")))?;
    v.try_into()
        .map_err(|_| AuthError::BadEntry("token_sha256 must be 64 hex digits".into()))
}

/// The configured tokens. The table can be replaced while serving ([`Auth::replace`],
/// on SIGHUP); every check reads the table current at that moment.
#[derive(Debug, Default)]
pub struct Auth {
    tokens: std::sync::RwLock<Arc<[TokenEntry]>>,
    /// Tokens added with [`Auth::with_token`] (the per-run control token): a
    /// [`Auth::replace`] keeps them.
    kept: Vec<TokenEntry>,
}

impl Clone for Auth {
    /// A copy of the current table (later replacements do not reach it).
    fn clone(&self) -> Self {
        Self {
            tokens: std::sync::RwLock::new(self.table()),
            kept: self.kept.clone(),
        }
    }
}

impl Auth {
    /// No tokens: the API is open (see the module documentation).
    pub fn disabled() -> Self {
        Self::default()
    }

    /// Auth over `tokens`.
    pub fn new(tokens: Vec<TokenEntry>) -> Self {
        Self {
            tokens: std::sync::RwLock::new(tokens.into()),
            kept: Vec::new(),
        }
    }

    fn table(&self) -> Arc<[TokenEntry]> {
        self.tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the token table with `other`'s (SIGHUP). Requests already past the check
    /// keep the principal they were given.
    ///
    /// # Errors
    /// [`AuthError::BadEntry`], table unchanged, when `other` would switch between an open
    /// API (no tokens) and tokens: that changes the listen address and the browser checks,
    /// so it needs a restart.
    pub fn replace(&self, other: &Auth) -> Result<(), AuthError> {
        if other.is_enabled() != self.is_enabled() {
            return Err(AuthError::BadEntry(
                "switching between no tokens (open API, loopback only) and tokens needs a restart"
                    .into(),
            ));
        }
        let table: Vec<TokenEntry> = other.table().iter().chain(&self.kept).cloned().collect();
        *self.tokens.write().unwrap_or_else(|e| e.into_inner()) = table.into();
        Ok(())
    }

    /// Adds one token (the per-run admin token of [`crate::control`]).
    /// A later [`Auth::replace`] (SIGHUP) keeps it.
    pub fn with_token(mut self, entry: TokenEntry) -> Self {
        let mut table = self.table().to_vec();
        table.push(entry.clone());
        self.tokens = std::sync::RwLock::new(table.into());
        self.kept.push(entry);
        self
    }

    /// Parses `KOTAE_TOKENS`: comma-separated `ROLE:TOKEN` or `department:DEPARTMENT:TOKEN`.
    ///
    /// # Errors
    /// [`AuthError`] naming the entry (never the token).
    pub fn parse_env(s: &str) -> Result<Vec<TokenEntry>, AuthError> {
        let mut out = Vec::new();
        for (i, item) in s.split(',').map(str::trim).enumerate() {
            if item.is_empty() {
                continue;
            }
            let (head, token) = item
                .rsplit_once(':')
                .ok_or_else(|| AuthError::BadEntry(format!("entry {} is not ROLE:TOKEN", i + 1)))?;
            let (role, dept) = match head.split_once(':') {
                Some((r, d)) => (r, Some(d.trim().to_string())),
                None => (head, None),
            };
            out.push(TokenEntry::new(
                Role::from_config(role)?,
                dept,
                token.trim(),
            )?);
        }
        Ok(out)
    }

    /// Builds the token table of `serve`: `env` (the value of `KOTAE_TOKENS`) when set and
    /// not blank, else the file's `[[auth.tokens]]`.
    ///
    /// # Errors
    /// [`AuthError`] naming the source and entry (never the token).
    pub fn from_config(
        env: Option<&str>,
        file: &crate::config::FileConfig,
    ) -> Result<Self, AuthError> {
        if let Some(env) = env.filter(|e| !e.trim().is_empty()) {
            return Self::parse_env(env)
                .map(Self::new)
                .map_err(|e| AuthError::BadEntry(format!("KOTAE_TOKENS: {e}")));
        }
        let mut entries = Vec::new();
        let tokens = file
            .auth
            .as_ref()
            .map(|a| a.tokens.as_slice())
            .unwrap_or_default();
        for (i, t) in tokens.iter().enumerate() {
            let at =
                |e: AuthError| AuthError::BadEntry(format!("[[auth.tokens]] entry {}: {e}", i + 1));
            let role = Role::from_config(&t.role).map_err(at)?;
            let e = match (&t.token, &t.token_sha256) {
                (Some(tok), None) => TokenEntry::new(role, t.department.clone(), tok),
                (None, Some(h)) => {
                    parse_sha256(h).and_then(|h| TokenEntry::hashed(role, t.department.clone(), h))
                }
                _ => Err(AuthError::BadEntry(
                    "give exactly one of `token` and `token_sha256`".into(),
                )),
            }
            .map_err(at)?;
            entries.push(e);
        }
        Ok(Self::new(entries))
    }

    /// Returns the departments of the `department` tokens, as configured.
    pub fn departments(&self) -> Vec<String> {
        self.table()
            .iter()
            .filter_map(|t| t.department.clone())
            .collect()
    }

    /// Returns the number of tokens configured.
    pub fn token_count(&self) -> usize {
        self.table().len()
    }

    /// Returns how many tokens each role has (operator, department, manager, admin).
    pub fn role_counts(&self) -> [(Role, usize); 4] {
        let table = self.table();
        [Role::Operator, Role::Department, Role::Manager, Role::Admin]
            .map(|r| (r, table.iter().filter(|t| t.role == r).count()))
    }

    /// Returns whether any token is configured.
    pub fn is_enabled(&self) -> bool {
        !self.table().is_empty()
    }

    /// Returns the principal of `token`, comparing its hash with every entry in constant
    /// time.
    pub fn authenticate(&self, token: &str) -> Option<Principal> {
        let h = hash(token);
        let mut found = None;
        for e in self.table().iter() {
            if bool::from(e.sha256.ct_eq(&h)) && found.is_none() {
                found = Some(Principal {
                    role: e.role,
                    department: e.department.clone(),
                    token_id: Some(hex::encode(&e.sha256[..8])),
                });
            }
        }
        found
    }
}

/// Returns the roles allowed to call `method path`, or `None` for a public route.
///
/// Routes not listed: `GET` needs any valid token, other methods `admin`.
pub fn allowed_roles(method: &Method, path: &str) -> Option<&'static [Role]> {
    use Role::*;
    const ANY: &[Role] = &[Operator, Department, Manager, Admin];
    // The CMS webhook authenticates by its signature (crate::hooks), not by a token; the
    // login form and the pages' static files need none.
    if path == "/healthz" || path == "/api/hooks/cms" || crate::web::is_public(path) {
        return None;
    }
    let post = method == Method::POST;
    Some(
        if path == "/api/inquiries" || path.starts_with("/api/inquiries/") {
            &[Operator, Manager, Admin]
        } else if path.starts_with("/api/metrics")
            || path == "/api/pins"
            || path.starts_with("/api/pins/")
            || path.starts_with("/api/jobs")
            || path == "/api/status"
            || path == "/metrics"
            || path == "/dashboard"
            || path == "/api/promotions"
            || path.starts_with("/api/promotions/")
        {
            &[Manager, Admin]
        } else if path.starts_with("/api/escalations") {
            if post && path.ends_with("/promote") {
                &[Manager, Admin]
            } else if post && path.ends_with("/answer") {
                &[Department, Admin]
            } else {
                ANY
            }
        } else if path.starts_with("/api/materials/") && method != Method::GET {
            // Corrections and retirements (http/materials.rs).
            &[Manager, Admin]
        } else if path.starts_with("/api/search")
            || path.starts_with("/api/materials")
            || method == Method::GET
        {
            ANY
        } else {
            &[Admin]
        },
    )
}

/// Checks the bearer token against [`allowed_roles`] and adds the [`Principal`] to the
/// request; answers 401 or 403 with a JSON error otherwise.
pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let auth: Arc<Auth> = state.auth.clone();
    if !auth.is_enabled() {
        req.extensions_mut().insert(Principal::open_admin());
        return next.run(req).await;
    }
    let Some(roles) = allowed_roles(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    let bearer = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    // The pages' session cookie (HttpOnly, SameSite=Strict); a state-changing request
    // authenticated by it must come from kotae's own origin (cross-site request forgery).
    let token = match bearer {
        Some(t) => Some(t),
        None => match crate::web::session_token(req.headers()) {
            Some(_) if !crate::web::is_safe_or_same_origin(req.method(), req.headers()) => {
                return forbidden(
                    "a request authenticated by the session cookie must come from this origin",
                )
                .into_response();
            }
            t => t,
        },
    };
    let Some(principal) = token.and_then(|t| auth.authenticate(&t)) else {
        if let Some(r) = crate::web::login_redirect(req.method(), req.uri()) {
            return r;
        }
        return ApiError::new(ApiCode::Unauthorized, "a valid bearer token is required")
            .into_response();
    };
    // A department token names its department as the registry does (`国保医療課` →
    // `健康福祉部 国保医療課`), so it sees escalations made to either spelling.
    let mut principal = principal;
    if let Some(d) = &principal.department {
        principal.department = Some(
            state
                .registry()
                .resolve(d)
                .unwrap_or_else(|_| crate::departments::canonical(d)),
        );
    }
    if !roles.contains(&principal.role) {
        if let Some(r) = crate::web::forbidden_page(req.uri(), principal.role) {
            return r;
        }
        return forbidden(format!(
            "the {:?} role may not call {} {}",
            principal.role,
            req.method(),
            req.uri().path()
        ))
        .into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// A 403 with `message`.
pub fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(ApiCode::Forbidden, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_tokens_are_hashed_and_matched() {
        let entries = Auth::parse_env(
            "operator:op-token-0123456789, department:健康福祉部 国保医療課:dept-token-0123456789",
        )
        .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].sha256, hash("op-token-0123456789"));
        let auth = Auth::new(entries);
        assert_eq!(
            auth.authenticate("op-token-0123456789").unwrap().role,
            Role::Operator
        );
        let d = auth.authenticate("dept-token-0123456789").unwrap();
        assert_eq!(d.department.as_deref(), Some("健康福祉部 国保医療課"));
        assert!(d.may_handle("健康福祉部 国保医療課") && !d.may_handle("環境農林水産部"));
        assert!(auth.authenticate("op-token-012345678").is_none());
        assert!(auth.authenticate("").is_none());
    }

    #[test]
    fn bad_entries_are_refused_without_echoing_the_token() {
        let e = Auth::parse_env("root:secret-secret-secret").unwrap_err();
        assert_eq!(e, AuthError::UnknownRole("root".into()));
        let e = Auth::parse_env("department:secret-secret-secret")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret"), "{e}");
        assert!(Auth::parse_env("operator:short").is_err());
    }

    #[test]
    fn policy() {
        let r = |m: Method, p: &str| allowed_roles(&m, p);
        assert_eq!(r(Method::GET, "/healthz"), None);
        assert!(
            !r(Method::GET, "/api/metrics/escalations")
                .unwrap()
                .contains(&Role::Operator)
        );
        assert!(
            r(Method::POST, "/api/inquiries")
                .unwrap()
                .contains(&Role::Operator)
        );
        assert!(
            !r(Method::POST, "/api/inquiries")
                .unwrap()
                .contains(&Role::Department)
        );
        assert!(
            r(Method::POST, "/api/escalations/x/answer")
                .unwrap()
                .contains(&Role::Department)
        );
        assert!(
            !r(Method::POST, "/api/escalations/x/promote")
                .unwrap()
                .contains(&Role::Department)
        );
        for (m, path) in [
            (Method::GET, "/api/promotions"),
            (Method::GET, "/api/promotions/x"),
            (Method::PUT, "/api/promotions/x"),
            (Method::POST, "/api/promotions/x/publish"),
        ] {
            assert_eq!(
                r(m, path),
                Some(&[Role::Manager, Role::Admin][..]),
                "{path}"
            );
        }
        assert_eq!(r(Method::POST, "/api/unknown"), Some(&[Role::Admin][..]));
        assert_eq!(r(Method::POST, "/api/hooks/cms"), None);
        assert_eq!(
            r(Method::GET, "/api/jobs/x"),
            Some(&[Role::Manager, Role::Admin][..])
        );
        assert_eq!(
            r(Method::GET, "/api/status"),
            Some(&[Role::Manager, Role::Admin][..])
        );
    }
}
