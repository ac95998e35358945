use chrono::{TimeZone, Utc};
use serde_json::json;
use switchyard_script::sun::Location;
use switchyard_script::{TemplateError, Templates};

fn london() -> Templates {
    let now = Utc.with_ymd_and_hms(2024, 6, 21, 10, 0, 0).unwrap();
    Templates::new(
        chrono_tz::Europe::London,
        Some(Location {
            latitude: 51.5074,
            longitude: -0.1278,
        }),
        move || now,
    )
}

#[test]
fn renders_resources_by_json_names_and_helpers() {
    let t = london();
    let data =
        json!({"temp": {"current": {"value": 21.5}, "labels": {"room": "hall"}}, "on": true});
    assert_eq!(
        t.render("{{ temp.current.value }} in {{ temp.labels.room }}", &data)
            .unwrap(),
        "21.5 in hall"
    );
    assert_eq!(t.render("{{ now('%H:%M') }}", &data).unwrap(), "11:00");
    assert_eq!(
        t.render(
            "{{ formatTime('2024-06-21T10:00:00Z', '%d.%m.%Y %H:%M') }}",
            &data
        )
        .unwrap(),
        "21.06.2024 11:00"
    );
    assert_eq!(
        t.render("{{ toJson(temp.current) }}", &data).unwrap(),
        r#"{"value":21.5}"#
    );
    assert_eq!(
        t.render("{{ keyPath(temp, 'Current.Value') }}", &data)
            .unwrap(),
        "21.5"
    );
    assert_eq!(
        t.render("{{ ternary(on, 'ON', 'OFF') }}", &data).unwrap(),
        "ON"
    );
    assert_eq!(t.render("plain text", &data).unwrap(), "plain text");
    let v = t
        .render_value(&json!({"a": ["{{ on }}", 3], "b": "x"}), &data)
        .unwrap();
    assert_eq!(v, json!({"a": ["true", 3], "b": "x"}));
}

/// Published almanac (HM Nautical Almanac Office / timeanddate.com) for London on 2024-06-21:
/// sunrise 04:43 BST, sunset 21:21 BST.
#[test]
fn sunrise_and_sunset_match_the_almanac_within_a_minute() {
    let t = london();
    let minutes = |s: &str| {
        let dt = chrono::DateTime::parse_from_rfc3339(s).unwrap();
        use chrono::Timelike;
        (dt.hour() * 60 + dt.minute()) as i64 * 60 + dt.second() as i64
    };
    let rise = t.render("{{ sunrise() }}", &json!({})).unwrap();
    let set = t.render("{{ sunset('2024-06-21') }}", &json!({})).unwrap();
    assert!(
        (minutes(&rise) - (4 * 3600 + 43 * 60)).abs() <= 90,
        "{rise}"
    );
    assert!((minutes(&set) - (21 * 3600 + 21 * 60)).abs() <= 90, "{set}");
}

#[test]
fn bad_templates_give_clear_errors() {
    let t = london();
    let err = t.render("{{ temp.current.value ", &json!({})).unwrap_err();
    assert!(matches!(err, TemplateError::Syntax(_)), "{err}");
    assert!(t.check("{% if %}").is_err());
    let err = t
        .render(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            &json!({}),
        )
        .unwrap_err();
    assert!(
        matches!(err, TemplateError::Render(ref m) if m.contains("fuel")),
        "{err}"
    );
    let no_location = Templates::plain();
    assert!(no_location.render("{{ sunrise() }}", &json!({})).is_err());
}
