//! Query-string parameters: parsed once into [`Params`], read with typed helpers that
//! answer 400 with the parameter's name and the accepted values.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::error::{ApiCode, ApiError};
use crate::wire::WireEnum;

/// The parameters of one query string; a parameter given twice is refused.
#[derive(Debug, Clone, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses a raw query string (`None`: no parameters).
    ///
    /// `application/x-www-form-urlencoded` as the WHATWG URL standard reads it (`+` is a
    /// space, `%XX` a byte), except that bytes that are not UTF-8 are refused rather than
    /// replaced by U+FFFD: a query of replacement characters is not what the caller asked.
    ///
    /// # Errors
    /// [`ApiCode::BadParameter`] when a parameter is given more than once or a name or
    /// value is not UTF-8 once decoded.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut out = HashMap::new();
        let decode = |s: &str| -> Result<String, ApiError> {
            let plus = s.replace('+', " ");
            percent_encoding::percent_decode_str(&plus)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| {
                    ApiError::new(
                        ApiCode::BadParameter,
                        "a query parameter is not UTF-8 once percent-decoded",
                    )
                })
        };
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (decode(k)?, decode(v)?);
            if out.insert(k.clone(), v).is_some() {
                return Err(ApiError::new(
                    ApiCode::BadParameter,
                    format!("parameter `{k}` given more than once"),
                ));
            }
        }
        Ok(Self(out))
    }

    /// The raw value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value of `name` unless absent or empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Parses the enum parameter `name`; absent or empty is `None`.
    ///
    /// # Errors
    /// `code` with a message listing the accepted values.
    pub fn wire<T: WireEnum>(&self, name: &str, code: ApiCode) -> Result<Option<T>, ApiError> {
        self.non_empty(name)
            .map(|v| wire_value(v, name, code))
            .transpose()
    }

    /// Parses the non-negative integer `name`, `default` when absent.
    ///
    /// # Errors
    /// [`ApiCode::BadParameter`].
    pub fn number(&self, name: &str, default: usize) -> Result<usize, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| {
                ApiError::new(
                    ApiCode::BadParameter,
                    format!("`{name}` must be a non-negative integer, got {v:?}"),
                )
            }),
        }
    }

    /// Parses `limit` (1..=`max`), `default` when absent.
    ///
    /// # Errors
    /// [`ApiCode::BadLimit`].
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.get("limit") {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    // The wording of `search::RequestError::BadLimit`.
                    ApiError::new(
                        ApiCode::BadLimit,
                        format!("`limit` must be between 1 and {max}, got {v}"),
                    )
                }),
        }
    }

    /// Parses the JST date `name` (`YYYY-MM-DD`); absent or empty is `None`.
    ///
    /// # Errors
    /// [`ApiCode::BadDate`].
    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        match self.get(name).map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    ApiError::new(
                        ApiCode::BadDate,
                        format!("`{name}` must be a JST date YYYY-MM-DD, got {s:?}"),
                    )
                }),
        }
    }
}

/// Parses `value` of the field or parameter `name` as a `T`.
///
/// # Errors
/// `code` with a message listing the accepted values.
pub fn wire_value<T: WireEnum>(value: &str, name: &str, code: ApiCode) -> Result<T, ApiError> {
    T::parse(value).ok_or_else(|| {
        ApiError::new(
            code,
            format!("unknown {name} {value:?}: use {}", T::choices()),
        )
    })
}

/// Like [`wire_value`] for a required field: absent or blank is `code` too.
///
/// # Errors
/// `code` with a message listing the accepted values.
pub fn required_wire<T: WireEnum>(
    value: Option<&str>,
    name: &str,
    code: ApiCode,
) -> Result<T, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Err(ApiError::new(
            code,
            format!("`{name}` is required: {}", T::choices()),
        )),
        Some(v) => wire_value(v, name, code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::material::MaterialKind;

    #[test]
    fn query_strings_decode_strictly() {
        let p =
            Params::parse(Some("q=%E5%9B%BD%E4%BF%9D+%E8%84%B1%E9%80%80&limit=3&flag")).unwrap();
        assert_eq!(p.get("q"), Some("国保 脱退"));
        assert_eq!(p.get("limit"), Some("3"));
        assert_eq!(p.get("flag"), Some(""));
        assert_eq!(
            Params::parse(Some("a=%2B%26")).unwrap().get("a"),
            Some("+&")
        );
        for bad in ["q=%FF", "q=%E5%9B", "%C0%AF=1"] {
            let e = Params::parse(Some(bad)).unwrap_err();
            assert_eq!(e.code(), ApiCode::BadParameter, "{bad}");
        }
        let e = Params::parse(Some("q=a&q=b")).unwrap_err();
        assert_eq!(e.code(), ApiCode::BadParameter);
    }

    #[test]
    fn typed_reads_name_the_parameter() {
        let p = Params::parse(Some("kind=pdf&limit=0&from=2026-13-01&n=x")).unwrap();
        let e = p
            .wire::<MaterialKind>("kind", ApiCode::BadKind)
            .unwrap_err();
        assert_eq!(e.code(), ApiCode::BadKind);
        assert_eq!(
            e.message(),
            "unknown kind \"pdf\": use faq, page or contact"
        );
        assert_eq!(p.limit(10, 100).unwrap_err().code(), ApiCode::BadLimit);
        assert_eq!(p.date("from").unwrap_err().code(), ApiCode::BadDate);
        assert_eq!(p.number("n", 0).unwrap_err().code(), ApiCode::BadParameter);
        assert_eq!(p.number("absent", 7).unwrap(), 7);
        let p = Params::parse(Some("kind=page&limit=100")).unwrap();
        assert_eq!(
            p.wire::<MaterialKind>("kind", ApiCode::BadKind).unwrap(),
            Some(MaterialKind::Page)
        );
        assert_eq!(p.limit(10, 100).unwrap(), 100);
        assert_eq!(
            Params::parse(Some("q=a&q=b")).unwrap_err().code(),
            ApiCode::BadParameter
        );
    }
}
