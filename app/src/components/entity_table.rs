//! A compact table of related entities (a System's components, an API's providers, ...), with
//! a caption and a sentence when there are none.

use leptos::prelude::*;

use crate::components::entity_link::EntityLinkView;
use crate::wire::EntityRow;

/// `rows` under the heading `title`; `empty` when there are none.
#[component]
pub fn RelatedTable(
    /// The card's heading.
    title: &'static str,
    /// What to say when there are no rows.
    empty: &'static str,
    /// The rows.
    rows: Vec<EntityRow>,
) -> impl IntoView {
    let id = format!("related-{}", title.to_lowercase().replace(' ', "-"));
    let heading_id = id.clone();
    view! {
        <section class="card related" aria-labelledby=id.clone()>
            <h3 id=heading_id>{title}</h3>
            {if rows.is_empty() {
                view! { <p class="muted">{empty}</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                        <table class="entities compact">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Kind"</th>
                                    <th scope="col">"Type"</th>
                                    <th scope="col">"Owner"</th>
                                    <th scope="col">"Lifecycle"</th>
                                    <th scope="col">"Description"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|row| {
                                    let link = crate::wire::EntityLink {
                                        label: row.title.clone().unwrap_or_else(|| row.link.label.clone()),
                                        ..row.link
                                    };
                                    view! {
                                        <tr>
                                            <td><EntityLinkView link/></td>
                                            <td>{row.kind}</td>
                                            <td>{row.entity_type.unwrap_or_default()}</td>
                                            <td>{row.owner.map(|o| view! { <EntityLinkView link=o/> })}</td>
                                            <td>{row.lifecycle.unwrap_or_default()}</td>
                                            <td class="description">{row.description.unwrap_or_default()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
