//! Search across every kind: `/search?q=` (a results page that works without JavaScript) and
//! the header's search box ([`HeaderSearch`]), which shows the best matches as you type, moves
//! through them with the arrow keys, opens one with Enter, closes with Escape, and is focused
//! from anywhere with `/`. Without JavaScript the box is a plain GET form to `/search`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::backend::search_catalog;
use crate::components::entity_link::EntityLinkView;
use crate::components::error_panel::{plain_error, ErrorPanel};
use crate::wire::{SearchHit, SearchResults};

/// Results shown on the page.
const PAGE_HITS: usize = 50;
/// Suggestions shown under the header's box.
const SUGGESTIONS: usize = 8;

fn kind_line(hit: &SearchHit) -> String {
    match &hit.entity_type {
        Some(t) => format!("{} · {t}", hit.kind),
        None => hit.kind.clone(),
    }
}

/// `/search?q=`.
#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|p| p.get("q").unwrap_or_default()));
    let results = crate::page_data::page_data(move || q.get(), |q| search_catalog(q, PAGE_HITS));
    view! {
        <Title text=move || {
            let q = q.get();
            if q.trim().is_empty() { "Search".to_string() } else { format!("Search: {}", q.trim()) }
        }/>
        <section class="page search-page">
            <h1>"Search"</h1>
            <form action="/search" method="get" role="search" class="search-form">
                <label for="search-q">"Search the catalog"</label>
                <input id="search-q" type="search" name="q" value=move || q.get() placeholder="Name, title, description, tag, owner, Kubernetes id"/>
                <button type="submit" class="primary">"Search"</button>
            </form>
            <Transition fallback=|| view! { <p class="loading">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Ok(r) => view! { <ResultList results=r/> }.into_any(),
                        Err(e) => view! { <ErrorPanel title="The search failed" message=plain_error(&e)/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ResultList(results: SearchResults) -> impl IntoView {
    if results.query.is_empty() {
        return view! { <p class="muted">"Type a name, a tag, an owner or a Kubernetes id."</p> }
            .into_any();
    }
    let shown = results.hits.len();
    let summary = match results.total {
        0 => format!("No results for “{}”.", results.query),
        n if n > shown => format!(
            "{n} results for “{}”; the best {shown} are shown.",
            results.query
        ),
        1 => format!("1 result for “{}”.", results.query),
        n => format!("{n} results for “{}”.", results.query),
    };
    view! {
        <p class="result-summary" role="status">{summary}</p>
        <ol class="search-results">
            {results.hits.into_iter().map(|hit| {
                let kind = kind_line(&hit);
                view! {
                    <li>
                        <a class="hit-title" href=hit.link.href.clone()>{hit.link.label.clone()}</a>
                        " " <span class="chip">{kind}</span>
                        {hit.owner.map(|o| view! { <span class="hit-owner">" · owner " <EntityLinkView link=o/></span> })}
                        {hit.matched.map(|m| view! { <span class="hit-matched muted">" · " {m}</span> })}
                        {hit.description.map(|d| view! { <p class="description">{d}</p> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}

/// The header's search box: a combobox with suggestions as you type.
#[component]
pub fn HeaderSearch() -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let (text, set_text) = signal(String::new());
    let (debounced, set_debounced) = signal(String::new());
    let (open, set_open) = signal(false);
    let (active, set_active) = signal(None::<usize>);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let results = LocalResource::new(move || {
        let q = debounced.get();
        async move {
            if q.trim().is_empty() {
                Ok(SearchResults::default())
            } else {
                search_catalog(q, SUGGESTIONS).await
            }
        }
    });
    let hits = move || {
        results
            .get()
            .and_then(Result::ok)
            .map(|r| r.hits)
            .unwrap_or_default()
    };
    let navigate = use_navigate();
    let go = move |href: String| {
        set_open.set(false);
        set_active.set(None);
        navigate(&href, Default::default());
    };
    // `/` anywhere but in a text field focuses the box.
    Effect::new(move |_| {
        let _ = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() != "/" || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let typing = event_target::<leptos::web_sys::HtmlElement>(&ev);
            let tag = typing.tag_name().to_ascii_lowercase();
            if matches!(tag.as_str(), "input" | "textarea" | "select")
                || typing.is_content_editable()
            {
                return;
            }
            if let Some(el) = input.get_untracked() {
                ev.prevent_default();
                let _ = el.focus();
            }
        });
    });
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        set_text.set(value.clone());
        set_active.set(None);
        set_open.set(!value.trim().is_empty());
        if let Some(h) = timer.get_value() {
            h.clear();
        }
        let handle = set_timeout_with_handle(
            move || set_debounced.set(value),
            std::time::Duration::from_millis(120),
        )
        .ok();
        timer.set_value(handle);
    };
    let go_key = go.clone();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let n = hits().len();
        match ev.key().as_str() {
            "ArrowDown" if n > 0 => {
                ev.prevent_default();
                set_open.set(true);
                set_active.update(|a| *a = Some(a.map_or(0, |i| (i + 1) % n)));
            }
            "ArrowUp" if n > 0 => {
                ev.prevent_default();
                set_open.set(true);
                set_active.update(|a| *a = Some(a.map_or(n - 1, |i| (i + n - 1) % n)));
            }
            "Enter" => {
                if let (true, Some(i)) = (open.get_untracked(), active.get_untracked()) {
                    if let Some(hit) = hits().get(i) {
                        ev.prevent_default();
                        go_key(hit.link.href.clone());
                    }
                }
            }
            "Escape" => {
                if open.get_untracked() {
                    ev.prevent_default();
                    set_open.set(false);
                    set_active.set(None);
                }
            }
            _ => {}
        }
    };
    let go_submit = go.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = text.get_untracked();
        let mut query = String::from("/search?q=");
        query.push_str(&crate::pages::kubernetes::query_escape(q.trim()));
        go_submit(query);
    };
    let option_id = |i: usize| format!("header-search-option-{i}");
    view! {
        <form class="header-search" role="search" action="/search" method="get" on:submit=on_submit>
            <label for="header-search-q" class="visually-hidden">"Search the portal"</label>
            <input
                id="header-search-q"
                node_ref=input
                type="search"
                name="q"
                autocomplete="off"
                placeholder="Search (press /)"
                role="combobox"
                aria-autocomplete="list"
                aria-controls="header-search-results"
                aria-expanded=move || (open.get() && !hits().is_empty()).to_string()
                aria-activedescendant=move || active.get().filter(|_| open.get()).map(option_id)
                on:input=on_input
                on:keydown=on_keydown
                on:blur=move |_| {
                    // Let a click on a suggestion land before the list closes.
                    set_timeout(move || set_open.set(false), std::time::Duration::from_millis(150));
                }
                on:focus=move |_| set_open.set(!text.get_untracked().trim().is_empty())
            />
            <ul
                id="header-search-results"
                class="search-suggestions"
                role="listbox"
                aria-label="Search results"
                hidden=move || !open.get() || hits().is_empty()
            >
                {move || hits().into_iter().enumerate().map(|(i, hit)| {
                    let href = hit.link.href.clone();
                    let go = go.clone();
                    let kind = kind_line(&hit);
                    view! {
                        <li
                            id=option_id(i)
                            role="option"
                            aria-selected=move || (active.get() == Some(i)).to_string()
                            class:active=move || active.get() == Some(i)
                            on:mousedown=move |ev| {
                                ev.prevent_default();
                                go(href.clone());
                            }
                        >
                            <span class="hit-title">{hit.link.label.clone()}</span>
                            " " <span class="chip">{kind}</span>
                            {hit.matched.map(|m| view! { <span class="hit-matched">" · " {m}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </form>
    }
}
