mod aggregation;
mod buffer_bound;
mod lifecycle;
mod raw;
mod retention;
