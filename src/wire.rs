//! Wire names of the enums spoken by the API, the configuration and the stores.
//!
//! [`wire_enum!`](crate::wire_enum) declares an enum together with its wire names, so that
//! serde, [`WireEnum::as_str`] and [`WireEnum::parse`] read one list: a name cannot be spelt
//! one way in JSON and another in a query parameter or a database column. A leaf module: it
//! imports nothing from the crate.

/// An enum whose values have stable lowercase names on the wire.
pub trait WireEnum: Sized + Copy + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// The wire name of every value, in declaration order.
    const NAMES: &'static [&'static str];

    /// Returns the wire name.
    fn as_str(self) -> &'static str;

    /// Parses a wire name; `None` for anything else (case-sensitive, no trimming).
    fn parse(s: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| Self::ALL[i])
    }

    /// The accepted names as prose: `faq, page or contact`.
    fn choices() -> String {
        match Self::NAMES.split_last() {
            None => String::new(),
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }
}

/// Declares an enum with its wire names: `Variant = "name"`. The enum gets serde's
/// `Serialize`/`Deserialize` under those names, `utoipa::ToSchema` (a string enum of the
/// names, for `/api/openapi.json`; written by hand, as utoipa's derive cannot read a
/// `rename` a macro passes on), [`WireEnum`](crate::wire::WireEnum), and
/// inherent `as_str`, `parse` and `ALL` (so callers need not import the trait).
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($wire),+].len()] = [$(Self::$variant),+];

            /// Returns the wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// Parses a wire name; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl $crate::wire::WireEnum for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            const NAMES: &'static [&'static str] = &[$($wire),+];

            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }

            fn parse(s: &str) -> Option<Self> {
                $name::parse(s)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(
                    utoipa::openapi::schema::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::String)
                        .enum_values(Some([$($wire),+]))
                        .build(),
                ))
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($name::as_str(*self))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::WireEnum;

    crate::wire_enum! {
        /// A test enum.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Colour {
            /// Red.
            Red = "red",
            /// Dark blue.
            DarkBlue = "dark_blue",
            /// Green.
            Green = "green",
        }
    }

    #[test]
    fn serde_parse_and_as_str_agree() {
        for c in Colour::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Colour>(&json).unwrap(), c);
            assert_eq!(Colour::parse(c.as_str()), Some(c));
            assert_eq!(<Colour as WireEnum>::parse(&c.to_string()), Some(c));
        }
        assert_eq!(Colour::parse("DarkBlue"), None);
        assert_eq!(Colour::parse("red "), None);
        assert_eq!(Colour::choices(), "red, dark_blue or green");
    }
}
