//! `/help/kubernetes`: the README's Kubernetes section, in the portal (linked from the
//! Kubernetes tab's "missing annotation" and "nothing found" states).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::backend::get_help;
use crate::pages::not_found::NotFound;

#[component]
pub fn HelpPage() -> impl IntoView {
    let params = use_params_map();
    let topic = Memo::new(move |_| params.with(|p| p.get("topic").unwrap_or_default()));
    let text = crate::page_data::page_data(move || topic.get(), get_help);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match text.await {
                    Ok(Some(t)) => view! {
                        <Title text="Help"/>
                        <article class="page help">
                            <p class="muted">"From Greenroom's README:"</p>
                            <pre class="readme">{t}</pre>
                        </article>
                    }.into_any(),
                    _ => view! { <NotFound/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
