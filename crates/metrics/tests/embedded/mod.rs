mod aggregation;
mod buffer_bound;
mod disk_full;
mod history;
mod lifecycle;
mod raw;
mod retention;
