//! Logging macros that compile to defmt, to the `log` crate, or to nothing.
//!
//! The firmware logs with defmt (cheap on flash, decoded on the host), the TAP build
//! through `log` to stderr, and a build with neither pays nothing. Format strings must
//! therefore use only `{}` placeholders, which both back ends understand, with arguments
//! that implement both `Display` and `defmt::Format`.

macro_rules! info {
    ($s:literal $(, $x:expr)* $(,)?) => {{
        #[cfg(feature = "defmt")]
        ::defmt::info!($s $(, $x)*);
        #[cfg(all(feature = "log", not(feature = "defmt")))]
        ::log::info!($s $(, $x)*);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        let _ = ($( & $x ),*);
    }};
}

macro_rules! debug {
    ($s:literal $(, $x:expr)* $(,)?) => {{
        #[cfg(feature = "defmt")]
        ::defmt::debug!($s $(, $x)*);
        #[cfg(all(feature = "log", not(feature = "defmt")))]
        ::log::debug!($s $(, $x)*);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        let _ = ($( & $x ),*);
    }};
}

pub(crate) use {debug, info};
