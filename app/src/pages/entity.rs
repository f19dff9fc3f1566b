//! `/catalog/:namespace/:kind/:name[/tab]`: an entity page. The header and tab bar come from
//! the parent route; tabs are sub-paths (Backstage's URL scheme) rendered in the outlet, and read
//! the entity from context rather than fetching it again.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::Outlet,
    hooks::{use_navigate, use_params_map},
};

use crate::backend::{get_entity, UnregisterLocation};
use crate::components::entity_link::EntityLinkView;
use crate::components::error_panel::{plain_error, ErrorPanel};
use crate::components::relations_graph::RelationsGraph;
use crate::components::tabs::TabBar;
use crate::pages::entity_kinds::{people_overview, KindSections};
use crate::pages::not_found::NotFound;
use crate::wire::{EntityDetail, EntityLink, ExternalLink, RegisteredLocation};

/// The loaded entity, shared with the tabs.
#[derive(Clone, Copy)]
struct CurrentEntity(crate::page_data::PageData<Result<Option<EntityDetail>, ServerFnError>>);

/// Header and tab bar of an entity page; the selected tab renders in the outlet.
#[component]
pub fn EntityPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        params.with(|p| {
            (
                p.get("namespace").unwrap_or_default(),
                p.get("kind").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
            )
        })
    });
    // Blocking: a streamed tab (Kubernetes) still gets its title and HTTP status in the head.
    let entity = crate::page_data::blocking_page_data(
        move || key.get(),
        |(ns, kind, name)| get_entity(ns, kind, name),
    );
    provide_context(CurrentEntity(entity));
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match entity.await {
                    Ok(Some(e)) => view! { <EntityHeader entity=e/> <section class="tab-panel"><Outlet/></section> }.into_any(),
                    Ok(None) => {
                        let (ns, kind, name) = key.get_untracked();
                        let entity = format!("{}:{ns}/{name}", kind.to_lowercase());
                        view! { <NotFound entity/> }.into_any()
                    }
                    Err(err) => view! { <ErrorPanel title="The entity could not be loaded" message=plain_error(&err)/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn EntityHeader(entity: EntityDetail) -> impl IntoView {
    let tabs = crate::pages::entity_kinds::tabs_for(&entity);
    let heading = entity.title.clone().unwrap_or_else(|| entity.name.clone());
    let kind_line = match &entity.entity_type {
        Some(t) => format!("{} — {t}", entity.kind),
        None => entity.kind.clone(),
    };
    // The page title names the tab: "Checkout service · Kubernetes".
    let location = leptos_router::hooks::use_location();
    let labels: Vec<(String, &'static str)> =
        tabs.iter().map(|t| (t.href.clone(), t.label)).collect();
    let page_title = {
        let heading = heading.clone();
        move || {
            let path = location.pathname.get();
            match labels
                .iter()
                .find(|(href, _)| href.trim_end_matches('/') == path.trim_end_matches('/'))
            {
                Some((_, label)) if *label != "Overview" => format!("{heading} · {label}"),
                _ => heading.clone(),
            }
        }
    };
    view! {
        <Title text=page_title/>
        <header class="entity-header">
            <p class="entity-kind">{kind_line}</p>
            <h1>{heading}</h1>
            <dl class="entity-facts">
                {entity.owner.clone().map(|o| view! { <div><dt>"Owner"</dt><dd><EntityLinkView link=o/></dd></div> })}
                {entity.lifecycle.clone().map(|l| view! { <div><dt>"Lifecycle"</dt><dd>{l}</dd></div> })}
                <div><dt>"Namespace"</dt><dd>{entity.namespace.clone()}</dd></div>
            </dl>
            {entity.registered_location.clone().map(|location| view! { <Unregister location/> })}
        </header>
        <TabBar label="Entity sections" tabs/>
    }
}

/// "Unregister location": removes the registered location the entity came from, after a
/// confirmation that lists everything that goes with it.
#[component]
fn Unregister(location: RegisteredLocation) -> impl IntoView {
    let action = ServerAction::<UnregisterLocation>::new();
    let (confirming, set_confirming) = signal(false);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            navigate("/catalog", Default::default());
        }
    });
    let RegisteredLocation {
        id,
        target,
        entities,
    } = location;
    let count = entities.len();
    view! {
        <div class="unregister">
            <button
                type="button"
                class="secondary"
                aria-expanded=move || confirming.get().to_string()
                aria-controls="unregister-confirm"
                on:click=move |_| set_confirming.update(|c| *c = !*c)
            >
                "Unregister location"
            </button>
            <div id="unregister-confirm" class="unregister-confirm card" role="group" aria-labelledby="unregister-heading" hidden=move || !confirming.get()>
                <h2 id="unregister-heading">"Unregister this location?"</h2>
                <p>"The location " <code>{target}</code> {format!(" and the {count} entities read from it leave the catalog:")}</p>
                <ul>{entities.into_iter().map(|link| view! { <li><EntityLinkView link/></li> }).collect_view()}</ul>
                <p>"The file itself is not changed; register it again to bring them back."</p>
                <p>
                    <button
                        type="button"
                        class="danger"
                        disabled=move || action.pending().get()
                        on:click=move |_| {
                            action.dispatch(UnregisterLocation { id: id.clone() });
                        }
                    >
                        "Unregister"
                    </button>
                    " "
                    <button type="button" class="secondary" on:click=move |_| set_confirming.set(false)>"Cancel"</button>
                </p>
                {move || action.value().get().and_then(Result::err).map(|e| view! {
                    <ErrorPanel title="The location could not be unregistered" message=plain_error(&e)/>
                })}
            </div>
        </div>
    }
}

/// Runs `render` with the loaded entity (the parent only renders tabs once it has one).
fn with_entity<V: IntoView + 'static>(
    render: impl Fn(EntityDetail) -> V + Send + Sync + 'static,
) -> impl IntoView {
    let CurrentEntity(entity) = expect_context::<CurrentEntity>();
    move || entity.get().and_then(Result::ok).flatten().map(&render)
}

/// The Overview tab: about card, relations, API definition, labels and annotations.
#[component]
pub fn OverviewTab() -> impl IntoView {
    with_entity(|e| view! { <Overview entity=e/> })
}

#[component]
fn Overview(entity: EntityDetail) -> impl IntoView {
    let people = people_overview(&entity);
    // System, domain, type and lifecycle rows belong to the kinds that have them; other kinds
    // show them only when set.
    let full = matches!(
        entity.kind.to_ascii_lowercase().as_str(),
        "component" | "api" | "resource"
    );
    let graph_center = EntityLink {
        label: entity.title.clone().unwrap_or_else(|| entity.name.clone()),
        ..entity.link.clone()
    };
    let EntityDetail {
        description,
        owner,
        system,
        domain,
        lifecycle,
        entity_type,
        tags,
        links,
        labels,
        annotations,
        relations,
        kind_detail,
        ..
    } = entity;
    let graph_groups = relations.clone();
    let is_people = people.is_some();
    view! {
        <h2 class="visually-hidden">"Overview"</h2>
        {people}
        <div class="cards">
            {(!is_people).then(|| view! {
            <section class="card about" aria-labelledby="about-title">
                <h3 id="about-title">"About"</h3>
                <p class="description">{description.unwrap_or_else(|| "No description.".into())}</p>
                <dl class="about-grid">
                    <div><dt>"Owner"</dt><dd>{owner.map(|o| view! { <EntityLinkView link=o/> }.into_any()).unwrap_or_else(|| "—".into_any())}</dd></div>
                    {(full || system.is_some()).then(|| view! { <div><dt>"System"</dt><dd>{system.map(|s| view! { <EntityLinkView link=s/> }.into_any()).unwrap_or_else(|| "—".into_any())}</dd></div> })}
                    {(full || domain.is_some()).then(|| view! { <div><dt>"Domain"</dt><dd>{domain.map(|d| view! { <EntityLinkView link=d/> }.into_any()).unwrap_or_else(|| "—".into_any())}</dd></div> })}
                    {(full || entity_type.is_some()).then(|| view! { <div><dt>"Type"</dt><dd>{entity_type.unwrap_or_else(|| "—".into())}</dd></div> })}
                    {(full || lifecycle.is_some()).then(|| view! { <div><dt>"Lifecycle"</dt><dd>{lifecycle.unwrap_or_else(|| "—".into())}</dd></div> })}
                    <div class="wide"><dt>"Tags"</dt><dd>
                        <ul class="tags">{tags.into_iter().map(|t| view! { <li class="tag">{t}</li> }).collect_view()}</ul>
                    </dd></div>
                </dl>
                {(!links.is_empty()).then(|| view! {
                    <h4>"Links"</h4>
                    <ul class="links">{links.clone().into_iter().map(|l| view! { <li><ExternalLinkView link=l/></li> }).collect_view()}</ul>
                })}
            </section>
            })}
            {(is_people && !links.is_empty()).then(|| view! {
                <section class="card" aria-labelledby="links-title">
                    <h3 id="links-title">"Links"</h3>
                    <ul class="links">{links.clone().into_iter().map(|l| view! { <li><ExternalLinkView link=l/></li> }).collect_view()}</ul>
                </section>
            })}
            <section class="card" aria-labelledby="relations-title">
                <h3 id="relations-title">"Relations"</h3>
                {if relations.is_empty() {
                    view! { <p class="muted">"No relations."</p> }.into_any()
                } else {
                    view! {
                        <dl class="relations">
                            {relations.into_iter().map(|g| view! {
                                <div>
                                    <dt>{crate::wire::relation_label(&g.relation_type)}</dt>
                                    <dd><ul>{g.targets.into_iter().map(|t| view! { <li><EntityLinkView link=t/></li> }).collect_view()}</ul></dd>
                                </div>
                            }).collect_view()}
                        </dl>
                    }.into_any()
                }}
            </section>
        </div>
        {(!graph_groups.is_empty()).then(|| view! {
            <section class="card" aria-labelledby="graph-title">
                <h3 id="graph-title">"Relations graph"</h3>
                <RelationsGraph center=graph_center groups=graph_groups/>
            </section>
        })}
        <KindSections detail=kind_detail/>
        <section class="card" aria-labelledby="metadata-title">
            <h3 id="metadata-title">"Labels and annotations"</h3>
            <KeyValueTable caption="Labels" rows=labels/>
            <KeyValueTable caption="Annotations" rows=annotations/>
        </section>
    }
}

#[component]
fn KeyValueTable(caption: &'static str, rows: Vec<(String, String)>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">{format!("No {}.", caption.to_lowercase())}</p> }
            .into_any();
    }
    view! {
        <table class="kv">
            <caption>{caption}</caption>
            <tbody>
                {rows.into_iter().map(|(k, v)| view! { <tr><th scope="row"><code>{k}</code></th><td>{v}</td></tr> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ExternalLinkView(link: ExternalLink) -> impl IntoView {
    let glyph = match link.icon.as_deref() {
        Some("dashboard") => "▦",
        Some("docs") | Some("doc") => "§",
        Some("github") | Some("git") => "⎇",
        Some("chat") => "✉",
        Some("alert") => "⚠",
        Some("email") => "@",
        Some("web") => "⌂",
        Some("catalog") => "☰",
        _ => "↗",
    };
    match crate::components::safe_url::external_href(&link.url) {
        Some(href) => view! {
            <a href=href rel="noopener noreferrer" target="_blank">
                <span class="link-icon" aria-hidden="true">{glyph}</span>
                {link.title}
            </a>
        }
        .into_any(),
        // Not an http(s) URL: shown, never followed.
        None => view! {
            <span class="link-rejected" title="Not an http(s) link, so it is not clickable">
                <span class="link-icon" aria-hidden="true">{glyph}</span>
                {link.title}" "<code>{link.url}</code>
            </span>
        }
        .into_any(),
    }
}

/// The Kubernetes tab.
#[component]
pub fn KubernetesTab() -> impl IntoView {
    with_entity(|e| view! { <crate::pages::kubernetes::KubernetesTabView entity=e/> })
}

/// A Component's API tab.
#[component]
pub fn ApiTab() -> impl IntoView {
    with_entity(|e| view! { <crate::pages::entity_kinds::ComponentApis entity=e/> })
}

/// A Component's Dependencies tab.
#[component]
pub fn DependenciesTab() -> impl IntoView {
    with_entity(|e| view! { <crate::pages::entity_kinds::ComponentDependencies entity=e/> })
}

/// An API's Definition tab.
#[component]
pub fn DefinitionTab() -> impl IntoView {
    with_entity(|e| view! { <crate::pages::api_definition::DefinitionTab entity=e/> })
}

/// A System's Diagram tab: the relations graph, large, with its links listed.
#[component]
pub fn DiagramTab() -> impl IntoView {
    with_entity(|e| {
        let center = EntityLink {
            label: e.title.clone().unwrap_or_else(|| e.name.clone()),
            ..e.link.clone()
        };
        let groups = e.relations.clone();
        view! {
            <h2 class="visually-hidden">"Diagram"</h2>
            <section class="card" aria-labelledby="diagram-title">
                <h3 id="diagram-title">"System diagram"</h3>
                {if groups.is_empty() {
                    view! { <p class="muted">"No relations."</p> }.into_any()
                } else {
                    view! { <RelationsGraph center groups/> }.into_any()
                }}
            </section>
        }
    })
}
