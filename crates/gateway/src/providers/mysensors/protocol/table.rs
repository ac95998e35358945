//! The MySensors type tables are facts (name ↔ code). One macro writes them so that each table file
//! is just the table; a duplicate code is an unreachable match arm, which `-D warnings` rejects.

/// Defines the associated constants of a `pub struct $ty(pub u8)` newtype, plus `KNOWN`, `name`,
/// `from_name`, `Display` and `Debug`. Codes outside the table stay representable: a device's
/// unknown type is kept as its number and shown as `<prefix>UNKNOWN_<code>`.
macro_rules! code_table {
    (
        $ty:ident, $prefix:literal,
        { $( $(#[$doc:meta])* $name:ident = $code:literal, )+ }
        aliases { $( $alias:ident = $target:ident, )* }
    ) => {
        #[allow(non_upper_case_globals)]
        impl $ty {
            $( $(#[$doc])* pub const $name: $ty = $ty($code); )+
            $( #[doc = concat!("Deprecated alias of [`", stringify!($target), "`](Self::", stringify!($target), ").")]
               pub const $alias: $ty = $ty::$target; )*

            /// Every type of the table, in code order.
            pub const KNOWN: &'static [$ty] = &[$($ty::$name),+];

            pub const fn code(self) -> u8 {
                self.0
            }

            /// The official name, `None` for a code the table does not know.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $code => Some(stringify!($name)), )+
                    _ => None,
                }
            }

            /// Resolves an official or deprecated name, or the `<prefix>UNKNOWN_<code>` form.
            pub fn from_name(name: &str) -> Option<$ty> {
                match name {
                    $( stringify!($name) => Some($ty::$name), )+
                    $( stringify!($alias) => Some($ty::$target), )*
                    other => other
                        .strip_prefix(concat!($prefix, "UNKNOWN_"))
                        .filter(|code| code.bytes().all(|b| b.is_ascii_digit()))
                        .and_then(|code| code.parse().ok())
                        .map($ty),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, concat!($prefix, "UNKNOWN_{}"), self.0),
                }
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", self, self.0)
            }
        }
    };
}

pub(crate) use code_table;
