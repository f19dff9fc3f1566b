//! A small usage gauge: "85% of limit" as text plus a bar.

use leptos::prelude::*;

use crate::wire::kubernetes::Usage;

/// CPU or memory use against request and limit.
#[component]
pub fn Gauge(
    /// The usage; `None` renders a dash.
    usage: Option<Usage>,
) -> impl IntoView {
    let Some(u) = usage else {
        return view! { <span class="muted" title="no metrics">"—"</span> }.into_any();
    };
    let pct = u.of_limit.or(u.of_request).unwrap_or(0);
    let level = if pct >= 100 {
        "over"
    } else if pct >= 85 {
        "high"
    } else {
        "ok"
    };
    let text = match (u.of_request, u.of_limit) {
        (Some(r), Some(l)) => format!("{r}% of request, {l}% of limit"),
        (Some(r), None) => format!("{r}% of request"),
        (None, Some(l)) => format!("{l}% of limit"),
        (None, None) => String::new(),
    };
    let width = format!("width: {}%", pct.min(100));
    view! {
        <span class=format!("gauge {level}") title=format!("{} ({})", u.used, u.bounds)>
            <span class="gauge-value">{u.used.clone()}</span>
            <span class="gauge-bar" aria-hidden="true"><span style=width></span></span>
            <span class="gauge-text">{text}</span>
        </span>
    }
    .into_any()
}
