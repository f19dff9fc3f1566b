//! Small presentational components shared by the pages.

pub mod entity_link;
pub mod entity_table;
pub mod error_panel;
pub mod gauge;
pub mod health_chip;
pub mod layout;
pub mod relations_graph;
pub mod safe_url;
pub mod status_chip;
pub mod tabs;
