//! `/catalog`: the software catalog list, with its filters in the URL.
//!
//! The filter form is a plain GET form, so filtering works before hydration and every filtered
//! view is a shareable URL; after hydration the router turns submissions into client-side
//! navigations. Paging is server-side: only one page of rows is ever sent.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map, params::ParamsMap};

use crate::backend::list_catalog;
use crate::components::entity_link::EntityLinkView;
use crate::components::error_panel::ErrorPanel;
use crate::wire::{CatalogFilters, CatalogListPage, FacetValues};

/// The kind shown when the URL names none (Backstage's catalog opens on Components).
pub const DEFAULT_KIND: &str = "component";

/// Reads the filters from the URL query.
pub fn filters_from_query(q: &ParamsMap) -> CatalogFilters {
    let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    CatalogFilters {
        kind: q
            .get("kind")
            .map(|v| v.trim().to_lowercase())
            .unwrap_or_else(|| DEFAULT_KIND.into()),
        entity_type: get("type"),
        owner: get("owner"),
        lifecycle: get("lifecycle"),
        tag: get("tag"),
        namespace: get("namespace"),
        text: get("q"),
        user: get("user").to_lowercase(),
        page: q
            .get("page")
            .and_then(|p| p.parse().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1),
    }
}

/// The URL of `filters` (with `page` replaced).
pub fn catalog_url(filters: &CatalogFilters, page: usize) -> String {
    let mut parts = vec![format!("kind={}", encode(&filters.kind))];
    for (key, value) in [
        ("type", &filters.entity_type),
        ("owner", &filters.owner),
        ("lifecycle", &filters.lifecycle),
        ("tag", &filters.tag),
        ("namespace", &filters.namespace),
        ("q", &filters.text),
        ("user", &filters.user),
    ] {
        if !value.is_empty() {
            parts.push(format!("{key}={}", encode(value)));
        }
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    format!("/catalog?{}", parts.join("&"))
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The catalog list page.
#[component]
pub fn CatalogPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| query.with(filters_from_query));
    let data = Resource::new(move || filters.get(), list_catalog);
    view! {
        <Title text="Catalog"/>
        <section class="page">
            <h1>"Catalog"</h1>
            <Transition fallback=|| view! { <p class="loading">"Loading the catalog…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(page) => view! { <CatalogBody page filters=filters.get_untracked()/> }.into_any(),
                        Err(e) => view! { <ErrorPanel title="The catalog could not be loaded" message=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CatalogBody(page: CatalogListPage, filters: CatalogFilters) -> impl IntoView {
    let first = (page.page - 1) * page.page_size + 1;
    let last = first + page.rows.len().saturating_sub(1);
    let summary = if page.total == 0 {
        "No entities match these filters.".to_string()
    } else {
        format!("Showing {first}–{last} of {} entities", page.total)
    };
    let prev = (page.page > 1).then(|| catalog_url(&filters, page.page - 1));
    let next = (last < page.total).then(|| catalog_url(&filters, page.page + 1));
    let problems = page.problem_count;
    view! {
        {(problems > 0).then(|| view! {
            <p class="banner warning" role="status">
                <a href="/catalog-problems">{format!("{problems} catalog problem(s)")}</a>
                " — some files or entities could not be loaded."
            </p>
        })}
        <div class="catalog-layout">
            <FilterForm page=page.clone() filters=filters.clone()/>
            <div class="catalog-results">
                <p class="result-summary" aria-live="polite">{summary}</p>
                <EntityTable page=page.clone()/>
                <nav class="pager" aria-label="Pages">
                    {prev.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
                    <span>{format!("Page {}", page.page)}</span>
                    {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
                </nav>
            </div>
        </div>
    }
}

#[component]
fn FilterForm(page: CatalogListPage, filters: CatalogFilters) -> impl IntoView {
    view! {
        <Form method="GET" action="/catalog" attr:class="filters" attr:aria-label="Filters">
            <UserFilter owned=page.owned_count all=page.all_count selected=filters.user/>
            <FacetSelect label="Kind" name="kind" any="All kinds" facet=page.kinds selected=filters.kind/>
            <FacetSelect label="Type" name="type" any="All types" facet=page.types selected=filters.entity_type/>
            <FacetSelect label="Owner" name="owner" any="All owners" facet=page.owners selected=filters.owner/>
            <FacetSelect label="Lifecycle" name="lifecycle" any="All lifecycles" facet=page.lifecycles selected=filters.lifecycle/>
            <FacetSelect label="Tag" name="tag" any="All tags" facet=page.tags selected=filters.tag/>
            <FacetSelect label="Namespace" name="namespace" any="All namespaces" facet=page.namespaces selected=filters.namespace/>
            <div class="field">
                <label for="filter-q">"Search"</label>
                <input id="filter-q" type="search" name="q" value=filters.text placeholder="Name, title, description, tag"/>
            </div>
            <div class="filter-actions">
                <button type="submit" class="primary">"Apply filters"</button>
                <a href="/catalog">"Reset"</a>
            </div>
        </Form>
    }
}

/// Backstage's user filter: what the signed-in user (or one of its groups) owns, or all.
#[component]
fn UserFilter(owned: usize, all: usize, selected: String) -> impl IntoView {
    let owned_selected = selected == "owned";
    view! {
        <fieldset class="field user-filter">
            <legend>"Show"</legend>
            <label>
                <input type="radio" name="user" value="owned" checked=owned_selected/>
                {format!("Owned by me ({owned})")}
            </label>
            <label>
                <input type="radio" name="user" value="" checked=!owned_selected/>
                {format!("All ({all})")}
            </label>
        </fieldset>
    }
}

/// A filter `<select>` of facet values with their counts (the catalog's and the APIs
/// explorer's filters); the selected value stays selectable even when no entity has it.
#[component]
pub fn FacetSelect(
    label: &'static str,
    name: &'static str,
    any: &'static str,
    facet: FacetValues,
    selected: String,
) -> impl IntoView {
    // Keep the current value selectable even if no entity has it any more.
    let mut values = facet.values;
    if !selected.is_empty()
        && !values
            .iter()
            .any(|(v, _)| v.eq_ignore_ascii_case(&selected))
    {
        values.push((selected.clone(), 0));
    }
    let id = format!("filter-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id name=name>
                <option value="" selected=selected.is_empty()>{any}</option>
                {values
                    .into_iter()
                    .map(|(value, count)| {
                        let is_selected = value.eq_ignore_ascii_case(&selected);
                        view! {
                            <option value=value.clone() selected=is_selected>
                                {format!("{value} ({count})")}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

#[component]
fn EntityTable(page: CatalogListPage) -> impl IntoView {
    view! {
        <table class="entities">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Kind"</th>
                    <th scope="col">"Type"</th>
                    <th scope="col">"Owner"</th>
                    <th scope="col">"Lifecycle"</th>
                    <th scope="col">"System"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col">"Tags"</th>
                </tr>
            </thead>
            <tbody>
                {page
                    .rows
                    .into_iter()
                    .map(|row| {
                        let label = row.title.clone().unwrap_or_else(|| row.link.label.clone());
                        view! {
                            <tr>
                                <td><a href=row.link.href.clone()>{label}</a></td>
                                <td>{row.kind}</td>
                                <td>{row.entity_type.unwrap_or_default()}</td>
                                <td>{row.owner.map(|o| view! { <EntityLinkView link=o/> })}</td>
                                <td>{row.lifecycle.unwrap_or_default()}</td>
                                <td>{row.system.map(|s| view! { <EntityLinkView link=s/> })}</td>
                                <td class="description">{row.description.unwrap_or_default()}</td>
                                <td>
                                    <ul class="tags">
                                        {row.tags.into_iter().map(|t| view! { <li class="tag">{t}</li> }).collect_view()}
                                    </ul>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
