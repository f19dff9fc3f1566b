//! `/api-docs`: the APIs explorer (Backstage's path): every API by type and lifecycle, with its
//! owner, system, and how many components provide and consume it. The filters are a GET form,
//! so every view is a URL and works before hydration.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

use crate::backend::get_api_explorer;
use crate::components::entity_link::EntityLinkView;
use crate::components::error_panel::{plain_error, ErrorPanel};
use crate::pages::catalog::FacetSelect;
use crate::wire::{ApiExplorer, EntityLink};

/// The APIs explorer page.
#[component]
pub fn ApiDocsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| {
            (
                q.get("type").unwrap_or_default(),
                q.get("lifecycle").unwrap_or_default(),
                q.get("page")
                    .and_then(|p| p.parse::<usize>().ok())
                    .filter(|p| *p >= 1)
                    .unwrap_or(1),
            )
        })
    });
    let data =
        crate::page_data::page_data(move || filters.get(), |(t, l, p)| get_api_explorer(t, l, p));
    view! {
        <Title text="APIs"/>
        <section class="page">
            <h1>"APIs"</h1>
            <Transition fallback=|| view! { <p class="loading">"Loading the APIs…"</p> }>
                {move || Suspend::new(async move {
                    let (api_type, lifecycle, _) = filters.get_untracked();
                    match data.await {
                        Ok(explorer) => view! { <Explorer explorer api_type lifecycle/> }.into_any(),
                        Err(e) => view! { <ErrorPanel title="The APIs could not be loaded" message=plain_error(&e)/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Explorer(explorer: ApiExplorer, api_type: String, lifecycle: String) -> impl IntoView {
    let count = explorer.total;
    let first = (explorer.page - 1) * explorer.page_size + 1;
    let last = first + explorer.apis.len().saturating_sub(1);
    let url = |page: usize| {
        let mut q = Vec::new();
        for (k, v) in [("type", &api_type), ("lifecycle", &lifecycle)] {
            if !v.is_empty() {
                q.push(format!("{k}={}", crate::pages::catalog::encode(v)));
            }
        }
        if page > 1 {
            q.push(format!("page={page}"));
        }
        if q.is_empty() {
            "/api-docs".to_string()
        } else {
            format!("/api-docs?{}", q.join("&"))
        }
    };
    let prev = (explorer.page > 1).then(|| url(explorer.page - 1));
    let next = (last < count).then(|| url(explorer.page + 1));
    let paged = prev.is_some() || next.is_some();
    let page = explorer.page;
    view! {
        <Form method="GET" action="/api-docs" attr:class="filters inline-filters" attr:aria-label="Filters">
            <FacetSelect label="Type" name="type" any="All types" facet=explorer.types selected=api_type/>
            <FacetSelect label="Lifecycle" name="lifecycle" any="All lifecycles" facet=explorer.lifecycles selected=lifecycle/>
            <div class="filter-actions">
                <button type="submit" class="primary">"Apply filters"</button>
                <a href="/api-docs">"Reset"</a>
            </div>
        </Form>
        <p class="result-summary" role="status">{match count {
            0 => "No APIs match these filters.".to_string(),
            1 => "1 API".to_string(),
            n if paged => format!("Showing {first}–{last} of {n} APIs"),
            n => format!("{n} APIs"),
        }}</p>
        {(count > 0).then(|| view! {
            <div class="table-scroll">
                <table class="entities">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Type"</th>
                            <th scope="col">"Lifecycle"</th>
                            <th scope="col">"Owner"</th>
                            <th scope="col">"System"</th>
                            <th scope="col">"Providers"</th>
                            <th scope="col">"Consumers"</th>
                            <th scope="col">"Description"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {explorer.apis.into_iter().map(|api| {
                            let row = api.row;
                            let link = EntityLink { label: row.title.clone().unwrap_or_else(|| row.link.label.clone()), ..row.link };
                            let definition = format!("{}/definition", link.href);
                            view! {
                                <tr>
                                    <td><EntityLinkView link/>" " <a class="muted" href=definition>"(definition)"</a></td>
                                    <td>{row.entity_type.unwrap_or_default()}</td>
                                    <td>{row.lifecycle.unwrap_or_default()}</td>
                                    <td>{row.owner.map(|o| view! { <EntityLinkView link=o/> })}</td>
                                    <td>{row.system.map(|s| view! { <EntityLinkView link=s/> })}</td>
                                    <td class="number">{api.providers}</td>
                                    <td class="number">{api.consumers}</td>
                                    <td class="description">{row.description.unwrap_or_default()}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
        {paged.then(|| view! {
            <nav class="pager" aria-label="Pages">
                {prev.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
                <span>{format!("Page {page}")}</span>
                {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
            </nav>
        })}
    }
}
