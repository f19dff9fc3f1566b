//! One file per page.

pub mod catalog;
pub mod entity;
pub mod not_found;
pub mod problems;
