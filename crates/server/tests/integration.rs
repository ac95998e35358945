//! The real `switchyard` binary, started as a user would.

mod api_auth;
mod api_backup;
mod api_roles;
mod api_ws;
mod automation;
mod cli;
mod crash;
#[cfg(feature = "bus-nats")]
mod distributed;
mod esphome;
mod faults_disk;
mod faults_load;
mod faults_mqtt;
mod faults_postgres;
mod hue;
mod mysensors;
mod postgres;
mod providers_generic;
mod providers_sysmon;
mod providers_tasmota;
mod security;
mod server;
mod shutdown;
mod support;
