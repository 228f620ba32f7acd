/// A closed vocabulary: a `snake_case` enum with its wire names, the full
/// list (for error messages and filter validation) and `as_str`.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
        }

        // Written out rather than derived: the derive does not see a
        // `serde(rename)` whose value is a macro fragment.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::NAMES.iter().copied()))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Parses a wire name, naming `field` and the accepted values on failure.
            pub fn parse(s: &str, field: &str) -> $crate::Result<Self> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    other => Err($crate::Error::invalid(
                        field,
                        format!("unknown value `{}`; expected one of {}", other, Self::NAMES.join(", ")),
                    )),
                }
            }
        }
    };
}
