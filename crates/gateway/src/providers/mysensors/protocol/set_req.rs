//! Value types of set and req frames (`V_*`, MySensors 2.x `mysensors_data_t`), each with the metric
//! type and unit a new field gets when a node first reports it.

use super::table::code_table;
use switchyard_core::model::MetricType;

/// The `type` of a set or req frame. Unknown codes are kept as their number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueType(pub u8);

code_table!(ValueType, "V_", {
    V_TEMP = 0,
    V_HUM = 1,
    /// Binary on/off: 1 = on, 0 = off.
    V_STATUS = 2,
    V_PERCENTAGE = 3,
    V_PRESSURE = 4,
    /// "stable", "sunny", "cloudy", "unstable", "thunderstorm" or "unknown".
    V_FORECAST = 5,
    V_RAIN = 6,
    V_RAINRATE = 7,
    V_WIND = 8,
    V_GUST = 9,
    /// Wind direction, 0-360 degrees.
    V_DIRECTION = 10,
    V_UV = 11,
    V_WEIGHT = 12,
    V_DISTANCE = 13,
    V_IMPEDANCE = 14,
    V_ARMED = 15,
    V_TRIPPED = 16,
    V_WATT = 17,
    /// Accumulated energy.
    V_KWH = 18,
    V_SCENE_ON = 19,
    V_SCENE_OFF = 20,
    /// "Off", "HeatOn", "CoolOn" or "AutoChangeOver".
    V_HVAC_FLOW_STATE = 21,
    /// "Min", "Normal", "Max" or "Auto".
    V_HVAC_SPEED = 22,
    /// Uncalibrated light level, 0-100 %.
    V_LIGHT_LEVEL = 23,
    V_VAR1 = 24,
    V_VAR2 = 25,
    V_VAR3 = 26,
    V_VAR4 = 27,
    V_VAR5 = 28,
    V_UP = 29,
    V_DOWN = 30,
    V_STOP = 31,
    V_IR_SEND = 32,
    V_IR_RECEIVE = 33,
    V_FLOW = 34,
    V_VOLUME = 35,
    V_LOCK_STATUS = 36,
    /// Dust, air quality, sound (dB), vibration (Hz) or light (lux): the unit depends on the sensor.
    V_LEVEL = 37,
    V_VOLTAGE = 38,
    V_CURRENT = 39,
    /// ASCII hex "RRGGBB".
    V_RGB = 40,
    /// ASCII hex "RRGGBBWW".
    V_RGBW = 41,
    V_ID = 42,
    /// A unit for the GUI (e.g. "cm"), not parsed by the controller.
    V_UNIT_PREFIX = 43,
    V_HVAC_SETPOINT_COOL = 44,
    V_HVAC_SETPOINT_HEAT = 45,
    /// "Auto", "ContinuousOn" or "PeriodicOn".
    V_HVAC_FLOW_MODE = 46,
    V_TEXT = 47,
    V_CUSTOM = 48,
    /// "latitude;longitude;altitude(m)", so the payload itself contains ';'.
    V_POSITION = 49,
    V_IR_RECORD = 50,
    V_PH = 51,
    /// Redox potential in mV.
    V_ORP = 52,
    /// Electric conductivity in µS/cm.
    V_EC = 53,
    /// Reactive power (var).
    V_VAR = 54,
    /// Apparent power (VA).
    V_VA = 55,
    /// Ratio of real to apparent power, -1..1.
    V_POWER_FACTOR = 56,
    /// Several values in one frame (MySensors development branch, after 2.3.2).
    V_MULTI_MESSAGE = 57,
    /// Cover tilt 0-100. Not in the MySensors core: defined by pymysensors (protocol 2.4) and used by
    /// Home Assistant sketches, so a node may send it.
    V_TILT = 58,
} aliases {
    V_LIGHT = V_STATUS,
    V_DIMMER = V_PERCENTAGE,
    V_HEATER = V_HVAC_FLOW_STATE,
    V_DUST_LEVEL = V_LEVEL,
});

/// How a field of this V_ type is recorded unless the user says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueMetric {
    pub metric_type: MetricType,
    pub unit: &'static str,
}

impl ValueType {
    /// Defaults follow MyController's table, corrected where it mislabels text as numbers
    /// (HVAC modes are words) and with the units the MySensors header states. Units the header
    /// leaves open (pressure, distance, V_LEVEL…) stay empty rather than guessed. Unknown codes
    /// are recorded raw (`none`), as V_CUSTOM is.
    pub fn metric(self) -> ValueMetric {
        use MetricType::*;
        let (metric_type, unit) = match self {
            ValueType::V_TEMP => (GaugeFloat, "°C"),
            ValueType::V_HUM | ValueType::V_PERCENTAGE | ValueType::V_LIGHT_LEVEL => {
                (GaugeFloat, "%")
            }
            ValueType::V_TILT => (GaugeFloat, "%"),
            ValueType::V_DIRECTION => (GaugeFloat, "°"),
            ValueType::V_WATT => (GaugeFloat, "W"),
            ValueType::V_KWH => (GaugeFloat, "kWh"),
            ValueType::V_VOLTAGE => (GaugeFloat, "V"),
            ValueType::V_CURRENT => (GaugeFloat, "A"),
            ValueType::V_IMPEDANCE => (GaugeFloat, "Ω"),
            ValueType::V_ORP => (GaugeFloat, "mV"),
            ValueType::V_EC => (GaugeFloat, "µS/cm"),
            ValueType::V_VAR => (GaugeFloat, "var"),
            ValueType::V_VA => (GaugeFloat, "VA"),
            ValueType::V_PRESSURE
            | ValueType::V_RAIN
            | ValueType::V_RAINRATE
            | ValueType::V_WIND
            | ValueType::V_GUST
            | ValueType::V_UV
            | ValueType::V_WEIGHT
            | ValueType::V_DISTANCE
            | ValueType::V_FLOW
            | ValueType::V_VOLUME
            | ValueType::V_LEVEL
            | ValueType::V_HVAC_SETPOINT_COOL
            | ValueType::V_HVAC_SETPOINT_HEAT
            | ValueType::V_PH
            | ValueType::V_POWER_FACTOR => (GaugeFloat, ""),
            ValueType::V_STATUS
            | ValueType::V_ARMED
            | ValueType::V_TRIPPED
            | ValueType::V_LOCK_STATUS
            | ValueType::V_UP
            | ValueType::V_DOWN
            | ValueType::V_STOP => (Binary, ""),
            ValueType::V_FORECAST
            | ValueType::V_HVAC_FLOW_STATE
            | ValueType::V_HVAC_SPEED
            | ValueType::V_HVAC_FLOW_MODE
            | ValueType::V_TEXT => (String, ""),
            ValueType::V_POSITION => (Geo, ""),
            _ => (None, ""),
        };
        ValueMetric { metric_type, unit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_dense_from_0_to_58() {
        let codes: Vec<u8> = ValueType::KNOWN.iter().map(|v| v.code()).collect();
        assert_eq!(codes, (0..=58).collect::<Vec<u8>>());
        assert_eq!(ValueType(47).name(), Some("V_TEXT"));
        assert_eq!(ValueType(56).name(), Some("V_POWER_FACTOR"));
    }

    #[test]
    fn defaults_match_what_a_user_expects() {
        let m = |v: ValueType| (v.metric().metric_type, v.metric().unit);
        assert_eq!(m(ValueType::V_TEMP), (MetricType::GaugeFloat, "°C"));
        assert_eq!(m(ValueType::V_HUM), (MetricType::GaugeFloat, "%"));
        assert_eq!(m(ValueType::V_STATUS), (MetricType::Binary, ""));
        assert_eq!(m(ValueType::V_TRIPPED), (MetricType::Binary, ""));
        assert_eq!(m(ValueType::V_LOCK_STATUS), (MetricType::Binary, ""));
        assert_eq!(m(ValueType::V_VOLTAGE), (MetricType::GaugeFloat, "V"));
        assert_eq!(m(ValueType::V_CURRENT), (MetricType::GaugeFloat, "A"));
        assert_eq!(m(ValueType::V_WATT), (MetricType::GaugeFloat, "W"));
        assert_eq!(m(ValueType::V_KWH), (MetricType::GaugeFloat, "kWh"));
        assert_eq!(m(ValueType::V_TEXT), (MetricType::String, ""));
        assert_eq!(m(ValueType::V_POSITION), (MetricType::Geo, ""));
        assert_eq!(m(ValueType::V_VAR1), (MetricType::None, ""));
        assert_eq!(m(ValueType(200)), (MetricType::None, ""));
    }

    #[test]
    fn deprecated_names_resolve() {
        assert_eq!(ValueType::from_name("V_LIGHT"), Some(ValueType::V_STATUS));
        assert_eq!(
            ValueType::from_name("V_DIMMER"),
            Some(ValueType::V_PERCENTAGE)
        );
        assert_eq!(ValueType::from_name("V_HEATER"), Some(ValueType(21)));
        assert_eq!(ValueType::from_name("V_DUST_LEVEL"), Some(ValueType(37)));
        assert_eq!(ValueType::from_name("V_UNKNOWN_77"), Some(ValueType(77)));
        assert_eq!(ValueType::from_name("V_UNKNOWN_x"), None);
        assert_eq!(ValueType::from_name("V_UNKNOWN_999"), None);
    }
}
