//! One file per page.

pub mod api_definition;
pub mod api_docs;
pub mod catalog;
pub mod clusters;
pub mod entity;
pub mod entity_kinds;
pub mod help;
pub mod kubernetes;
pub mod not_found;
pub mod problems;
pub mod register;
pub mod search;
