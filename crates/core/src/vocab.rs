/// A closed vocabulary: a `snake_case` enum with its wire names, the full
/// list (for error messages and filter validation) and `as_str`.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
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
