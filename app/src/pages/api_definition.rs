//! An API's Definition tab: the definition rendered for people (OpenAPI operations and schemas,
//! AsyncAPI channels and messages, GraphQL types, highlighted `.proto`), with the raw text
//! beneath. Everything is `<details>`, so it reads and folds without JavaScript.
//!
//! The rendering is turned into HTML on the server ([`rendered_html`], by these components and
//! Leptos's escaping renderer) and shipped as a string: the browser bundle holds neither the
//! rendering components nor the types they read, only the tab that places the HTML.

use leptos::prelude::*;

use crate::wire::{ApiDefinition, EntityDetail};
#[cfg(feature = "ssr")]
use crate::wire::{
    ApiInfo, ApiOperation, AsyncApiDoc, OpenApiDoc, RenderedDefinition, SchemaField, SchemaType,
    SourceToken, TokenClass,
};

/// `rendered` as HTML (the server's half of the Definition tab).
#[cfg(feature = "ssr")]
pub fn rendered_html(rendered: RenderedDefinition) -> String {
    use leptos::tachys::view::RenderHtml;
    let owner = Owner::new();
    owner.with(|| {
        match rendered {
            RenderedDefinition::OpenApi(doc) => view! { <OpenApi doc/> }.into_any(),
            RenderedDefinition::AsyncApi(doc) => view! { <AsyncApi doc/> }.into_any(),
            RenderedDefinition::GraphQl(types) => view! {
                <section class="card definition" aria-labelledby="types-title">
                    <h3 id="types-title">"Types"</h3>
                    <Types types/>
                </section>
            }
            .into_any(),
            RenderedDefinition::Source(tokens) => view! {
                <section class="card definition" aria-labelledby="source-title">
                    <h3 id="source-title">"Definition source"</h3>
                    <Source tokens/>
                </section>
            }
            .into_any(),
        }
        .to_html()
    })
}

/// The Definition tab of an API.
#[component]
pub fn DefinitionTab(entity: EntityDetail) -> impl IntoView {
    match entity.definition {
        Some(d) => view! { <Definition definition=d/> }.into_any(),
        None => view! {
            <h2 class="visually-hidden">"Definition"</h2>
            <p class="muted">"This entity has no API definition (spec.definition)."</p>
        }
        .into_any(),
    }
}

#[component]
fn Definition(definition: ApiDefinition) -> impl IntoView {
    let ApiDefinition {
        api_type,
        text,
        html,
        problem,
    } = definition;
    let has_rendering = html.is_some();
    view! {
        <h2 class="visually-hidden">"Definition"</h2>
        {problem.map(|p| view! { <p class="banner warning" role="note">{p}</p> })}
        {html.map(|html| view! { <div class="rendered-definition" inner_html=html></div> })}
        {(api_type != "grpc" || !has_rendering).then(|| view! {
            <section class="card definition" aria-labelledby="raw-title">
                <details open=!has_rendering>
                    <summary><h3 id="raw-title">{format!("Definition text ({api_type})")}</h3></summary>
                    <pre tabindex="0"><code>{text}</code></pre>
                </details>
            </section>
        })}
    }
}

#[cfg(feature = "ssr")]
#[component]
fn Info(info: ApiInfo, format: String) -> impl IntoView {
    view! {
        <section class="card api-info" aria-labelledby="api-info-title">
            <h3 id="api-info-title">{info.title}" " <span class="chip">{format!("v{}", info.version)}</span></h3>
            <p class="muted">{format}</p>
            {info.description.map(|d| view! { <p class="description">{d}</p> })}
            {(!info.servers.is_empty()).then(|| view! {
                <h4>"Servers"</h4>
                <ul>{info.servers.into_iter().map(|s| view! { <li><code>{s}</code></li> }).collect_view()}</ul>
            })}
        </section>
    }
}

#[cfg(feature = "ssr")]
#[component]
fn OpenApi(doc: OpenApiDoc) -> impl IntoView {
    let OpenApiDoc {
        version,
        info,
        operations,
        schemas,
    } = doc;
    let count = operations.len();
    view! {
        <Info info format=format!("OpenAPI {version}")/>
        <section class="card operations" aria-labelledby="operations-title">
            <h3 id="operations-title">{format!("Operations ({count})")}</h3>
            {operations.into_iter().map(|op| view! { <Operation op/> }).collect_view()}
        </section>
        {(!schemas.is_empty()).then(|| view! {
            <section class="card" aria-labelledby="schemas-title">
                <h3 id="schemas-title">"Schemas"</h3>
                <Types types=schemas/>
            </section>
        })}
    }
}

#[cfg(feature = "ssr")]
#[component]
fn Operation(op: ApiOperation) -> impl IntoView {
    let method_class = format!("method method-{}", op.method.to_lowercase());
    view! {
        <details class="operation" class:deprecated=op.deprecated>
            <summary>
                <span class=method_class>{op.method.clone()}</span>
                " "<code class="path">{op.path.clone()}</code>
                {op.summary.clone().map(|s| view! { " " <span class="summary">{s}</span> })}
                {op.deprecated.then(|| view! { " " <span class="chip muted">"deprecated"</span> })}
            </summary>
            {op.description.map(|d| view! { <p class="description">{d}</p> })}
            {(!op.parameters.is_empty()).then(|| view! { <Fields caption="Parameters" fields=op.parameters show_place=true/> })}
            {(!op.request_body.is_empty()).then(|| view! {
                <h4>"Request body"</h4>
                <ul>{op.request_body.into_iter().map(|b| view! { <li><code>{b}</code></li> }).collect_view()}</ul>
            })}
            {(!op.responses.is_empty()).then(|| view! {
                <table class="kv">
                    <caption>"Responses"</caption>
                    <tbody>
                        {op.responses.into_iter().map(|(code, text)| view! { <tr><th scope="row"><code>{code}</code></th><td>{text}</td></tr> }).collect_view()}
                    </tbody>
                </table>
            })}
        </details>
    }
}

#[cfg(feature = "ssr")]
#[component]
fn Fields(
    caption: &'static str,
    fields: Vec<SchemaField>,
    #[prop(optional)] show_place: bool,
) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="fields">
                <caption>{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        {show_place.then(|| view! { <th scope="col">"In"</th> })}
                        <th scope="col">"Type"</th>
                        <th scope="col">"Required"</th>
                        <th scope="col">"Description"</th>
                    </tr>
                </thead>
                <tbody>
                    {fields.into_iter().map(|f| view! {
                        <tr>
                            <td><code>{f.name}</code></td>
                            {show_place.then(|| view! { <td>{f.place.clone()}</td> })}
                            <td><code>{f.type_text}</code></td>
                            <td>{if f.required { "yes" } else { "no" }}</td>
                            <td>{f.description.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[cfg(feature = "ssr")]
#[component]
fn Types(types: Vec<SchemaType>) -> impl IntoView {
    types
        .into_iter()
        .map(|t| {
            view! {
                <details class="schema-type">
                    <summary><span class="chip">{t.kind}</span>" "<code>{t.name}</code></summary>
                    {t.description.map(|d| view! { <p class="description">{d}</p> })}
                    {(!t.fields.is_empty()).then(|| view! { <Fields caption="Fields" fields=t.fields/> })}
                </details>
            }
        })
        .collect_view()
}

#[cfg(feature = "ssr")]
#[component]
fn AsyncApi(doc: AsyncApiDoc) -> impl IntoView {
    let AsyncApiDoc {
        version,
        info,
        channels,
    } = doc;
    view! {
        <Info info format=format!("AsyncAPI {version}")/>
        <section class="card channels" aria-labelledby="channels-title">
            <h3 id="channels-title">{format!("Channels ({})", channels.len())}</h3>
            {channels.into_iter().map(|c| view! {
                <details class="channel" open=true>
                    <summary>
                        <code>{c.name}</code>
                        {c.actions.into_iter().map(|a| view! { " " <span class="chip">{a}</span> }).collect_view()}
                    </summary>
                    {c.description.map(|d| view! { <p class="description">{d}</p> })}
                    <Types types=c.messages/>
                </details>
            }).collect_view()}
        </section>
    }
}

#[cfg(feature = "ssr")]
#[component]
fn Source(tokens: Vec<SourceToken>) -> impl IntoView {
    view! {
        <pre class="source" tabindex="0"><code>
            {tokens.into_iter().map(|t| {
                let class = match t.class {
                    TokenClass::Plain => "",
                    TokenClass::Keyword => "tok-keyword",
                    TokenClass::Type => "tok-type",
                    TokenClass::Str => "tok-string",
                    TokenClass::Number => "tok-number",
                    TokenClass::Comment => "tok-comment",
                };
                view! { <span class=class>{t.text}</span> }
            }).collect_view()}
        </code></pre>
    }
}
