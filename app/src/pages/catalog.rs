//! `/catalog`: the software catalog list, with its filters in the URL.
//!
//! The filter form is a plain GET form, so filtering works before hydration and every filtered
//! view is a shareable URL. After hydration filters apply as they are chosen (the search box
//! after a pause in typing), each as a client-side navigation to a clean URL (no empty
//! parameters). Paging is server-side: only one page of rows is ever sent.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{hooks::use_query_map, params::ParamsMap};

use crate::backend::{get_catalog_health, list_catalog};
use crate::components::entity_link::EntityLinkView;
use crate::components::error_panel::{plain_error, ErrorPanel};
use crate::components::health_chip::HealthChip;
use crate::wire::clusters::RowHealth;
use crate::wire::{CatalogFilters, CatalogListPage, FacetValues};

/// The kind shown when the URL names none (Backstage's catalog opens on Components).
pub const DEFAULT_KIND: &str = "component";

/// The filters from a lookup of their parameters (the URL query, or the form): no `kind` is
/// the default kind, no `page` the first.
fn filters_with(get: impl Fn(&str) -> Option<String>) -> CatalogFilters {
    let text = |k: &str| get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    CatalogFilters {
        kind: get("kind")
            .map(|v| v.trim().to_lowercase())
            .unwrap_or_else(|| DEFAULT_KIND.into()),
        entity_type: text("type"),
        owner: text("owner"),
        lifecycle: text("lifecycle"),
        tag: text("tag"),
        namespace: text("namespace"),
        text: text("q"),
        user: text("user").to_lowercase(),
        page: get("page")
            .and_then(|p| p.parse().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1),
    }
}

/// Reads the filters from the URL query.
pub fn filters_from_query(q: &ParamsMap) -> CatalogFilters {
    filters_with(|k| q.get(k))
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
pub fn encode(value: &str) -> String {
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
    let data = crate::page_data::page_data(move || filters.get(), list_catalog);
    // The filter that applied last: focus returns to it when the list (and its form) re-render.
    provide_context(Refocus(RwSignal::new(None)));
    view! {
        <Title text="Catalog"/>
        <section class="page">
            <h1>"Catalog"</h1>
            <Transition fallback=|| view! { <p class="loading">"Loading the catalog…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(page) => view! { <CatalogBody page filters=filters.get_untracked()/> }.into_any(),
                        Err(e) => view! { <ErrorPanel title="The catalog could not be loaded" message=plain_error(&e)/> }.into_any(),
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

/// The name of the filter control that applied last (focus returns to it after the page
/// re-renders with the new filters).
#[derive(Clone, Copy)]
struct Refocus(RwSignal<Option<String>>);

/// The filters the form shows now (the first page of them: the form has no `page`).
#[cfg(feature = "hydrate")]
fn filters_of(form: &web_sys::HtmlFormElement) -> CatalogFilters {
    let data = web_sys::FormData::new_with_form(form).ok();
    filters_with(|k| data.as_ref().and_then(|d| d.get(k).as_string()))
}

#[component]
fn FilterForm(page: CatalogListPage, filters: CatalogFilters) -> impl IntoView {
    let form = NodeRef::<leptos::html::Form>::new();
    let navigate = leptos_router::hooks::use_navigate();
    // Navigates to the form's filters (a clean URL), unless that is where we are.
    let apply = move || {
        #[cfg(feature = "hydrate")]
        if let Some(f) = form.get_untracked() {
            let url = catalog_url(&filters_of(&f), 1);
            let here = window().location();
            let current = format!(
                "{}{}",
                here.pathname().unwrap_or_default(),
                here.search().unwrap_or_default()
            );
            if url != current {
                navigate(&url, Default::default());
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&form, &navigate);
    };
    let refocus = use_context::<Refocus>().map(|r| r.0);
    let remember = move |ev: &leptos::ev::Event| {
        if let Some(r) = refocus {
            r.set(event_target::<leptos::web_sys::HtmlElement>(ev).get_attribute("name"));
        }
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let (Some(f), Some(name)) = (form.get(), refocus.and_then(|r| r.get_untracked())) else {
            return;
        };
        use wasm_bindgen::JsCast;
        let selector = if name == "user" {
            "[name=\"user\"]:checked".to_string()
        } else {
            format!("[name=\"{}\"]", name.replace(['"', '\\'], ""))
        };
        if let Some(el) = f
            .query_selector(&selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
            // Typing goes on where it stopped.
            if let Some(input) = el.dyn_ref::<web_sys::HtmlInputElement>() {
                let end = input.value().len() as u32;
                let _ = input.set_selection_range(end, end);
            }
        }
    });
    let typing = StoredValue::new(None::<TimeoutHandle>);
    let on_change = {
        let apply = apply.clone();
        move |ev: leptos::ev::Event| {
            remember(&ev);
            apply()
        }
    };
    let on_input = {
        let apply = apply.clone();
        move |ev: leptos::ev::Event| {
            let is_text = event_target::<leptos::web_sys::HtmlElement>(&ev)
                .get_attribute("type")
                .is_some_and(|t| t == "search");
            if !is_text {
                return;
            }
            remember(&ev);
            if let Some(h) = typing.get_value() {
                h.clear();
            }
            let apply = apply.clone();
            typing.set_value(
                set_timeout_with_handle(apply, std::time::Duration::from_millis(300)).ok(),
            );
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        apply();
    };
    view! {
        <form method="GET" action="/catalog" class="filters" aria-label="Filters" node_ref=form
            on:change=on_change on:input=on_input on:submit=on_submit>
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
        </form>
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

/// An entity ref as the catalog table shows an owner: `group:default/payments` → `payments`,
/// `user:default/jdoe` → `user:jdoe`, another namespace kept (`group:ops/sre` → `ops/sre`).
pub fn humanize_ref(entity_ref: &str) -> String {
    let (kind, rest) = entity_ref.split_once(':').unwrap_or(("group", entity_ref));
    let rest = rest.strip_prefix("default/").unwrap_or(rest);
    if kind.eq_ignore_ascii_case("group") {
        rest.to_string()
    } else {
        format!("{}:{rest}", kind.to_lowercase())
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
                        let text = if name == "owner" { humanize_ref(&value) } else { value.clone() };
                        view! {
                            <option value=value.clone() selected=is_selected>
                                {format!("{text} ({count})")}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// The health column's cells by entity ref: filled from the page, then refreshed from the
/// server's watch cache every `health_refresh_ms` while the page is open (only the cells
/// change; the filters and rows stay as they are).
fn live_health(page: &CatalogListPage) -> RwSignal<HashMap<String, RowHealth>> {
    let cells: HashMap<String, RowHealth> = page
        .rows
        .iter()
        .filter_map(|r| Some((r.link.entity_ref.clone(), r.health.clone()?)))
        .collect();
    let refs: Vec<String> = cells.keys().cloned().collect();
    let health = RwSignal::new(cells);
    let every = page.health_refresh_ms;
    if every > 0 && !refs.is_empty() {
        Effect::new(move |_| {
            let refs = refs.clone();
            let busy = StoredValue::new(false);
            let tick = move || {
                // Not while the browser tab is in the background.
                #[cfg(feature = "hydrate")]
                if document().hidden() {
                    return;
                }
                if busy.get_value() {
                    return;
                }
                busy.set_value(true);
                let refs = refs.clone();
                leptos::task::spawn_local(async move {
                    if let Ok(Some((_, list))) = get_catalog_health(refs.clone()).await {
                        health.set(refs.into_iter().zip(list).collect());
                    }
                    busy.set_value(false);
                });
            };
            if let Ok(handle) =
                set_interval_with_handle(tick, std::time::Duration::from_millis(every))
            {
                on_cleanup(move || handle.clear());
            }
        });
    }
    health
}

#[component]
fn EntityTable(page: CatalogListPage) -> impl IntoView {
    let with_health = page.rows.iter().any(|r| r.health.is_some());
    let health = live_health(&page);
    view! {
        <div class="table-scroll">
        <table class="entities">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    {with_health.then(|| view! { <th scope="col">"Health"</th> })}
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
                        let entity_ref = row.link.entity_ref.clone();
                        let cell = with_health.then(|| view! {
                            <td class="health-cell">
                                {move || health.with(|h| h.get(&entity_ref).cloned()).map(|h| view! {
                                    <HealthChip state=h.state reason=h.reason/>
                                })}
                            </td>
                        });
                        view! {
                            <tr>
                                <td><a href=row.link.href.clone()>{label}</a></td>
                                {cell}
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
        </div>
    }
}
