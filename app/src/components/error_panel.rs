//! A visible error message: what failed and why, never a blank area.

use leptos::prelude::*;

/// An error box with a title and the detailed message.
#[component]
pub fn ErrorPanel(title: &'static str, message: String) -> impl IntoView {
    view! {
        <div class="error-panel" role="alert">
            <strong>{title}</strong>
            <p>{message}</p>
        </div>
    }
}
