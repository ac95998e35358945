//! Any body a client may POST to `/api/<resource>` (the first byte picks the resource) or send
//! as an id list (DELETE, enable, disable, reload): checking never panics, and a body that is
//! accepted is stored with a valid id and is accepted again when sent back as it was stored.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_api::{RESOURCES, check_resource_body, parse_ids};
use switchyard_core::quick_id::validate_id_segment;
use switchyard_core::storage::document_id;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let spec = &RESOURCES[usize::from(selector) % RESOURCES.len()];
    if let Ok(doc) = check_resource_body(spec, body) {
        let id = document_id(&doc).expect("an accepted resource has an id");
        for part in id.split('.') {
            assert!(validate_id_segment(part).is_ok(), "id `{id}` of {doc}");
        }
        let again = serde_json::to_vec(&doc).expect("a stored document serialises");
        let doc2 = check_resource_body(spec, &again)
            .unwrap_or_else(|e| panic!("{} refused what it stored: {e:?}\n{doc}", spec.path));
        assert_eq!(document_id(&doc2).ok(), Some(id));
    }
    if let Ok(ids) = parse_ids(body) {
        assert!(ids.len() <= switchyard_api::MAX_IDS);
    }
});
