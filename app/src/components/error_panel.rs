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

/// A failed server call in plain words: the server's own message (it names the cluster, file
/// or permission) without the framework's "error running server function" wrapping; a network
/// failure or an unreadable answer as what the reader can do about it.
pub fn plain_error(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(message) => message.clone(),
        ServerFnError::Request(_) => {
            "The portal could not be reached: check the connection, then try again.".to_string()
        }
        ServerFnError::Response(_) | ServerFnError::Deserialization(_) => {
            "The portal's answer could not be read: reload the page (the portal may have been updated)."
                .to_string()
        }
        other => other.to_string(),
    }
}
