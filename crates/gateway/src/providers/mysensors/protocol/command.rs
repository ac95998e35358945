//! The command field: what kind of frame this is (`C_*` in `MyMessage.h`).

/// MySensors 2.x commands. Codes 5..=7 are reserved/invalid in the core and rejected by the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// A node describing itself or one of its children (`S_*` types).
    Presentation,
    /// A value (`V_*` types), reported by a node or sent to it.
    Set,
    /// A node asking for a value (`V_*` types).
    Req,
    /// Network and node housekeeping (`I_*` types).
    Internal,
    /// Firmware and other binary data in hex (`ST_*` types).
    Stream,
}

impl Command {
    pub const ALL: [Command; 5] = [
        Command::Presentation,
        Command::Set,
        Command::Req,
        Command::Internal,
        Command::Stream,
    ];

    pub const fn code(self) -> u8 {
        match self {
            Command::Presentation => 0,
            Command::Set => 1,
            Command::Req => 2,
            Command::Internal => 3,
            Command::Stream => 4,
        }
    }

    pub const fn from_code(code: u8) -> Option<Command> {
        match code {
            0 => Some(Command::Presentation),
            1 => Some(Command::Set),
            2 => Some(Command::Req),
            3 => Some(Command::Internal),
            4 => Some(Command::Stream),
            _ => None,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Command::Presentation => "C_PRESENTATION",
            Command::Set => "C_SET",
            Command::Req => "C_REQ",
            Command::Internal => "C_INTERNAL",
            Command::Stream => "C_STREAM",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_reserved_codes_are_unknown() {
        for (i, c) in Command::ALL.into_iter().enumerate() {
            assert_eq!(c.code() as usize, i);
            assert_eq!(Command::from_code(c.code()), Some(c));
        }
        for code in 5..=255 {
            assert_eq!(Command::from_code(code), None);
        }
        assert_eq!(Command::Stream.name(), "C_STREAM");
    }
}
