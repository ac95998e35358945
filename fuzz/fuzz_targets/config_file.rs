//! Any configuration file and `SWITCHYARD__…` environment: text before the first NUL byte is the
//! YAML file, each line after it one `KEY=value` variable. Loading never panics; a configuration
//! that loads either gives the API settings or says which duration is wrong.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_server::config::parse;

fuzz_target!(|data: &[u8]| {
    let (file, env) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(file) = std::str::from_utf8(file) else {
        return;
    };
    let env = String::from_utf8_lossy(env);
    let vars = env.lines().filter_map(|l| {
        l.split_once('=')
            .map(|(k, v)| (format!("SWITCHYARD__{k}"), v.to_string()))
    });
    if let Ok(config) = parse(Some(file), "fuzz.yaml", vars) {
        let _ = config.api_config();
    }
});
