use super::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct WidgetLayout {
    pub w: u32,
    pub h: u32,
    pub x: u32,
    pub y: u32,
}

/// A widget on a dashboard; `config` belongs to the console and is kept as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Widget {
    pub id: String,
    pub title: String,
    pub show_title: bool,
    pub scrollbar_disabled: bool,
    #[serde(rename = "static")]
    pub is_static: bool,
    #[serde(rename = "type")]
    pub widget_type: String,
    pub layout: WidgetLayout,
    pub config: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Dashboard {
    pub id: String,
    #[serde(rename = "type")]
    pub dashboard_type: String,
    pub title: String,
    pub description: String,
    pub favorite: bool,
    pub disabled: bool,
    pub labels: Labels,
    pub widgets: Vec<Widget>,
    pub modified_on: Option<DateTime<Utc>>,
}
