//! `/catalog-problems`: every file or entity the catalog could not load, and warnings such as
//! relations to missing entities — with file, entity, field and reason.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::backend::list_catalog_problems;
use crate::components::error_panel::{plain_error, ErrorPanel};
use crate::wire::ProblemView;

/// The catalog problems page.
#[component]
pub fn ProblemsPage() -> impl IntoView {
    let problems = crate::page_data::page_data(|| (), |_| list_catalog_problems());
    view! {
        <Title text="Catalog problems"/>
        <section class="page">
            <h1>"Catalog problems"</h1>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match problems.await {
                        Ok(list) if list.is_empty() => view! { <p class="empty-state">"No problems: every file and entity loaded."</p> }.into_any(),
                        Ok(list) => view! { <ProblemTable problems=list/> }.into_any(),
                        Err(e) => view! { <ErrorPanel title="Problems could not be loaded" message=plain_error(&e)/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ProblemTable(problems: Vec<ProblemView>) -> impl IntoView {
    let errors = problems.iter().filter(|p| p.is_error).count();
    let warnings = problems.len() - errors;
    view! {
        <p>{format!("{errors} error(s), {warnings} warning(s). Entities not named here are served normally.")}</p>
        <table class="problems">
            <thead><tr><th scope="col">"Severity"</th><th scope="col">"Location"</th><th scope="col">"Entity"</th><th scope="col">"Field"</th><th scope="col">"Reason"</th></tr></thead>
            <tbody>
                {problems.into_iter().map(|p| view! {
                    <tr>
                        <td><span class=if p.is_error { "chip error" } else { "chip warning" }>{if p.is_error { "Error" } else { "Warning" }}</span></td>
                        <td><code>{p.location}</code></td>
                        <td>{p.entity_ref.unwrap_or_default()}</td>
                        <td><code>{p.field.unwrap_or_default()}</code></td>
                        <td>{p.reason}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
