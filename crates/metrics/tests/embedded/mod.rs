mod aggregation;
mod buffer_bound;
mod disk_full;
mod lifecycle;
mod raw;
mod retention;
