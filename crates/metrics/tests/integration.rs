//! The metric backends through the `MetricStore` trait, on real files in a temp directory.

mod embedded;
mod none_backend;
mod support;
