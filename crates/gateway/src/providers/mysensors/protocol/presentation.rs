//! Sensor types a node presents (`S_*`, MySensors 2.x `mysensors_sensor_t`).

use super::table::code_table;

/// The `type` of a presentation frame. Unknown codes are kept as their number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SensorType(pub u8);

code_table!(SensorType, "S_", {
    /// Door sensor: V_TRIPPED, V_ARMED.
    S_DOOR = 0,
    S_MOTION = 1,
    S_SMOKE = 2,
    /// Binary light or relay: V_STATUS, V_WATT.
    S_BINARY = 3,
    S_DIMMER = 4,
    S_COVER = 5,
    S_TEMP = 6,
    S_HUM = 7,
    S_BARO = 8,
    S_WIND = 9,
    S_RAIN = 10,
    S_UV = 11,
    S_WEIGHT = 12,
    S_POWER = 13,
    S_HEATER = 14,
    S_DISTANCE = 15,
    S_LIGHT_LEVEL = 16,
    /// The node itself (child 255); the payload is its MySensors library version.
    S_ARDUINO_NODE = 17,
    /// A repeating node itself (child 255); the payload is its library version.
    S_ARDUINO_REPEATER_NODE = 18,
    S_LOCK = 19,
    S_IR = 20,
    S_WATER = 21,
    S_AIR_QUALITY = 22,
    S_CUSTOM = 23,
    S_DUST = 24,
    S_SCENE_CONTROLLER = 25,
    S_RGB_LIGHT = 26,
    S_RGBW_LIGHT = 27,
    S_COLOR_SENSOR = 28,
    S_HVAC = 29,
    S_MULTIMETER = 30,
    S_SPRINKLER = 31,
    S_WATER_LEAK = 32,
    S_SOUND = 33,
    S_VIBRATION = 34,
    S_MOISTURE = 35,
    S_INFO = 36,
    S_GAS = 37,
    S_GPS = 38,
    S_WATER_QUALITY = 39,
} aliases {
    S_LIGHT = S_BINARY,
    S_ARDUINO_RELAY = S_ARDUINO_REPEATER_NODE,
});

impl SensorType {
    /// Presentations of the node itself rather than of a child.
    pub fn is_node(self) -> bool {
        self == SensorType::S_ARDUINO_NODE || self == SensorType::S_ARDUINO_REPEATER_NODE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_dense_from_0_to_39() {
        let codes: Vec<u8> = SensorType::KNOWN.iter().map(|s| s.code()).collect();
        assert_eq!(codes, (0..=39).collect::<Vec<u8>>());
        assert_eq!(SensorType(39).name(), Some("S_WATER_QUALITY"));
        assert_eq!(SensorType(17).name(), Some("S_ARDUINO_NODE"));
    }

    #[test]
    fn aliases_and_unknown_codes_resolve() {
        assert_eq!(SensorType::from_name("S_LIGHT"), Some(SensorType::S_BINARY));
        assert_eq!(
            SensorType::from_name("S_ARDUINO_RELAY"),
            Some(SensorType(18))
        );
        assert_eq!(SensorType(200).to_string(), "S_UNKNOWN_200");
        assert_eq!(
            SensorType::from_name("S_UNKNOWN_200"),
            Some(SensorType(200))
        );
        assert_eq!(SensorType::from_name("S_NOPE"), None);
        assert!(SensorType::S_ARDUINO_REPEATER_NODE.is_node());
        assert!(!SensorType::S_TEMP.is_node());
    }
}
