use thiserror::Error;

/// Why a script did not give a result. The message is what the user sees on the resource's state.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ScriptError {
    #[error("script stopped: it ran longer than {0:?}")]
    Timeout(std::time::Duration),
    #[error("script stopped: it used more than {0} bytes of memory")]
    Memory(usize),
    #[error("script error: {0}")]
    Exception(String),
    #[error("script result: {0}")]
    Result(String),
    #[error("script engine: {0}")]
    Engine(String),
}

/// Why a template did not render.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TemplateError {
    #[error("template does not compile: {0}")]
    Syntax(String),
    #[error("template failed: {0}")]
    Render(String),
}

impl From<minijinja::Error> for TemplateError {
    fn from(e: minijinja::Error) -> Self {
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            source = s.source();
        }
        match e.kind() {
            minijinja::ErrorKind::SyntaxError => TemplateError::Syntax(msg),
            _ => TemplateError::Render(msg),
        }
    }
}
