//! A health chip (Healthy / Degraded / Failing / Unknown): a symbol and the word, never colour
//! alone; the reason as a tooltip and, for screen readers, as visually hidden text.

use leptos::prelude::*;

use crate::wire::kubernetes::HealthState;

fn symbol(state: HealthState) -> &'static str {
    match state {
        HealthState::Healthy => "✓",
        HealthState::Degraded => "!",
        HealthState::Failing => "✕",
        HealthState::Unknown => "?",
    }
}

/// The chip for `state`, explained by `reason`.
#[component]
pub fn HealthChip(state: HealthState, reason: String) -> impl IntoView {
    let class = format!("chip health-{}", state.label().to_lowercase());
    view! {
        <span class=class title=reason.clone()>
            <span aria-hidden="true">{symbol(state)}" "</span>{state.label()}
        </span>
        <span class="visually-hidden">{format!(": {reason}")}</span>
    }
}
