//! The crate error type.

use crate::analysis::AnalysisError;
use crate::corpus::CorpusError;
use crate::index::IndexError;
use crate::material::MaterialError;
use crate::search::RequestError;

/// Any error of the kotae library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Dictionary loading failed.
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    /// The corpus store failed.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// A material is invalid.
    #[error(transparent)]
    Material(#[from] MaterialError),
    /// A search request is invalid.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Bad input (a file, a parameter) with a message for the user.
    #[error("{0}")]
    Invalid(String),
    /// Something was not found.
    #[error("{0}")]
    NotFound(String),
    /// An I/O error with context.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl From<tantivy::TantivyError> for Error {
    fn from(e: tantivy::TantivyError) -> Self {
        Error::Index(IndexError::Tantivy(e))
    }
}

/// Result with the crate [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
