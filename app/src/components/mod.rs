//! Small presentational components shared by the pages.

pub mod layout;
pub mod tabs;
