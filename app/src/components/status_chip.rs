//! A status chip: text first, colour as a second signal.

use leptos::prelude::*;

/// A chip with a label and a severity (`ok`, `warning`, `error`).
#[component]
pub fn StatusChip(
    /// What it says.
    label: String,
    /// `ok`, `warning` or `error`.
    severity: String,
    /// Extra context for screen readers and hover (e.g. the container name).
    #[prop(optional, into)]
    title: Option<String>,
) -> impl IntoView {
    let class = format!("chip status-{severity}");
    view! { <span class=class title=title>{label}</span> }
}
