//! What each kind's page adds (Backstage's default entity pages): the tab bar per kind, a
//! Group's and a User's profile and ownership cards, a System's parts, a Domain's systems, a
//! Resource's dependents, an API's providers and consumers, a Component's API and Dependencies
//! tabs, and every `spec` field of a kind without a page of its own.

use leptos::prelude::*;

use crate::components::entity_link::EntityLinkView;
use crate::components::entity_table::RelatedTable;
use crate::components::safe_url::external_href;
use crate::components::tabs::Tab;
use crate::wire::{EntityDetail, KindDetail, Member, Ownership, Profile};

/// The tabs of an entity's page, as Backstage's default app shows them for its kind: Overview
/// always; Kubernetes where the entity carries the annotations (for Groups, Systems and Domains:
/// their components' health); API and Dependencies for
/// Components; Definition for APIs; Diagram for Systems.
pub fn tabs_for(entity: &EntityDetail) -> Vec<Tab> {
    let base = entity.link.href.clone();
    let tab = |label: &'static str, path: &str| Tab {
        label,
        href: if path.is_empty() {
            base.clone()
        } else {
            format!("{base}/{path}")
        },
    };
    let mut tabs = vec![tab("Overview", "")];
    let fleet = matches!(
        entity.kind_detail,
        KindDetail::Group { .. } | KindDetail::System { .. } | KindDetail::Domain { .. }
    );
    if entity.has_kubernetes_annotation || fleet {
        tabs.push(tab("Kubernetes", "kubernetes"));
    }
    match &entity.kind_detail {
        KindDetail::Component { .. } => {
            tabs.push(tab("API", "api"));
            tabs.push(tab("Dependencies", "dependencies"));
        }
        KindDetail::Api { .. } => tabs.push(tab("Definition", "definition")),
        KindDetail::System { .. } => tabs.push(tab("Diagram", "diagram")),
        _ => {}
    }
    tabs
}

/// The overview cards only some kinds have (after the about card).
#[component]
pub fn KindSections(detail: KindDetail) -> impl IntoView {
    match detail {
        KindDetail::System {
            components,
            apis,
            resources,
        } => view! {
            <RelatedTable title="Components" empty="No components are part of this system." rows=components/>
            <RelatedTable title="APIs" empty="No APIs are part of this system." rows=apis/>
            <RelatedTable title="Resources" empty="No resources are part of this system." rows=resources/>
        }
        .into_any(),
        KindDetail::Domain { systems } => view! {
            <RelatedTable title="Systems" empty="No systems are part of this domain." rows=systems/>
        }
        .into_any(),
        KindDetail::Resource { dependents } => view! {
            <RelatedTable title="Depended on by" empty="Nothing in the catalog depends on this resource." rows=dependents/>
        }
        .into_any(),
        KindDetail::Api {
            providers,
            consumers,
        } => view! {
            <RelatedTable title="Providers" empty="No component provides this API." rows=providers/>
            <RelatedTable title="Consumers" empty="No component consumes this API." rows=consumers/>
        }
        .into_any(),
        KindDetail::Other { spec } => view! {
            <section class="card" aria-labelledby="spec-title">
                <h3 id="spec-title">"Spec"</h3>
                {if spec.is_empty() {
                    view! { <p class="muted">"This entity has no spec."</p> }.into_any()
                } else {
                    view! {
                        <table class="kv">
                            <caption class="visually-hidden">"Every spec field"</caption>
                            <tbody>
                                {spec.into_iter().map(|(k, v)| view! { <tr><th scope="row"><code>{k}</code></th><td>{v}</td></tr> }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </section>
        }
        .into_any(),
        _ => ().into_any(),
    }
}

/// A Component's API tab: the APIs it provides and consumes.
#[component]
pub fn ComponentApis(entity: EntityDetail) -> impl IntoView {
    match entity.kind_detail {
        KindDetail::Component {
            provided_apis,
            consumed_apis,
            ..
        } => view! {
            <h2 class="visually-hidden">"API"</h2>
            <RelatedTable title="Provided APIs" empty="This component provides no APIs (spec.providesApis)." rows=provided_apis/>
            <RelatedTable title="Consumed APIs" empty="This component consumes no APIs (spec.consumesApis)." rows=consumed_apis/>
        }
        .into_any(),
        _ => view! { <p class="muted">"Only components have an API tab."</p> }.into_any(),
    }
}

/// A Component's Dependencies tab.
#[component]
pub fn ComponentDependencies(entity: EntityDetail) -> impl IntoView {
    match entity.kind_detail {
        KindDetail::Component {
            depends_on,
            dependents,
            ..
        } => view! {
            <h2 class="visually-hidden">"Dependencies"</h2>
            <RelatedTable title="Depends on" empty="This component depends on nothing in the catalog (spec.dependsOn)." rows=depends_on/>
            <RelatedTable title="Depended on by" empty="Nothing in the catalog depends on this component." rows=dependents/>
        }
        .into_any(),
        _ => view! { <p class="muted">"Only components have a Dependencies tab."</p> }.into_any(),
    }
}

/// Profile card of a Group or User: picture, display name, email, and the places in the
/// organisation (`rows`).
#[component]
fn ProfileCard(
    heading: String,
    profile: Profile,
    description: Option<String>,
    children: Children,
) -> impl IntoView {
    let picture = profile.picture.as_deref().and_then(external_href);
    let initial = heading
        .chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    view! {
        <section class="card profile" aria-labelledby="profile-title">
            <div class="profile-head">
                {match picture {
                    Some(src) => view! { <img class="avatar large" src=src alt="" width="56" height="56"/> }.into_any(),
                    None => view! { <span class="avatar large" aria-hidden="true">{initial}</span> }.into_any(),
                }}
                <div>
                    <h3 id="profile-title">{heading}</h3>
                    {profile.email.map(|email| view! {
                        <p class="profile-email"><a href=format!("mailto:{email}")>{email.clone()}</a></p>
                    })}
                </div>
            </div>
            {description.map(|d| view! { <p class="description">{d}</p> })}
            <dl class="about-grid">{children()}</dl>
        </section>
    }
}

/// The ownership card: counts by kind and type, each a link to that slice of the catalog.
#[component]
fn OwnershipCard(owned: Vec<Ownership>) -> impl IntoView {
    let many = owned.len() > 1;
    let empty = owned.iter().all(|o| o.counts.is_empty());
    view! {
        <section class="card ownership" aria-labelledby="ownership-title">
            <h3 id="ownership-title">"Ownership"</h3>
            {if empty {
                view! { <p class="muted">"Owns nothing in the catalog."</p> }.into_any()
            } else {
                owned.into_iter().enumerate().filter(|(_, o)| !o.counts.is_empty()).map(|(i, o)| view! {
                    {many.then(|| if i == 0 {
                        view! { <h4>"Directly"</h4> }.into_any()
                    } else {
                        view! { <h4>"Through " <EntityLinkView link=o.owner.clone()/></h4> }.into_any()
                    })}
                    <ul class="ownership-counts">
                        {o.counts.into_iter().map(|c| {
                            let what = match &c.entity_type {
                                Some(t) => format!("{} {}", t, c.kind.to_lowercase()),
                                None => c.kind.to_lowercase(),
                            };
                            let plural = if c.count == 1 { "" } else { "s" };
                            view! {
                                <li>
                                    <a href=c.href>
                                        <span class="count">{c.count}</span>
                                        <span class="what">{format!("{what}{plural}")}</span>
                                    </a>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }).collect_view().into_any()
            }}
        </section>
    }
}

fn member_item(m: Member) -> impl IntoView {
    let name = m
        .profile
        .display_name
        .clone()
        .unwrap_or_else(|| m.link.label.clone());
    let picture = m.profile.picture.as_deref().and_then(external_href);
    let initial = name
        .chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    view! {
        <li class="member">
            {match picture {
                Some(src) => view! { <img class="avatar" src=src alt="" width="32" height="32"/> }.into_any(),
                None => view! { <span class="avatar" aria-hidden="true">{initial}</span> }.into_any(),
            }}
            <span>
                <EntityLinkView link=crate::wire::EntityLink { label: name, ..m.link }/>
                {m.profile.email.map(|e| view! { <br/><a class="muted" href=format!("mailto:{e}")>{e.clone()}</a> })}
            </span>
        </li>
    }
}

/// A Group's or User's overview; `None` for other kinds (they get the about card).
pub fn people_overview(entity: &EntityDetail) -> Option<AnyView> {
    let heading_of = |p: &Profile| {
        p.display_name
            .clone()
            .or_else(|| entity.title.clone())
            .unwrap_or_else(|| entity.name.clone())
    };
    let description = entity.description.clone();
    let group_type = entity.entity_type.clone().unwrap_or_else(|| "—".into());
    match entity.kind_detail.clone() {
        KindDetail::Group {
            profile,
            parent,
            children,
            members,
            ownership,
        } => {
            let heading = heading_of(&profile);
            let count = members.len();
            Some(view! {
                <div class="cards">
                    <ProfileCard heading profile description>
                        <div><dt>"Type"</dt><dd>{group_type}</dd></div>
                        <div><dt>"Parent group"</dt><dd>{parent.map(|p| view! { <EntityLinkView link=p/> }.into_any()).unwrap_or_else(|| "—".into_any())}</dd></div>
                        <div class="wide"><dt>"Child groups"</dt><dd>
                            {if children.is_empty() {
                                "—".into_any()
                            } else {
                                view! { <ul class="inline-list">{children.into_iter().map(|c| view! { <li><EntityLinkView link=c/></li> }).collect_view()}</ul> }.into_any()
                            }}
                        </dd></div>
                    </ProfileCard>
                    <OwnershipCard owned=vec![ownership]/>
                </div>
                <section class="card members" aria-labelledby="members-title">
                    <h3 id="members-title">{format!("Members ({count})")}</h3>
                    {if count == 0 {
                        view! { <p class="muted">"This group has no members."</p> }.into_any()
                    } else {
                        view! { <ul class="member-list">{members.into_iter().map(member_item).collect_view()}</ul> }.into_any()
                    }}
                </section>
            }
            .into_any())
        }
        KindDetail::User {
            profile,
            groups,
            ownership,
        } => {
            let heading = heading_of(&profile);
            Some(view! {
                <div class="cards">
                    <ProfileCard heading profile description>
                        <div class="wide"><dt>"Member of"</dt><dd>
                            {if groups.is_empty() {
                                "—".into_any()
                            } else {
                                view! { <ul class="inline-list">{groups.into_iter().map(|g| view! { <li><EntityLinkView link=g/></li> }).collect_view()}</ul> }.into_any()
                            }}
                        </dd></div>
                    </ProfileCard>
                    <OwnershipCard owned=ownership/>
                </div>
            }
            .into_any())
        }
        _ => None,
    }
}
