//! One file per page.

pub mod catalog;
pub mod entity;
pub mod help;
pub mod kubernetes;
pub mod not_found;
pub mod problems;
pub mod register;
