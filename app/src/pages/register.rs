//! `/catalog-import`: "Register an existing component", Backstage's catalog-import flow. Enter
//! the URL of a `catalog-info.yaml` (or of the folder holding it), see what it holds — each
//! entity, whether it is already in the catalog, why it would be refused — then import it and
//! land on the new entity.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::backend::{AnalyzeImport, RegisterImport};
use crate::components::entity_link::EntityLinkView;
use crate::components::error_panel::ErrorPanel;
use crate::wire::{EntityLink, ImportAnalysis};

/// The register page.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let analyze = ServerAction::<AnalyzeImport>::new();
    let url_input = NodeRef::<leptos::html::Input>::new();
    let register = ServerAction::<RegisterImport>::new();
    // A new analysis replaces the outcome of the last import.
    Effect::new(move |_| {
        if analyze.pending().get() {
            register.clear();
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(links)) = register.value().get() {
            if let Some(first) = links.first() {
                navigate(&first.href, Default::default());
            }
        }
    });
    view! {
        <Title text="Register an existing component"/>
        <section class="page register">
            <h1>"Register an existing component"</h1>
            <p>
                "Enter the URL of a " <code>"catalog-info.yaml"</code>
                " file in a repository, or of the folder that holds one. The file is read and shown here first; nothing is registered until you import it."
            </p>
            <form class="register-form" on:submit=move |ev| {
                ev.prevent_default();
                if let Some(input) = url_input.get() {
                    analyze.dispatch(AnalyzeImport { url: input.value() });
                }
            }>
                <label for="import-url">"Repository or file URL"</label>
                <div class="register-row">
                    <input
                        id="import-url"
                        node_ref=url_input
                        name="url"
                        type="url"
                        required
                        autocomplete="off"
                        placeholder="https://github.com/acme/checkout/blob/main/catalog-info.yaml"
                    />
                    <button type="submit" disabled=move || analyze.pending().get()>
                        {move || if analyze.pending().get() { "Analyzing…" } else { "Analyze" }}
                    </button>
                </div>
            </form>
            <div aria-live="polite">
                {move || analyze.value().get().map(|result| match result {
                    Ok(analysis) => view! { <Analysis analysis register/> }.into_any(),
                    Err(e) => view! { <ErrorPanel title="The URL could not be analyzed" message=plain(&e)/> }.into_any(),
                })}
            </div>
        </section>
    }
}

/// A server function error without the transport's prefix.
fn plain(e: &ServerFnError) -> String {
    let text = e.to_string();
    text.split_once(": ")
        .filter(|(head, _)| head.starts_with("error running server function"))
        .map(|(_, rest)| rest.to_string())
        .unwrap_or(text)
}

#[component]
fn Analysis(analysis: ImportAnalysis, register: ServerAction<RegisterImport>) -> impl IntoView {
    let ImportAnalysis {
        target,
        registered,
        entities,
        problems,
    } = analysis;
    let invalid = entities.iter().filter(|e| !e.errors.is_empty()).count();
    let new = entities
        .iter()
        .filter(|e| e.errors.is_empty() && e.existing.is_none())
        .count();
    let importable = !registered && problems.is_empty() && invalid == 0 && new > 0;
    let summary = if registered {
        "This file is registered already: its entities are in the catalog.".to_string()
    } else if !problems.is_empty() {
        "The file cannot be imported as it is:".to_string()
    } else if entities.is_empty() {
        "The file holds no entities.".to_string()
    } else if invalid > 0 {
        format!(
            "{invalid} of {} entities would be refused; fix them in the file, then analyze again.",
            entities.len()
        )
    } else if new == 0 {
        "Every entity in this file is already in the catalog (read from another location); importing it would add nothing.".to_string()
    } else {
        format!("{new} entities will be added to the catalog.")
    };
    let target_for_form = target.clone();
    view! {
        <section class="card register-analysis" aria-labelledby="analysis-heading">
            <h2 id="analysis-heading">"Analysis"</h2>
            <p>"File: " <code class="register-target">{target}</code></p>
            <p class="register-summary">{summary}</p>
            {(!problems.is_empty()).then(|| view! {
                <ul class="register-problems">
                    {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                </ul>
            })}
            {(!entities.is_empty()).then(|| view! {
                <div class="table-scroll">
                    <table class="register-entities">
                        <thead><tr><th scope="col">"Kind"</th><th scope="col">"Entity"</th><th scope="col">"Status"</th></tr></thead>
                        <tbody>
                            {entities.into_iter().map(|e| {
                                let status = if !e.errors.is_empty() {
                                    view! {
                                        <span class="chip error">"Invalid"</span>
                                        <ul class="register-errors">{e.errors.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                                    }.into_any()
                                } else if let Some(link) = e.existing {
                                    view! { <span class="chip warning">"Already in the catalog"</span>" " <EntityLinkView link/> }.into_any()
                                } else {
                                    view! { <span class="chip ok">"New"</span> }.into_any()
                                };
                                view! {
                                    <tr>
                                        <td>{e.kind}</td>
                                        <td><span class="register-label">{e.label}</span>" " <code>{e.entity_ref}</code></td>
                                        <td>{status}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
            {importable.then(|| view! {
                <button
                    type="button"
                    class="primary"
                    disabled=move || register.pending().get()
                    on:click=move |_| {
                        register.dispatch(RegisterImport { target: target_for_form.clone() });
                    }
                >
                    {move || if register.pending().get() { "Importing…" } else { "Import" }}
                </button>
            })}
            {move || register.value().get().map(|result| match result {
                Ok(links) => view! { <Imported links/> }.into_any(),
                Err(e) => view! { <ErrorPanel title="The file could not be imported" message=plain(&e)/> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn Imported(links: Vec<EntityLink>) -> impl IntoView {
    view! {
        <div class="register-done" role="status">
            <p>{format!("Registered. {} entities added:", links.len())}</p>
            <ul>{links.into_iter().map(|link| view! { <li><EntityLinkView link/></li> }).collect_view()}</ul>
        </div>
    }
}
