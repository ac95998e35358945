//! `service.<name>.<command>` messages: a JSON array of ids (empty or absent: all).
//! Commands: `reload` (read again from storage and restart), `stop` (stop running, until the next
//! reload or change), `start` (same as reload), `reload_all`/`loadAll` (everything).

use switchyard_core::bus::BusMessage;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Reload(Vec<String>),
    Stop(Vec<String>),
    ReloadAll,
}

pub fn parse(msg: &BusMessage) -> Option<Command> {
    let command = msg.subject.rsplit('.').next()?;
    let ids: Vec<String> = if msg.payload.is_empty() {
        Vec::new()
    } else {
        match msg.json::<Vec<String>>() {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(subject = %msg.subject, error = %e, "service command: expected a JSON array of ids");
                return None;
            }
        }
    };
    match command.to_ascii_lowercase().as_str() {
        "reload" | "start" | "add" | "enable" if !ids.is_empty() => Some(Command::Reload(ids)),
        "reload" | "start" | "reload_all" | "loadall" | "load_all" => Some(Command::ReloadAll),
        "stop" | "remove" | "unload" if !ids.is_empty() => Some(Command::Stop(ids)),
        other => {
            tracing::warn!(command = other, "unknown service command");
            None
        }
    }
}
